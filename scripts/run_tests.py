"""``make test``: the Odoo-free tests, then the Odoo suite on a throw-away cluster.

The Odoo suite runs with pytest-odoo against real Odoo and PostgreSQL: a new
cluster in a temporary directory, the addon installed in a new database, the
tests (HttpCase and browser tours included), and the cluster removed. Where
Odoo cannot be imported, the suite does not run: the last line says so, with
how many tests that leaves out and why, and the run still succeeds unless
``REQUIRE_ODOO=1`` (for machines where the whole suite is mandatory; there a
missing browser fails the run too). The last line counts every test.

Arguments after ``--`` go to both pytest runs (e.g. ``-k token -x``).
"""

import argparse
import ast
import importlib.util
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

from devenv import BUILD, MODULE, ROOT, install_module, odoo_unavailable_reason, throwaway_odoo

LIBRARY_TESTS = ROOT / "booking_feed" / "tests"
REPORTS = BUILD / "test-reports"
TEST_DATABASE = "external_calendar_test"


def pytest(*args, report):
    command = [sys.executable, "-m", "pytest", f"--junitxml={report}", *args]
    return subprocess.run(command, check=False).returncode


def browser_unavailable_reason():
    if not shutil.which("chromium") and not shutil.which("google-chrome"):
        return "no Chromium (apt-get install chromium)"
    if importlib.util.find_spec("websocket") is None:
        return "no websocket-client (pip install websocket-client)"
    return None


def run_odoo_suite(pytest_args, report):
    with throwaway_odoo("ext-cal-test-") as (config, _cluster):
        print(f"Installing {MODULE} in a new database on a throw-away cluster...", flush=True)
        # With demo data, so the tests also prove the demo loads (Odoo only warns if it does not).
        install_module(config, TEST_DATABASE, "--with-demo")
        return pytest(
            "-c",
            str(ROOT / "tests" / "pytest.ini"),
            "--rootdir",
            str(BUILD / "addons"),
            f"--odoo-config={config}",
            f"--odoo-database={TEST_DATABASE}",
            "--odoo-http",
            str(BUILD / "addons" / MODULE / "tests"),
            *pytest_args,
            report=report,
        )


def count_odoo_tests():
    """How many test methods the Odoo suite has, read from its source (Odoo need not be importable)."""
    methods = 0
    for path in (ROOT / "tests").glob("test_*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef):
                methods += sum(
                    isinstance(item, ast.FunctionDef) and item.name.startswith("test_") for item in node.body
                )
    return methods


def count(reports):
    """Tally test cases from JUnit reports, the way pytest's own summary does."""
    totals = {"passed": 0, "failed": 0, "skipped": 0}
    for report in reports:
        if not report.exists():
            continue
        for case in ET.parse(report).getroot().iter("testcase"):
            outcomes = {child.tag for child in case}
            if outcomes & {"failure", "error"}:
                totals["failed"] += 1
            elif "skipped" in outcomes:
                totals["skipped"] += 1
            else:
                totals["passed"] += 1
    return totals


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pytest_args", nargs="*", help="extra pytest arguments, after --")
    args = parser.parse_args()

    REPORTS.mkdir(parents=True, exist_ok=True)
    for old in REPORTS.glob("*.xml"):
        old.unlink()
    library_report, odoo_report = REPORTS / "library.xml", REPORTS / "odoo.xml"

    codes = [
        pytest(
            "-c",
            str(LIBRARY_TESTS / "pytest.ini"),
            str(LIBRARY_TESTS),
            *args.pytest_args,
            report=library_report,
        )
    ]
    notes, not_run = [], ""
    if reason := odoo_unavailable_reason():
        not_run = f"; Odoo suite DID NOT RUN ({count_odoo_tests()} tests): {reason}"
    else:
        if reason := browser_unavailable_reason():
            notes.append(f"Browser tours SKIPPED: {reason}")
        codes.append(run_odoo_suite(args.pytest_args, odoo_report))

    totals = count([library_report, odoo_report])
    for note in notes:
        print(note)
    print(
        f"total: {totals['passed']} passed, {totals['failed']} failed, {totals['skipped']} skipped{not_run}"
    )
    # pytest's 5 means "no test collected", which a -k filter may legitimately cause.
    broken = totals["failed"] or any(code not in (0, 5) for code in codes)
    if os.environ.get("REQUIRE_ODOO") == "1" and (not_run or notes):
        print("REQUIRE_ODOO=1: the whole suite, Odoo and browser tours included, must run here.")
        broken = True
    sys.exit(1 if broken else 0)


if __name__ == "__main__":
    main()
