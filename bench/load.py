"""``make bench-load``: many calendar servers polling the feed while it changes, on two Odoo servers.

Starts a throw-away PostgreSQL with N bookings and two Odoo servers in
multi-worker (prefork) mode on that one database, as integrators deploy
behind a proxy, each with a cron worker:

- the *poll server* answers P concurrent pollers. Each poller behaves like
  a calendar server: one full GET of the ICS feed, then revalidations with
  If-None-Match (mostly 304), and every tenth request a one-room feed, each
  on a new connection;
- meanwhile an editor works on the *edit server* over JSON-RPC, as the
  admin, to a fixed plan: it renames a booking 12 times, half a second
  apart, presses Refresh twice, and twice fires the hourly cron on both
  servers at once (a trigger row and the NOTIFY Odoo's cron workers listen
  to), waiting each time until it has run.

The pollers poll until the editor's plan is done and at least ``--seconds``
have passed (each at most ``--max-requests`` times).

It prints requests/s, latency percentiles and errors (anything but 200/304,
or a failed connection), then what the two servers built, and checks that
no ETag was ever served with two different bodies and that each cron
firing ran exactly once (it built, or found another build under way and
came back later). It exits non-zero if any check fails.

Usage: ``make bench-load`` or ``make bench-load ARGS="--pollers 50 --seconds 10"``.
"""

import argparse
import hashlib
import http.client
import json
import re
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "scripts"), str(ROOT)]

from devenv import MODULE, odoo_command  # noqa: E402

from bench.run import FAST_HELP, populated_odoo  # noqa: E402
from booking_feed.tests import fresh_reads  # noqa: E402

DATABASE = "bench_load"
POLL_PORT = 8072
EDIT_PORT = 8073
HOST = "127.0.0.1"  # loopback only
CRON_XMLID = "ir_cron_external_calendar_refresh"
BUILD_LOG = re.compile(r"External calendar feed \d+: (full|incremental) build, \d+ events, ([\d.]+) s")
CRON_BUILD_LOG = "hourly full build"
CRON_DEFERRED_LOG = "another build is under way"
EDIT_INTERVAL = 0.5
#: The editor's plan, in steps: it renames a booking at each step, presses Refresh or fires
#: the cron after some of them. The pollers keep polling until the plan is done.
EDIT_STEPS = 12
REFRESH_AFTER = (4, 9)
CRON_AFTER = (6, 12)
EDITOR_TIMEOUT = 300


class Poller(threading.Thread):
    def __init__(self, path, stop, max_requests, results):
        super().__init__(daemon=True)
        self.path, self.stop, self.max_requests, self.results = path, stop, max_requests, results

    def run(self):
        # A new connection per poll, as calendar servers fetch a feed once per interval.
        # (Keeping one open would pin one of Odoo's prefork workers to one poller.)
        etag = None
        for number in range(self.max_requests):
            if self.stop.is_set():
                break
            path = f"{self.path}&room=R1" if number % 10 == 9 else self.path
            headers = {"Connection": "close"} | (
                {"If-None-Match": etag} if etag and path == self.path else {}
            )
            start = time.perf_counter()
            connection = http.client.HTTPConnection(HOST, POLL_PORT, timeout=60)
            answer_etag, body = None, b""
            try:
                connection.request("GET", path, headers=headers)
                response = connection.getresponse()
                body = response.read()
                status = response.status
                answer_etag = response.getheader("ETag")
                if status == 200 and path == self.path:
                    etag = answer_etag
            except (OSError, http.client.HTTPException) as error:
                status = type(error).__name__
            finally:
                connection.close()
            digest = hashlib.sha256(body).hexdigest() if status == 200 else None
            self.results.append((time.perf_counter() - start, status, len(body), answer_etag, digest))


