"""``make bench`` (push targets): how fast bookings reach a remote calendar, and how soon after a change.

On a durable throw-away PostgreSQL with N bookings (default 10,000) and a
local Radicale server, side by side in one run:

- **rate**: one push target per room, each writing its room's bookings into
  an empty calendar of its own (the initial sync, no rate limit), against a
  plain loop of ``caldav`` client PUTs of the very same objects into other
  calendars of the same server, one per room too (Radicale slows down as a
  calendar grows, for both alike). The targets should reach at least half
  the loop's rate;
- **quiet**: a second push with nothing changed, and the requests it made;
- **latency**: an Odoo server with one cron worker serves the database; an
  editor renames a booking over JSON-RPC, again and again, and polls the
  remote calendar until the new name shows there. Nothing but the cron job
  woken by the change pushes it. p50 and p95 of the delay (the target: 60 s).

Usage: ``make bench`` or ``.venv/bin/python bench/push.py --bookings 2000 --changes 10``.
"""

import argparse
import math
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "scripts"), str(ROOT)]

from odoo.fields import Domain  # noqa: E402

from bench.load import DATABASE, EDIT_PORT, rpc, start_server, wait_for_server  # noqa: E402
from bench.run import FAST_HELP, populated_odoo  # noqa: E402
from booking_feed.tests.dav_servers import Radicale  # noqa: E402

PASSWORD = "bench"  # noqa: S105 (the throw-away server's)
POLL_INTERVAL = 0.1
LATENCY_TIMEOUT = 120


def push_everything(env, radicale):
    """The initial sync of one target per room, each into its own empty calendar:
    ``(targets, objects written, seconds)``."""
    settings = env["calendar.feed"]._get_settings()
    targets = env["calendar.feed.push"].create(
        [
            {"name": room.name, "url": radicale.make_calendar("rooms", f"pushed-{room.code}"),
             "username": "rooms", "password": PASSWORD, "max_rate": 0, "room_ids": [(6, 0, room.ids)]}
            for room in env["calendar.room"].search([("is_published", "=", True)])
        ]
    )  # fmt: skip
    env.flush_all()
    started = time.perf_counter()
    for target in targets:
        while target._take_turn(settings, math.inf):
            pass
    return targets, len(targets.object_ids), time.perf_counter() - started


def plain_caldav_loop(env, radicale, targets):
    """The same objects PUT one after the other by the ``caldav`` client, each room's into a
    calendar of its own: ``(count, seconds)``."""
    import caldav  # noqa: PLC0415

    settings = env["calendar.feed"]._get_settings()
    Reader = env["calendar.feed.reader"]
    calls = []
    for target in targets:
        url = radicale.make_calendar("rooms", f"looped-{target.id}")
        entries = Domain("event_id", "in", target.object_ids.mapped("event_id"))
        calls += [
            (url, row)
            for row in Reader._calendar_objects(settings, target._get_audience(), entries, with_data=True)
        ]
    with caldav.DAVClient(radicale.url, username="rooms", password=PASSWORD) as client:
        started = time.perf_counter()
        for url, row in calls:
            client.put(f"{url}{row.event_id}.ics", row.data, {"Content-Type": "text/calendar; charset=utf-8"})
        return len(calls), time.perf_counter() - started


def quiet_push(env, targets):
    """Push again with nothing changed: ``(seconds, objects written)``."""
    settings = env["calendar.feed"]._get_settings()
    env.flush_all()
    env.cr.execute("SELECT max(pushed_at) FROM calendar_feed_push_object")
    [(last_written,)] = env.cr.fetchall()
    time.sleep(1.1)  # pushed_at has whole seconds
    started = time.perf_counter()
    for target in targets:
        target._take_turn(settings, math.inf)
    seconds = time.perf_counter() - started
    env.flush_all()
    env.cr.execute("SELECT count(*) FROM calendar_feed_push_object WHERE pushed_at > %s", [last_written])
    return seconds, env.cr.fetchone()[0]


def latencies(config, url, hrefs, changes):
    """Rename bookings (of the first room) over JSON-RPC on a running server; seconds until each
    shows remotely."""
    import caldav  # noqa: PLC0415

    server = start_server(config, EDIT_PORT, 0, config.parent / "push-server.log")
    delays = []
    try:
        wait_for_server(EDIT_PORT)
        uid = rpc("common", "login", DATABASE, "admin", "admin")
        booking_ids = sorted(hrefs)[:50]
        with caldav.DAVClient(url, username="rooms", password=PASSWORD) as client:
            for change in range(changes):
                booking = booking_ids[change % len(booking_ids)]
                name = f"Renamed for the push bench {change}"
                rpc("object", "execute_kw", DATABASE, uid, "admin", "calendar.event", "write",
                    [[booking], {"name": name}])  # fmt: skip
                committed = time.perf_counter()
                href = hrefs[booking]
                while name.encode() not in client.request(href).raw.encode():
                    if time.perf_counter() - committed > LATENCY_TIMEOUT:
                        raise RuntimeError(f"change {change} not pushed within {LATENCY_TIMEOUT} s")
                    time.sleep(POLL_INTERVAL)
                delays.append(time.perf_counter() - committed)
                time.sleep(1)
    finally:
        server.terminate()
        server.wait(30)
    return delays


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bookings", type=int, default=10_000)
    parser.add_argument("--changes", type=int, default=20, help="renames timed for the latency")
    parser.add_argument("--fast", action="store_true", help=FAST_HELP)
    args = parser.parse_args()
    with (
        Radicale(users={"rooms": PASSWORD}) as radicale,
        populated_odoo("ext-cal-push-", DATABASE, args.bookings, fast=args.fast) as (config, _cluster, env),
    ):
        env["calendar.feed"]._get_up_to_date()
        targets, pushed, push_seconds = push_everything(env, radicale)
        looped, loop_seconds = plain_caldav_loop(env, radicale, targets)
        quiet_seconds, quiet_writes = quiet_push(env, targets)
        base = radicale.url.rstrip("/")
        hrefs = {row.event_id: base + row.href for row in targets[0].object_ids}
        env.cr.commit()
        delays = latencies(config, radicale.url, hrefs, args.changes)
    push_rate, loop_rate = pushed / push_seconds, looped / loop_seconds
    print(
        f"\nPush targets, {args.bookings:,} bookings, one target and calendar per room, Radicale on loopback"
    )
    print(f"| {'measure':<44} | {'value':>12} |")
    print(f"| {'-' * 44} | {'-' * 12}:|")
    print(f"| {'initial sync: objects written':<44} | {pushed:>12,} |")
    print(f"| {'initial sync: objects/s (push target)':<44} | {push_rate:>12,.0f} |")
    print(f"| {'plain caldav PUT loop: objects/s':<44} | {loop_rate:>12,.0f} |")
    print(f"| {'ratio push / loop (target >= 0.5)':<44} | {push_rate / loop_rate:>12.2f} |")
    print(f"| {'second push, nothing changed: seconds':<44} | {quiet_seconds:>12.3f} |")
    print(f"| {'second push, nothing changed: writes':<44} | {quiet_writes:>12} |")
    p95 = statistics.quantiles(delays, n=20)[-1] if len(delays) > 1 else delays[0]
    print(
        f"| {f'change to remote, {len(delays)} renames: p50 (s)':<44} | {statistics.median(delays):>12.2f} |"
    )
    print(f"| {f'change to remote, {len(delays)} renames: p95 (s)':<44} | {p95:>12.2f} |")
    print(f"| {'change to remote: max (s) (target <= 60)':<44} | {max(delays):>12.2f} |")


if __name__ == "__main__":
    main()
