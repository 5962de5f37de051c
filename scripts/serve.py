"""``make run`` / ``make stop`` / ``make clean``: Odoo with the addon and demo data, for trying it out.

Everything lives under the ignored ``.local/`` folder: a durable PostgreSQL
cluster kept between runs (the first real bookings may land there), Odoo's
filestore, its log and pid file. The database is created (addon and demo
data installed) on the first run only.

As root, PostgreSQL runs as the ``postgres`` user, which cannot enter a
checkout under a 0700 directory (root's home is one). There the cluster
lives in the ``postgres`` user's home instead, in a folder named after the
checkout, and ``make clean`` removes it too.
"""

import argparse
import hashlib
import os
import pwd
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from contextlib import suppress
from pathlib import Path

from devenv import (
    MODULE,
    ROOT,
    PostgresCluster,
    install_module,
    odoo_command,
    odoo_unavailable_reason,
    write_odoo_config,
)

LOCAL = ROOT / ".local"
DATABASE = "external_calendar"
PID_FILE = LOCAL / "odoo.pid"
LOG_FILE = LOCAL / "odoo.log"
PORT = int(os.environ.get("ODOO_PORT", "8069"))
BASE_URL = f"http://localhost:{PORT}"


def cluster():
    """The cluster of ``make run``: in .local/, unless its owner cannot reach that (see above)."""
    LOCAL.mkdir(exist_ok=True)
    postgres = PostgresCluster(LOCAL / "postgres", durable=True)
    if postgres.owner_can_reach(LOCAL):
        return postgres
    checkout = hashlib.sha256(str(ROOT).encode()).hexdigest()[:12]
    home = Path(pwd.getpwnam(postgres.owner).pw_dir)
    return PostgresCluster(home / "external_calendar_api" / f"{ROOT.name}-{checkout}", durable=True)


def odoo_running():
    if not PID_FILE.exists():
        return False
    try:
        os.kill(int(PID_FILE.read_text()), 0)
    except (OSError, ValueError):
        return False
    return True


def wait_for_login_page(timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{BASE_URL}/web/login", timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(1)
    sys.exit(f"Odoo did not answer on {BASE_URL} within {timeout}s; see {LOG_FILE}")


def feed_urls(postgres):
    """The feed links as the settings page shows them (empty before the endpoint exists)."""
    rows = postgres.psql(
        "SELECT key || '=' || value FROM ir_config_parameter WHERE key LIKE 'external_calendar_api.%'",
        database=DATABASE,
    )
    params = dict(line.split("=", 1) for line in rows.splitlines() if "=" in line)
    token = params.get("external_calendar_api.token")
    if not token:
        return []
    return [f"{BASE_URL}/w/api/v2/public_calendar.{kind}?token={token}" for kind in ("ics", "json")]


def enable_endpoint(postgres):
    """The demo database serves its feeds at once, so the printed links answer."""
    postgres.psql(
        "INSERT INTO ir_config_parameter (key, value, create_uid, write_uid, create_date, write_date) "
        "VALUES ('external_calendar_api.enabled', 'True', 1, 1, now(), now()) "
        "ON CONFLICT (key) DO UPDATE SET value = 'True'",
        database=DATABASE,
    )


def start():
    if reason := odoo_unavailable_reason():
        sys.exit(
            f"Odoo 19 is not available: {reason}.\n"
            "Provide it by running make with a python3 that can import odoo (make PYTHON=...), or set\n"
            "ODOO_SRC to an Odoo 19 source tree, then run `make clean run`."
        )
    postgres = cluster()
    if not postgres.directory.is_relative_to(LOCAL):
        print(
            f"PostgreSQL runs as the {postgres.owner} user, which cannot enter {ROOT} (a parent directory is "
            f"closed to other users, e.g. a 0700 home): its cluster lives in {postgres.directory} instead; "
            "`make clean` removes it."
        )
    postgres.start()
    config = write_odoo_config(
        LOCAL / "odoo.conf", postgres, LOCAL / "filestore", http_port=PORT, logfile=LOG_FILE
    )
    if odoo_running():
        print("Odoo is already running.")
    elif postgres.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE}'"):
        print(f"Updating {MODULE} in {DATABASE}...", flush=True)
        install_module(config, DATABASE, update=True)
    else:
        print(f"Creating database {DATABASE} with {MODULE} and demo data (first run only)...", flush=True)
        install_module(config, DATABASE, "--with-demo")
        enable_endpoint(postgres)
    if not odoo_running():
        process = subprocess.Popen(
            odoo_command(config, "-d", DATABASE, "--db-filter", f"^{DATABASE}$"),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        PID_FILE.write_text(str(process.pid))
    wait_for_login_page()
    print(f"\nOdoo is running: {BASE_URL}/odoo  (login: admin, password: admin)")
    print(f"Rooms: {BASE_URL}/odoo/calendar-rooms")
    urls = feed_urls(postgres)
    for url in urls:
        print(f"Feed: {url}")
    if urls:
        print(f"Settings: {BASE_URL}/odoo/action-external_calendar_api.external_calendar_settings_action")
    print("Stop with: make stop")


def stop():
    if odoo_running():
        pid = int(PID_FILE.read_text())
        os.killpg(pid, signal.SIGTERM)
        for _ in range(50):
            if not odoo_running():
                break
            time.sleep(0.2)
        print("Odoo stopped.")
    PID_FILE.unlink(missing_ok=True)
    postgres = cluster()
    if (postgres.data / "postmaster.pid").exists():
        postgres.stop()
        print("PostgreSQL stopped.")


def clean():
    """Stop, then delete the cluster, filestore and logs (the database with them)."""
    stop()
    postgres = cluster()
    shutil.rmtree(postgres.directory, ignore_errors=True)
    if not postgres.directory.is_relative_to(LOCAL):
        with suppress(OSError):  # the folder of all checkouts' clusters, once empty
            postgres.directory.parent.rmdir()
    shutil.rmtree(LOCAL, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["start", "stop", "clean"])
    {"start": start, "stop": stop, "clean": clean}[parser.parse_args().action]()


if __name__ == "__main__":
    main()