class Editor(threading.Thread):
    """The admin at work on the edit server, and the hourly cron fired on both servers at once."""

    def __init__(self, booking_ids, fire_cron):
        super().__init__(daemon=True)
        self.booking_ids, self.fire_cron = booking_ids, fire_cron
        self.done = Counter()
        self.error = None

    def call(self, model, method, *args):
        return rpc("object", "execute_kw", DATABASE, self.uid, "admin", model, method, list(args))

    def run(self):
        try:
            self.uid = rpc("common", "login", DATABASE, "admin", "admin")
            for step in range(1, EDIT_STEPS + 1):
                booking = self.booking_ids[step % len(self.booking_ids)]
                self.call("calendar.event", "write", [booking], {"name": f"Edited during the load {step}"})
                self.done["edits"] += 1
                if step in REFRESH_AFTER:
                    settings = self.call("res.config.settings", "create", {})
                    self.call("res.config.settings", "action_external_calendar_refresh", [settings])
                    self.done["refreshes"] += 1
                if step in CRON_AFTER:
                    self.fire_cron()
                    self.done["cron firings"] += 1
                time.sleep(EDIT_INTERVAL)
        except Exception as error:  # reported, and the run fails
            self.error = error


def rpc(service, method, *args):
    """One JSON-RPC call to the edit server."""
    payload = {
        "jsonrpc": "2.0",
        "method": "call",
        "params": {"service": service, "method": method, "args": args},
    }
    connection = http.client.HTTPConnection(HOST, EDIT_PORT, timeout=120)
    try:
        connection.request("POST", "/jsonrpc", json.dumps(payload), {"Content-Type": "application/json"})
        reply = json.loads(connection.getresponse().read())
    finally:
        connection.close()
    if "error" in reply:
        raise RuntimeError(reply["error"].get("data", {}).get("message", reply["error"]))
    return reply.get("result")  # Odoo leaves out a null result


def cron_firer(cron_id):
    """Fire the cron as Odoo's scheduler does, for every server's cron worker at once; wait for its run."""
    import odoo.sql_db  # noqa: PLC0415

    def fire():
        with odoo.sql_db.db_connect(DATABASE).cursor() as cr:
            # To the second, as Odoo's _trigger() stores it: a run deletes the triggers due by its
            # start, itself to the second, so a trigger with microseconds fired in the second a run
            # starts outlived it and fired the cron once more.
            cr.execute("INSERT INTO ir_cron_trigger (cron_id, call_at) "
                       "VALUES (%s, date_trunc('second', now() AT TIME ZONE 'UTC')) RETURNING call_at",
                       [cron_id])  # fmt: skip
            fired_at = cr.fetchone()[0]
        with odoo.sql_db.db_connect("postgres").cursor() as cr:
            cr.execute("SELECT pg_notify('cron_trigger', %s)", [DATABASE])
        for _ in range(600):
            time.sleep(0.1)
            with odoo.sql_db.db_connect(DATABASE).cursor() as cr:
                # A deferred run leaves a trigger minutes ahead: only this firing's must be gone.
                cr.execute("SELECT count(*) FROM ir_cron_trigger WHERE cron_id = %s AND call_at <= %s",
                           [cron_id, fired_at])  # fmt: skip
                if not cr.fetchone()[0]:
                    return
        raise RuntimeError("the cron did not run within a minute of its firing")

    return fire


def wait_for_server(port, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection(HOST, port, timeout=5)
            connection.request("GET", "/web/login")
            if connection.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"Odoo did not answer on {HOST}:{port}")


