"""``make bench-load``: many calendar servers polling the feed at once.

Starts a throw-away PostgreSQL and Odoo in multi-worker (prefork) mode with
N bookings, then runs P concurrent pollers on loopback for a bounded time
and number of requests. Each poller behaves like a calendar server: one full
GET of the ICS feed, then revalidations with If-None-Match (mostly 304),
and every tenth request a one-room feed, each on a new connection. Prints requests/s, latency
percentiles and errors (anything but 200/304, or a failed connection).

Usage: ``make bench-load`` or ``make bench-load ARGS="--pollers 50 --seconds 10"``.
"""

import argparse
import http.client
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "scripts"), str(ROOT)]

from devenv import MODULE, install_module, odoo_command, throwaway_odoo  # noqa: E402

from bench.run import populate  # noqa: E402

DATABASE = "bench_load"
PORT = 8072
HOST = "127.0.0.1"  # loopback only


class Poller(threading.Thread):
    def __init__(self, path, deadline, max_requests, results):
        super().__init__(daemon=True)
        self.path, self.deadline, self.max_requests, self.results = path, deadline, max_requests, results

    def run(self):
        # A new connection per poll, as calendar servers fetch a feed once per interval.
        # (Keeping one open would pin one of Odoo's prefork workers to one poller.)
        etag = None
        for number in range(self.max_requests):
            if time.monotonic() >= self.deadline:
                break
            path = f"{self.path}&room=R1" if number % 10 == 9 else self.path
            headers = {"Connection": "close"} | (
                {"If-None-Match": etag} if etag and path == self.path else {}
            )
            start = time.perf_counter()
            connection = http.client.HTTPConnection(HOST, PORT, timeout=60)
            try:
                connection.request("GET", path, headers=headers)
                response = connection.getresponse()
                body = response.read()
                status = response.status
                if status == 200 and path == self.path:
                    etag = response.getheader("ETag")
            except (OSError, http.client.HTTPException) as error:
                status, body = type(error).__name__, b""
            finally:
                connection.close()
            self.results.append((time.perf_counter() - start, status, len(body)))


def wait_for_server(timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection(HOST, PORT, timeout=5)
            connection.request("GET", "/web/login")
            if connection.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"Odoo did not answer on {HOST}:{PORT}")


def poll(config, token, args):
    """Start Odoo with ``args.workers`` workers and let the pollers loose; return (results, seconds)."""
    server = subprocess.Popen(
        odoo_command(config, "-d", DATABASE, "--db-filter", f"^{DATABASE}$", "--http-port", str(PORT),
                     "--workers", str(args.workers), "--max-cron-threads", "0", "--log-level=warn"),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_for_server()
        path = f"/w/api/v2/public_calendar.ics?token={token}"
        warm = http.client.HTTPConnection(HOST, PORT, timeout=120)
        warm.request("GET", path)  # the first request builds the feed
        warm_status = warm.getresponse().status
        assert warm_status == 200, warm_status
        results = []
        deadline = time.monotonic() + args.seconds
        pollers = [Poller(path, deadline, args.max_requests, results) for _ in range(args.pollers)]
        started = time.perf_counter()
        for poller in pollers:
            poller.start()
        for poller in pollers:
            poller.join(args.seconds + 60)
        elapsed = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait()
    return results, elapsed


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bookings", type=int, default=10_000)
    parser.add_argument("--pollers", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=20.0, help="how long the pollers run at most")
    parser.add_argument("--max-requests", type=int, default=200, help="requests per poller at most")
    # Odoo's prefork server listens with a backlog of 8 connections per worker: 200 pollers
    # arriving at once need 25 workers (idle workers cost memory, not CPU), or a reverse proxy.
    parser.add_argument("--workers", type=int, default=25, help="Odoo HTTP worker processes")
    args = parser.parse_args()

    import odoo  # noqa: PLC0415
    import odoo.tools.config  # noqa: PLC0415
    from odoo.modules.registry import Registry  # noqa: PLC0415

    with throwaway_odoo("ext-cal-load-") as (config, _cluster):
        print(f"Installing {MODULE} and creating {args.bookings:,} bookings...", flush=True)
        install_module(config, DATABASE)
        odoo.tools.config.parse_config(["-c", str(config), "--log-level=warn"])
        with Registry(DATABASE).cursor() as cr:
            env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {"tracking_disable": True})
            populate(env, args.bookings)
            token = env["calendar.feed"]._get_token()
        results, elapsed = poll(config, token, args)
    report(args, results, elapsed)


def report(args, results, elapsed):
    latencies = sorted(duration for duration, _status, _size in results)
    statuses = [status for _duration, status, _size in results]
    errors = sum(status not in (200, 304) for status in statuses)

    def percentile(fraction):
        return latencies[min(len(latencies) - 1, int(fraction * len(latencies)))] * 1000

    print(f"\n{args.pollers} pollers, {args.bookings:,} bookings, Odoo --workers {args.workers}, "
          f"at most {args.seconds:g} s and {args.max_requests} requests each, loopback\n")  # fmt: skip
    print("| requests | requests/s | 200 | 304 | errors | p50 | p99 | max | MB sent |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    print(
        f"| {len(results):,} | {len(results) / elapsed:,.0f} | {statuses.count(200):,} | {statuses.count(304):,} "
        f"| {errors} | {percentile(0.5):.1f} ms | {percentile(0.99):.1f} ms | {latencies[-1] * 1000:.1f} ms "
        f"| {sum(size for _d, _s, size in results) / 1e6:,.1f} |"
    )
    print(f"\nmean latency {statistics.mean(latencies) * 1000:.1f} ms over {elapsed:.1f} s")
    if failures := Counter(status for status in statuses if status not in (200, 304)):
        print("failures:", ", ".join(f"{count} {kind}" for kind, count in failures.most_common()))
    if errors:
        sys.exit(f"{errors} requests failed")


if __name__ == "__main__":
    main()
