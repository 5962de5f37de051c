"""``make test``: the Odoo-free tests, then the Odoo suite on a throw-away cluster, twice.

The Odoo suite runs against real Odoo and PostgreSQL, in a new cluster in a
temporary directory, removed after: first with pytest-odoo on a database with
demo data (HttpCase and browser tours included), then with Odoo's own runner
(``-i MODULE --test-enable --test-tags /MODULE``, as Odoo.sh, runbot and OCA
CI run an addon) on a database without demo data, Odoo 19's default; that run
must count exactly the test methods the sources define, so a test module left
out of ``tests/__init__.py`` fails the run. Where
Odoo cannot be imported, the suite does not run: the last line says so, with
how many tests that leaves out and why, and the run still succeeds unless
``REQUIRE_ODOO=1`` (for machines where the whole suite is mandatory; there a
missing browser or axe-core fails the run too). The last line counts every test.

Arguments after ``--`` go to both pytest runs (e.g. ``-k token -x``).
"""

import argparse
import ast
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

from bootstrap_venv import NPM_PREFIX
from devenv import BUILD, MODULE, ROOT, install_module, odoo_command, odoo_unavailable_reason, throwaway_odoo

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


def accessibility_unavailable_reason():
    """Why the axe-core checks of tests/test_accessibility.py will skip, if they will."""
    if not (NPM_PREFIX / "node_modules" / "axe-core" / "axe.min.js").is_file():
        return f"no axe-core in {NPM_PREFIX.relative_to(ROOT)} (scripts/bootstrap_venv.py installs it)"
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


def unimported_test_modules():
    """Test modules that ``tests/__init__.py`` does not import: Odoo's runner would never run them."""
    tree = ast.parse((ROOT / "tests" / "__init__.py").read_text())
    imported = {
        alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) for alias in node.names
    }
    return sorted(path.stem for path in (ROOT / "tests").glob("test_*.py") if path.stem not in imported)


def run_odoo_runner(report_log, with_demo=False):
    """Odoo's own runner on a new database, without demo data unless ``with_demo``; returns
    (exit code, tests run, skipped)."""
    report_log.unlink(missing_ok=True)  # Odoo appends to its log file
    with throwaway_odoo("ext-cal-runner-") as (config, _cluster):
        demo = "with" if with_demo else "without"
        print(f"Odoo's own test runner: {MODULE} on a new database {demo} demo data...", flush=True)
        options = ["-d", f"{TEST_DATABASE}_runner", "-i", MODULE, "--test-enable", f"--test-tags=/{MODULE}"]
        options += ["--with-demo"] if with_demo else []
        options += ["--stop-after-init", "--log-level=test", f"--logfile={report_log}"]
        code = subprocess.run(odoo_command(config, *options), check=False).returncode
    log = report_log.read_text()
    # Odoo's own stats count subtests too: count each test started instead.
    run = len(set(re.findall(rf"odoo\.addons\.{MODULE}\.tests\.\S+: Starting (\S+)", log)))
    skipped = len(set(re.findall(rf"odoo\.addons\.{MODULE}\.tests\.\S+: skipped (\S+)", log)))
    for line in log.splitlines():
        if " ERROR " in line or " CRITICAL " in line or "FAIL:" in line:
            print(line)
    return code, run, skipped


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
    parser.add_argument(
        "--runner-with-demo", action="store_true", help="run Odoo's own runner on a database with demo data"
    )
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
    if unimported := unimported_test_modules():
        print(f"tests/__init__.py does not import {', '.join(unimported)}: Odoo's runner would skip them")
        codes.append(1)
    if reason := odoo_unavailable_reason():
        not_run = f"; Odoo suite DID NOT RUN ({count_odoo_tests()} tests): {reason}"
    else:
        if reason := browser_unavailable_reason():
            notes.append(f"Browser tours SKIPPED: {reason}")
        if reason := accessibility_unavailable_reason():
            notes.append(f"Accessibility checks (axe-core) SKIPPED: {reason}")
        codes.append(run_odoo_suite(args.pytest_args, odoo_report))
        if not args.pytest_args:  # a -k selection is for pytest-odoo only
            code, run, skipped = run_odoo_runner(REPORTS / "odoo-runner.log", args.runner_with_demo)
            defined = count_odoo_tests()
            summary = f"{run} of {defined} tests run, {skipped} skipped, exit code {code}"
            notes.append(f"Odoo's runner, {'with' if args.runner_with_demo else 'no'} demo data: {summary}")
            codes.append(code if run == defined else 1)

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
