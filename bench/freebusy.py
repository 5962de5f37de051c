"""``make bench`` (free/busy): freebusy.ics and free.json against a filtered JSON query, one run.

On a durable throw-away PostgreSQL with N bookings (default 10,000) in 50
rooms (a tenth tentative, a twentieth shown as free; half the rooms with
Odoo's standard 40-hour opening hours), an Odoo server answers, over HTTP,
each the median of ``--repeats`` runs, side by side:

- a filtered JSON query (``public_calendar.json?from=&to=``) over 30 days;
- ``freebusy.ics`` over the same 30 days (every room);
- ``free.json`` over the same 30 days (90 minutes, 8 people);
- a 304 of each, beside the 304 of the full ICS feed and of the filtered JSON query.

The targets (issue 26): each free/busy answer at most 2x the JSON query; a
304 costs what other 304s cost. Usage: ``make bench`` or
``.venv/bin/python bench/freebusy.py --bookings 2000``.
"""

import argparse
import sys
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "scripts"), str(ROOT)]

import bench.run as bench_run  # noqa: E402
from bench.load import DATABASE, start_server, wait_for_server  # noqa: E402
from bench.run import FAST_HELP, http_get, populated_odoo, timed  # noqa: E402

ROOMS = 50
PORT = 8076
DAYS = 30
PLAIN = {"Accept-Encoding": "identity"}


def spread_over_rooms(env):
    """50 rooms with capacities, the bookings spread over them, some tentative or shown as free,
    half the rooms with opening hours; journaled so that the next build publishes it all."""
    existing = env["calendar.room"].search([], order="id")
    more = env["calendar.room"].create(
        [
            {"name": f"Room {i}", "code": f"R{i}", "location": "Building B"}
            for i in range(len(existing), ROOMS)
        ]
    )
    rooms = existing | more
    hours = env.ref("resource.resource_calendar_std")
    for index, room in enumerate(rooms):
        room.write({"capacity": 4 + 4 * (index % 5), "opening_hours_id": hours.id if index % 2 else False})
    env.cr.execute(
        "UPDATE calendar_event_calendar_room_rel SET room_id = (%s::int[])[1 + event_id %% %s]",
        [rooms.ids, ROOMS],
    )
    env.cr.execute("UPDATE calendar_event SET booking_status = 'tentative' WHERE id % 10 = 3")
    env.cr.execute("UPDATE calendar_event SET show_as = 'free' WHERE id % 20 = 7")
    env["ir.config_parameter"].set_param("external_calendar_api.publish_tentative", True)
    env["calendar.feed.change"]._record_change()
    env.invalidate_all()
    env.cr.execute("ANALYZE")


def paths(token, zone):
    """The routes measured, over the same 30 local days from tomorrow."""
    first = datetime.now(ZoneInfo(zone)).date() + timedelta(days=1)
    period = f"from={first.isoformat()}&to={(first + timedelta(days=DAYS - 1)).isoformat()}"
    feed = "/w/api/v2/public_calendar"
    return {
        "JSON query": f"{feed}.json?token={token}&{period}",
        "freebusy.ics": f"{feed}/freebusy.ics?token={token}&{period}",
        "free.json": f"{feed}/free.json?token={token}&{period}&minutes=90&capacity=8",
        "full ICS": f"{feed}.ics?token={token}",
    }


def measure(routes):
    """``{name: (Timing of a GET, bytes, Timing of a 304)}`` of each route."""
    results = {}
    for name, path in routes.items():
        status, headers, _body = http_get(path, PLAIN)  # warm, and the feed is fresh
        assert status == 200, (name, status)
        get, (_status, _headers, body) = timed(lambda: http_get(path, PLAIN))  # noqa: B023
        revalidate = PLAIN | {"If-None-Match": headers["ETag"]}
        not_modified, (status_304, _h, _b) = timed(lambda: http_get(path, revalidate))  # noqa: B023
        assert status_304 == 304, (name, status_304)
        results[name] = (get, len(body), not_modified)
    return results


def print_table(results, bookings, published):
    base_get, _bytes, base_304 = results["JSON query"]
    ics_304 = results["full ICS"][2]
    print(f"\n{bookings:,} bookings ({published:,} published) in {ROOMS} rooms; {DAYS} days asked for; "
          f"median of {bench_run.REPEATS} runs (fastest–slowest)\n")  # fmt: skip
    print(
        "| route | GET | bytes | GET / JSON query (≤ 2) | 304 | 304 / JSON query's 304 | 304 / full ICS 304 |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, (get, size, not_modified) in results.items():
        print(f"| {name} | {get} | {size:,} | {get.median / base_get.median:.2f} | {not_modified} "
              f"| {not_modified.median / base_304.median:.2f} | {not_modified.median / ics_304.median:.2f} |")  # fmt: skip


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bookings", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=bench_run.REPEATS)
    parser.add_argument("--fast", action="store_true", help=FAST_HELP)
    args = parser.parse_args()
    bench_run.REPEATS = args.repeats
    with populated_odoo("ext-cal-freebusy-", DATABASE, args.bookings, fast=args.fast) as (
        config,
        _cluster,
        env,
    ):
        spread_over_rooms(env)
        feed = env["calendar.feed"]._get_up_to_date()
        published = env["calendar.feed.entry"].search_count([("removed_at", "=", False)])
        token, zone = feed._get_token(), feed._get_settings().timezone
        env.cr.commit()
        server = start_server(config, PORT, 0, config.parent / "freebusy-server.log")
        try:
            wait_for_server(PORT)
            bench_run.PORT = PORT  # http_get's port
            results = measure(paths(token, zone))
        finally:
            server.terminate()
            server.wait()
    print_table(results, args.bookings, published)


if __name__ == "__main__":
    main()