def start_server(config, port, workers, logfile):
    return subprocess.Popen(
        odoo_command(config, "-d", DATABASE, "--db-filter", f"^{DATABASE}$", "--http-port", str(port),
                     "--workers", str(workers), "--max-cron-threads", "1", "--logfile", str(logfile),
                     "--log-level=warn", "--log-handler", "odoo.addons.external_calendar_api:INFO"),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


def run_load(config, args, logs, *, token, booking_ids, cron_id, fresh):
    """Both servers, the pollers and the editor, then the read-your-writes rounds (``fresh``: the
    key and booking they use); returns (poll results, seconds, editor, log offsets, stale answers)."""
    servers = [
        start_server(config, POLL_PORT, args.workers, logs["poll server"]),
        start_server(config, EDIT_PORT, 2, logs["edit server"]),
    ]
    try:
        wait_for_server(POLL_PORT)
        wait_for_server(EDIT_PORT)
        path = f"/w/api/v2/public_calendar.ics?token={token}"
        warm = http.client.HTTPConnection(HOST, POLL_PORT, timeout=120)
        warm.request("GET", path)  # the first request builds the feed
        warm_status = warm.getresponse().status
        assert warm_status == 200, warm_status
        log_starts = {name: log.stat().st_size for name, log in logs.items()}
        results = []
        stop = threading.Event()
        pollers = [Poller(path, stop, args.max_requests, results) for _ in range(args.pollers)]
        editor = Editor(booking_ids, cron_firer(cron_id))
        started = time.perf_counter()
        for thread in [editor, *pollers]:
            thread.start()
        editor.join(EDITOR_TIMEOUT)
        time.sleep(max(0.0, started + args.seconds - time.perf_counter()))
        stop.set()
        for poller in pollers:
            poller.join(120)
        elapsed = time.perf_counter() - started
        stale = read_your_writes(args.rounds, token, fresh)
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait()
    return results, elapsed, editor, log_starts, stale


def read_your_writes(rounds, token, fresh):
    """The read-your-writes rounds: renames on the edit server, reads on the poll server."""
    uid = rpc("common", "login", DATABASE, "admin", "admin")

    def rename(title):
        rpc("object", "execute_kw", DATABASE, uid, "admin", "calendar.event", "write",
            [[fresh["booking"]["id"]], {"name": title}])  # fmt: skip

    readers = fresh_reads.Readers(POLL_PORT, token, fresh["key_token"], fresh["booking"])
    return fresh_reads.read_your_writes(rename, readers, rounds)


def fresh_read_subjects(env):
    """A booking tomorrow or later, alone in its series, and a key for its room (read-your-writes)."""
    from odoo.fields import Datetime  # noqa: PLC0415

    booking = env["calendar.event"].search(
        [
            ("room_ids", "!=", False),
            ("recurrency", "=", False),
            ("start", ">", Datetime.now() + timedelta(days=1)),
        ],
        order="start",
        limit=1,
    )
    room = booking.room_ids[:1]
    key = env["calendar.feed.key"].generate({"name": "Read-your-writes", "room_ids": [(6, 0, room.ids)]})
    return {"booking": {"id": booking.id, "room_code": room.code}, "key_token": key["token"]}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bookings", type=int, default=10_000)
    parser.add_argument("--pollers", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=20.0, help="how long the pollers run at least")
    parser.add_argument("--max-requests", type=int, default=200, help="requests per poller at most")
    # Odoo's prefork server listens with a backlog of 8 connections per worker: 200 pollers
    # arriving at once need 25 workers (idle workers cost memory, not CPU), or a reverse proxy.
    parser.add_argument("--workers", type=int, default=25, help="HTTP worker processes of the poll server")
    parser.add_argument("--rounds", type=int, default=50, help="read-your-writes rounds")
    parser.add_argument("--fast", action="store_true", help=FAST_HELP)
    args = parser.parse_args()

    import odoo  # noqa: PLC0415

    with populated_odoo("ext-cal-load-", DATABASE, args.bookings, fast=args.fast) as (config, cluster, env):
        token = env["calendar.feed"]._get_token()
        booking_ids = env["calendar.event"].search([("room_ids", "!=", False)], limit=50).ids
        cron = env.ref(f"{MODULE}.{CRON_XMLID}")
        # Due since the install: it would run once more at the servers' start.
        cron.nextcall = odoo.fields.Datetime.now() + timedelta(hours=1)
        cron_id = cron.id
        fresh = fresh_read_subjects(env)
        env.cr.commit()
        logs = {
            name: config.parent / f"{name.replace(' ', '-')}.log" for name in ("poll server", "edit server")
        }
        for log in logs.values():
            log.touch()
        results, elapsed, editor, log_starts, stale = run_load(
            config, args, logs, token=token, booking_ids=booking_ids, cron_id=cron_id, fresh=fresh
        )
        builds = read_builds(logs, log_starts)
    failures = report(args, cluster.settings, results, elapsed)
    failures += report_scale_out(editor, builds, results)
    failures += fresh_reads.report(stale, args.rounds)
    if failures:
        sys.exit("\n".join(failures))


def read_builds(logs, log_starts):
    """Server -> Counter of what its log says it built during the load (and cron deferrals)."""
    builds = {}
    for name, log in logs.items():
        with log.open(encoding="utf-8", errors="replace") as lines:
            lines.seek(log_starts[name])
            found = Counter()
            for line in lines:
                if match := BUILD_LOG.search(line):
                    found[f"{match[1]} builds"] += 1
                    found["longest build ms"] = max(found["longest build ms"], round(float(match[2]) * 1000))
                elif CRON_BUILD_LOG in line:
                    found["cron builds"] += 1
                elif CRON_DEFERRED_LOG in line:
                    found["cron deferrals"] += 1
                elif " ERROR " in line or "Traceback" in line:
                    found["errors logged"] += 1
                    if found["errors logged"] <= 3:
                        print(f"{name} logged: {line.rstrip()} {next(lines, '').rstrip()}")
            builds[name] = found
    return builds


def report(args, settings, results, elapsed):
    latencies = sorted(duration for duration, *_rest in results)
    statuses = [status for _duration, status, *_rest in results]
    errors = sum(status not in (200, 304) for status in statuses)

    def percentile(fraction):
        return latencies[min(len(latencies) - 1, int(fraction * len(latencies)))] * 1000

    print(f"\n{args.pollers} pollers, {args.bookings:,} bookings, poll server with --workers {args.workers}, "
          f"at least {args.seconds:g} s and at most {args.max_requests} requests each, loopback; "
          f"PostgreSQL {settings}\n")  # fmt: skip
    print("| requests | requests/s | 200 | 304 | errors | p50 | p99 | max | MB sent |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    print(
        f"| {len(results):,} | {len(results) / elapsed:,.0f} | {statuses.count(200):,} | {statuses.count(304):,} "
        f"| {errors} | {percentile(0.5):.1f} ms | {percentile(0.99):.1f} ms | {latencies[-1] * 1000:.1f} ms "
        f"| {sum(size for _d, _s, size, *_rest in results) / 1e6:,.1f} |"
    )
    print(f"\nmean latency {statistics.mean(latencies) * 1000:.1f} ms over {elapsed:.1f} s")
    if failures := Counter(status for status in statuses if status not in (200, 304)):
        print("failures:", ", ".join(f"{count} {kind}" for kind, count in failures.most_common()))
    return [f"{errors} requests failed"] if errors else []


def report_scale_out(editor, builds, results):
    bodies = defaultdict(set)
    for _duration, status, _size, etag, digest in results:
        if status == 200:
            bodies[etag].add(digest)
    two_bodies = sum(len(digests) > 1 for digests in bodies.values())
    print("\n| server | full builds | incremental builds | longest build | cron builds | cron deferrals "
          "| errors logged |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, found in builds.items():
        print(f"| {name} | {found['full builds']} | {found['incremental builds']} "
              f"| {found['longest build ms']:,} ms | {found['cron builds']} "
              f"| {found['cron deferrals']} | {found['errors logged']} |")  # fmt: skip
    total = sum(builds.values(), Counter())
    cron_runs = total["cron builds"] + total["cron deferrals"]
    print(f"\neditor on the edit server: {editor.done['edits']} edits, {editor.done['refreshes']} refreshes, "
          f"{editor.done['cron firings']} cron firings on both servers at once; cron runs: {cron_runs}; "
          f"distinct ETags served with 200: {len(bodies)}, with two bodies: {two_bodies}")  # fmt: skip
    failures = []
    planned = {"edits": EDIT_STEPS, "refreshes": len(REFRESH_AFTER), "cron firings": len(CRON_AFTER)}
    if dict(editor.done) != planned:
        failures.append(f"the editor did {dict(editor.done)} of its plan {planned}")
    if editor.error:
        failures.append(f"the editor failed: {editor.error}")
    if two_bodies:
        failures.append(f"{two_bodies} ETags were served with two different bodies")
    if cron_runs != editor.done["cron firings"]:
        failures.append(f"{editor.done['cron firings']} cron firings ran {cron_runs} times")
    if total["errors logged"]:
        failures.append(f"the servers logged {total['errors logged']} errors")
    return failures


if __name__ == "__main__":
    main()
