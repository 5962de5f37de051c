"""``make bench``: feed build and serving costs at N bookings, side by side in one run.

For each size, a throw-away database (cloned from one with the addon
installed) gets N bookings (rooms, recurring series, unicode titles) and
the script measures, in this order:

- a cold rebuild (no cached blocks), its peak Python memory, and a rebuild
  after one booking changed;
- over HTTP against a real Odoo server: a warm full ICS request, a 304
  revalidation, a one-room feed, and the full ICS feed through a feed key
  for every room and through a key for one room;
- what logging a request's use costs (an INSERT and a writing commit);
- CalDAV: a Depth 1 PROPFIND of a calendar (every room's, then one room's)
  beside a warm JSON GET of the same events, and a sync-collection REPORT
  after one booking changed;
- the same events rendered by icalendar's object model (the naive
  baseline), by a plain string writer (the floor) and by Odoo's own
  ``calendar.event._get_ics_file()`` merged (what Odoo exports do).

Each time is the median of ``--repeats`` runs (5 by default), printed with
the fastest and slowest beside it; ratios divide medians. PostgreSQL runs
with its durable defaults, as in production; ``--fast`` turns fsync,
synchronous commits and full page writes off, and the table says which.

It prints a table and the ratios the issue asks for. Loopback only; every
loop is bounded. Usage: ``make bench`` or ``make bench ARGS="--sizes 1000"``.
"""

import argparse
import base64
import http.client
import os
import platform
import re
import statistics
import subprocess
import sys
import time
import tracemalloc
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import partial
from pathlib import Path

import icalendar

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "scripts"), str(ROOT)]

from devenv import MODULE, install_module, odoo_command, throwaway_odoo  # noqa: E402

from bench.baselines import naive_icalendar, string_writer  # noqa: E402
from bench.polls import (  # noqa: E402
    measure_cold_build_memory,
    measure_polls,
    measure_transfer_floors,
    print_polls_table,
)
from booking_feed import render_calendar  # noqa: E402

TEMPLATE = "bench_template"
ROOM_COUNT = 20
SERIES = 20
SERIES_LENGTH = 10
ODOO_EXPORT_MAX = 10_000
PORT = 8071
TITLES = [
    "OSCE station",
    "Újraélesztés – BLS",
    "ICU crisis; team, debrief",
    "Paediatric sim 🚑",
    "Skills lab",
]


REPEATS = 5
#: Requests per timed run of the usage log: one is too short to time.
USAGE_BATCH = 200


@dataclass(frozen=True)
class Timing:
    """Seconds taken by repeated runs of one measurement."""

    median: float
    fastest: float
    slowest: float

    def __str__(self):
        return f"{self.median * 1000:,.1f} ms ({self.fastest * 1000:,.1f}–{self.slowest * 1000:,.1f})"


def timed(function, setup=None):
    """The Timing of REPEATS calls of ``function`` (each after an untimed ``setup``), and the last result."""
    durations, result = [], None
    for _ in range(REPEATS):
        if setup:
            setup()
        start = time.perf_counter()
        result = function()
        durations.append(time.perf_counter() - start)
    return Timing(statistics.median(durations), min(durations), max(durations)), result


def populate(env, size):
    """Rooms, N bookings over the next 60 days (bulk SQL), and some recurring series (ORM)."""
    Room = env["calendar.room"]
    rooms = Room.create(
        [{"name": f"Room {i}", "code": f"R{i}", "location": "Building A"} for i in range(ROOM_COUNT)]
    )
    plain = size - SERIES * SERIES_LENGTH
    env.cr.execute(
        """
        INSERT INTO calendar_event (name, start, stop, start_date, stop_date, allday, duration, show_as,
                                    booking_status, active, user_id, create_uid, write_uid, create_date, write_date)
        SELECT (%(titles)s::varchar[])[1 + i %% %(title_count)s] || ' ' || i,
               now() AT TIME ZONE 'UTC' + (i %% 1440) * interval '1 hour',
               now() AT TIME ZONE 'UTC' + (i %% 1440) * interval '1 hour' + interval '90 minutes',
               NULL, NULL, false, 1.5, 'busy', 'confirmed', true, 2, 2, 2,
               now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC'
          FROM generate_series(1, %(count)s) AS i
        RETURNING id
        """,
        {"titles": TITLES, "title_count": len(TITLES), "count": plain},
    )
    event_ids = [row[0] for row in env.cr.fetchall()]
    env.cr.execute(
        "INSERT INTO calendar_event_calendar_room_rel (event_id, room_id) "
        "SELECT e, (%s::int[])[1 + e %% %s] FROM unnest(%s) e",
        [rooms.ids, ROOM_COUNT, event_ids],
    )
    start = datetime.now(timezone.utc).replace(tzinfo=None, minute=0, second=0, microsecond=0) + timedelta(
        hours=2
    )
    for series in range(SERIES):
        env["calendar.event"].with_context(tracking_disable=True).create({
            "name": f"Weekly drill {series}", "start": start + timedelta(hours=series),
            "stop": start + timedelta(hours=series, minutes=45), "room_ids": [(6, 0, rooms[series % ROOM_COUNT].ids)],
            "recurrency": True, "rrule_type": "daily", "interval": 1, "end_type": "count", "count": SERIES_LENGTH,
        })  # fmt: skip
    env["ir.config_parameter"].set_param("external_calendar_api.future_days", 730)
    env["ir.config_parameter"].set_param("external_calendar_api.enabled", True)
    env.invalidate_all()
    # Bulk-inserted rows have no planner statistics yet; autovacuum would gather them.
    env.cr.execute("ANALYZE")


FAST_HELP = "PostgreSQL without fsync, synchronous commits, full page writes"


@contextmanager
def populated_odoo(prefix, database, bookings, *, fast=False):
    """A throw-away cluster with the addon installed in ``database`` and ``bookings`` bookings.

    Yields ``(config, cluster, env)``, ``env`` on a cursor committed when the block ends.
    """
    import odoo  # noqa: PLC0415
    import odoo.tools.config  # noqa: PLC0415
    from odoo.modules.registry import Registry  # noqa: PLC0415

    with throwaway_odoo(prefix, durable=not fast) as (config, cluster):
        print(f"Installing {MODULE} and creating {bookings:,} bookings...", flush=True)
        install_module(config, database)
        odoo.tools.config.parse_config(["-c", str(config), "--log-level=warn"])
        with Registry(database).cursor() as cr:
            env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {"tracking_disable": True})
            populate(env, bookings)
            yield config, cluster, env


def cold_start(env, feed):
    """Back to a cold feed: no entries, and no autovacuum due that could run during the next build.

    The entries are truncated and vacuumed here, untimed: otherwise autovacuum, woken by the rows
    the previous build wrote, runs during the next build in some runs and not in others.
    """
    env.cr.execute("TRUNCATE calendar_feed_entry, calendar_feed_segment")
    feed.write({"content_key": False})
    env.cr.commit()
    with env.registry.cursor() as maintenance:
        maintenance._cnx.autocommit = True
        maintenance.execute("VACUUM ANALYZE calendar_feed_entry, calendar_feed_segment")
    env.invalidate_all()


def measure_builds(env):
    """Cold rebuild, its peak memory, and a rebuild after one change."""
    Feed = env["calendar.feed"]
    feed = Feed._get_singleton()

    def rebuild_and_commit(full=False):
        feed._rebuild(full=full)
        env.cr.commit()  # what a durable cluster makes slow is the commit: it is part of the build

    results = {}
    results["cold"], _ok = timed(lambda: rebuild_and_commit(full=True), setup=lambda: cold_start(env, feed))
    cold_start(env, feed)
    tracemalloc.start()
    rebuild_and_commit(full=True)
    results["peak_memory"] = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    results["ics_bytes"] = feed.ics_size
    results["events"] = feed.event_count
    booking = env["calendar.event"].search([("room_ids", "!=", False)], limit=1)
    changes = iter(range(REPEATS))

    def change_one_booking():
        booking.name = f"Changed for the benchmark {next(changes)}"
        env.cr.commit()

    results["one_change"], _ok = timed(rebuild_and_commit, setup=change_one_booking)
    return results


def property_names(ics):
    """UID -> sorted property names of every VEVENT of ``ics``."""
    return {str(event["UID"]): sorted(event) for event in icalendar.Calendar.from_ical(ics).walk("VEVENT")}


def check_like_for_like(env, feed_events):
    """The baselines must write the properties the feed has, or the ratios compare different work."""
    sample = feed_events[:50]
    entries = env["calendar.feed.entry"].search([("event_id", "in", [event.id for event in sample])])
    ours = property_names(render_calendar(entries.mapped(lambda entry: entry.ics_block.encode()), name="Rooms",
                                          timezone="UTC"))  # fmt: skip
    for baseline in (naive_icalendar, string_writer):
        if property_names(baseline(sample, "Rooms")) != ours:
            sys.exit(f"{baseline.__name__} does not write the properties of the feed: {ours}")


def measure_baselines(env, size):
    Feed = env["calendar.feed"]
    settings = Feed._get_settings()
    window = settings.window(datetime.now(timezone.utc))
    feed_events = [
        event for batch in env["calendar.event"]._read_feed_events(window, settings) for event in batch
    ]
    check_like_for_like(env, feed_events)
    events = env["calendar.event"].browse([event.id for event in feed_events])
    results = {
        "naive": timed(lambda: naive_icalendar(feed_events, "Rooms"))[0],
        "floor": timed(lambda: string_writer(feed_events, "Rooms"))[0],
    }
    if size <= ODOO_EXPORT_MAX:
        results["odoo_export"] = timed(
            lambda: b"".join(events._get_ics_file().values()), setup=env.invalidate_all
        )[0]
    return results


def http_get(path, headers=None, method="GET", body=None):
    connection = http.client.HTTPConnection("127.0.0.1", PORT, timeout=120)
    connection.request(method, path, body=body, headers=headers or {})
    response = connection.getresponse()
    body = response.read()
    connection.close()
    return response.status, dict(response.getheaders()), body


DAV_SYNC_TOKEN = b'<d:propfind xmlns:d="DAV:"><d:prop><d:sync-token/></d:prop></d:propfind>'
DAV_ETAGS = b'<d:propfind xmlns:d="DAV:"><d:prop><d:getetag/><d:getcontenttype/></d:prop></d:propfind>'


def dav_sync(token):
    return (b'<d:sync-collection xmlns:d="DAV:"><d:sync-token>' + token.encode() + b"</d:sync-token>"
            b"<d:sync-level>1</d:sync-level><d:prop><d:getetag/></d:prop></d:sync-collection>")  # fmt: skip


def dav_sync_token(auth, path):
    """The sync token of a calendar now (a Depth 0 PROPFIND)."""
    _s, _h, body = http_get(path, auth | {"Depth": "0"}, "PROPFIND", DAV_SYNC_TOKEN)
    return re.search(rb"<d:sync-token>([^<]+)<", body).group(1).decode()


def wait_for_rebuild(auth, json_path, path, token):
    """The first request after a change rebuilds the feed, unless a build is under way (the
    server's cron): then a later one does. Bounded: 10 minutes at most."""
    for _ in range(3000):
        http_get(json_path)
        if dav_sync_token(auth, path) != token:
            return
        time.sleep(0.2)
    raise RuntimeError("the feed was not rebuilt after a change")


#: The calendars measured: (row label, CalDAV collection, JSON filter of the same events).
DAV_CALENDARS = (
    ("room booked by every booking", "room-BIG", "&room=BIG"),
    ("every room", "all", ""),
    ("one room of 20", "room-R1", "&room=R1"),
)


def measure_caldav(secret, odoo_calls):
    """PROPFIND Depth 1 on calendars beside a warm JSON GET of the same events, and a sync-collection
    REPORT after one booking changed (the feed rebuilt before, untimed: that is the change's cost).

    First a room is added to every booking (untimed), so that one calendar holds them all.
    """
    auth = {"Authorization": "Basic " + base64.b64encode(f"bench:{secret}".encode()).decode()}
    json_path = f"/w/api/v2/public_calendar.json?token={secret}"

    every_room = "/w/caldav/calendars/all/"
    token_of = partial(dav_sync_token, auth)
    until_rebuilt = partial(wait_for_rebuild, auth, json_path)
    before = token_of(every_room)
    odoo_calls.add_room_to_every_booking("BIG")
    until_rebuilt(every_room, before)
    results = {}
    for _label, calendar, query in DAV_CALENDARS:
        dav_path, dav_headers = f"/w/caldav/calendars/{calendar}/", auth | {"Depth": "1"}
        status, _h, body = http_get(dav_path, dav_headers, "PROPFIND", DAV_ETAGS)
        assert status == 207, status
        results[f"dav_{calendar}_objects"] = body.count(b"<d:response>") - 1
        results[f"dav_{calendar}_propfind"], _ = timed(
            partial(http_get, dav_path, dav_headers, "PROPFIND", DAV_ETAGS)
        )
        results[f"dav_{calendar}_json"], _ = timed(
            partial(http_get, json_path + query, {"Accept-Encoding": "identity"})
        )
    path = "/w/caldav/calendars/room-BIG/"
    tokens = []

    def change_and_rebuild():
        tokens.append(token_of(path))
        odoo_calls.change_one_booking()
        until_rebuilt(path, tokens[-1])

    def sync():
        status, _h, body = http_get(path, auth, "REPORT", dav_sync(tokens[-1]))
        assert status == 207 and body.count(b"<d:response>") == 1, (status, body[:500])

    results["dav_sync_one_change"], _ = timed(sync, setup=change_and_rebuild)
    return results


def measure_usage_log(env):
    """Seconds that logging its use adds to a request: an INSERT, and a commit that writes."""
    Usage = env["calendar.feed.usage"]

    def requests(logged):
        for _ in range(USAGE_BATCH):
            env.cr.execute("SELECT 1")  # a request that only reads commits too
            if logged:
                Usage._record(None, "ics", 200)
            env.cr.commit()

    unlogged, _ = timed(lambda: requests(False))
    logged, _ = timed(lambda: requests(True))
    return (logged.median - unlogged.median) / USAGE_BATCH


def measure_http(config, database, token, key_tokens, odoo_calls):
    server = subprocess.Popen(
        odoo_command(config, "-d", database, "--db-filter", f"^{database}$", "--http-port", str(PORT),
                     "--log-level=warn"),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        for _ in range(120):
            try:
                if http_get("/web/login")[0] == 200:
                    break
            except OSError:
                time.sleep(0.5)
        results = measure_cold_build_memory(server, token, odoo_calls, http_get)
        results |= measure_polls(token, odoo_calls, http_get, timed)
        path = f"/w/api/v2/public_calendar.ics?token={token}"
        plain, packed = {"Accept-Encoding": "identity"}, {"Accept-Encoding": "gzip"}
        status, headers, body = http_get(path, plain)  # warms the server and makes sure the feed is fresh
        assert status == 200, status
        warm, (_s, _h, body) = timed(lambda: http_get(path, plain))
        gzip_get, (_s, gzip_headers, gzip_body) = timed(lambda: http_get(path, packed))
        assert gzip_headers.get("Content-Encoding") == "gzip", gzip_headers
        not_modified, (status_304, _h, _b) = timed(
            lambda: http_get(path, plain | {"If-None-Match": headers["ETag"]})
        )
        assert status_304 == 304, status_304
        health, (status_health, _h, _b) = timed(lambda: http_get("/web/health"))
        assert status_health == 200, status_health
        room, (_s, _h, room_body) = timed(lambda: http_get(f"{path}&room=R1", plain))
        results |= {"warm_get": warm, "get_bytes": len(body), "gzip_get": gzip_get, "gzip_bytes": len(gzip_body),
                   "not_modified": not_modified, "health": health, "room_get": room, "room_bytes": len(room_body)}  # fmt: skip
        for name, key_token in key_tokens.items():
            key_path = f"/w/api/v2/public_calendar.ics?token={key_token}"
            results[name], (key_status, _h, _b) = timed(lambda: http_get(key_path, plain))  # noqa: B023
            assert key_status == 200, key_status
        return results | measure_caldav(token, odoo_calls)
    finally:
        server.terminate()
        server.wait()


class OdooCalls:
    """Changes the benchmark makes while the server runs, through the ORM (so they are journaled)."""

    def __init__(self, registry):
        self.registry = registry

    @contextmanager
    def env(self):
        import odoo  # noqa: PLC0415

        with self.registry.cursor() as cr:
            yield odoo.api.Environment(cr, odoo.SUPERUSER_ID, {"tracking_disable": True})

    def add_room_to_every_booking(self, code):
        with self.env() as env:
            room = env["calendar.room"].create({"name": f"Room {code}", "code": code})
            env.cr.execute(
                "INSERT INTO calendar_event_calendar_room_rel (event_id, room_id) SELECT id, %s FROM calendar_event",
                [room.id],
            )
            env["calendar.feed.change"]._record_change()

    def make_cold(self):
        """No entry and no stored segment: the next request builds the feed from nothing."""
        with self.env() as env:
            env.cr.execute("TRUNCATE calendar_feed_entry, calendar_feed_segment")
            env["calendar.feed"]._get_singleton().write({"content_key": False, "built_at": False})

    def change_one_booking(self):
        with self.env() as env:
            booking = env["calendar.event"].search([], limit=1, order="start")
            booking.name = f"Changed at {time.perf_counter()}"


def bench_size(config, size):
    import odoo  # noqa: PLC0415
    from odoo.modules.registry import Registry  # noqa: PLC0415

    database = f"bench_{size}"
    with odoo.sql_db.db_connect("postgres").cursor() as cr:
        cr._cnx.autocommit = True
        cr.execute(f'DROP DATABASE IF EXISTS "{database}"')
        cr.execute(f'CREATE DATABASE "{database}" TEMPLATE "{TEMPLATE}"')
    registry = Registry(database)
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {"tracking_disable": True})
        populate(env, size)
        cr.commit()
        results = measure_builds(env)
        results |= measure_baselines(env, size)
        results["usage_log"] = measure_usage_log(env)
        token = env["calendar.feed"]._get_token()
        Key, first_room = env["calendar.feed.key"], env["calendar.room"].search([("code", "=", "R1")])
        key_tokens = {
            "all_rooms_key_get": Key.generate({"name": "Every room"})["token"],
            "one_room_key_get": Key.generate({"name": "One room", "room_ids": [(6, 0, first_room.ids)]})[
                "token"
            ],
        }
        cr.commit()
    results |= measure_http(config, database, token, key_tokens, OdooCalls(registry))
    Registry.delete(database)
    return results


def print_table(rows, settings):
    print(f"\nMachine: {platform.processor() or platform.machine()}, {platform.python_implementation()} "
          f"{platform.python_version()}, {os.cpu_count()} cores; PostgreSQL {settings}; "
          f"times: median of {REPEATS} runs (fastest–slowest)\n")  # fmt: skip
    print(
        "| bookings | published | ICS size | cold rebuild | rebuild after 1 change | peak memory of rebuild "
        "| warm ICS GET | gzip GET | 304 | /web/health | room feed GET | naive icalendar | string floor "
        "| Odoo export |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for size, r in rows:
        print(f"| {size:,} | {r['events']:,} | {r['ics_bytes'] / 1e6:.2f} MB | {r['cold']} | {r['one_change']} "
              f"| {r['peak_memory'] / 1e6:.1f} MB | {r['warm_get']} ({r['get_bytes'] / 1e6:.2f} MB) "
              f"| {r['gzip_get']} ({r['gzip_bytes'] / 1e6:.2f} MB) | {r['not_modified']} | {r['health']} "
              f"| {r['room_get']} | {r['naive']} | {r['floor']} "
              f"| {r.get('odoo_export', 'not run')} |")  # fmt: skip
    print(
        "\n| bookings | naive / warm GET (≥ 20) | warm GET / 304 (≥ 3) | naive / rebuild after 1 change (≥ 10) "
        "| naive / cold rebuild (≥ 2) | Odoo export / cold rebuild (≥ 10) | cold rebuild / floor "
        "| peak memory / ICS size (≤ 3) | plain / gzip bytes (≥ 5) | gzip GET / plain GET (≤ 1) "
        "| 304 / health (≈ 1) |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for size, r in rows:
        m = {name: value.median for name, value in r.items() if isinstance(value, Timing)}
        export = f"{m['odoo_export'] / m['cold']:.1f}" if "odoo_export" in m else "not run"
        print(f"| {size:,} | {m['naive'] / m['warm_get']:.1f} | {m['warm_get'] / m['not_modified']:.1f} "
              f"| {m['naive'] / m['one_change']:.1f} | {m['naive'] / m['cold']:.2f} | {export} "
              f"| {m['cold'] / m['floor']:.1f} | {r['peak_memory'] / r['ics_bytes']:.1f} "
              f"| {r['get_bytes'] / r['gzip_bytes']:.1f} | {m['gzip_get'] / m['warm_get']:.2f} "
              f"| {m['not_modified'] / m['health']:.2f} |")  # fmt: skip
    print(
        "\nFeed keys (the full ICS feed through the main link and through two keys):\n\n"
        "| bookings | main link GET | key for every room | key for one room | every room / main (≤ 1.5) "
        "| one room / main (≤ 1.5) | usage log per request (< 1 ms) |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for size, r in rows:
        main, every, one = (r[name].median for name in ("warm_get", "all_rooms_key_get", "one_room_key_get"))
        print(f"| {size:,} | {r['warm_get']} | {r['all_rooms_key_get']} | {r['one_room_key_get']} "
              f"| {every / main:.2f} | {one / main:.2f} | {r['usage_log'] * 1000:.3f} ms |")  # fmt: skip
    print_caldav_table(rows)
    print_polls_table(rows)


def print_caldav_table(rows):
    print(
        "\nCalDAV (PROPFIND Depth 1 asking getetag and getcontenttype, beside a warm JSON GET of the same "
        "events; sync-collection REPORT of the room booked by every booking after one change):\n\n"
        "| bookings | calendar | objects | PROPFIND Depth 1 | JSON GET | PROPFIND / JSON (≤ 2) "
        "| one-change sync (< 50 ms) |"
    )
    print("|---:|---|---:|---:|---:|---:|---:|")
    for size, r in rows:
        for label, calendar, _query in DAV_CALENDARS:
            propfind, json_get = r[f"dav_{calendar}_propfind"], r[f"dav_{calendar}_json"]
            sync = r["dav_sync_one_change"] if calendar == "room-BIG" else ""
            print(f"| {size:,} | {label} | {r[f'dav_{calendar}_objects']:,} | {propfind} | {json_get} "
                  f"| {propfind.median / json_get.median:.2f} | {sync} |")  # fmt: skip


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000", help="comma-separated booking counts")
    parser.add_argument("--fast", action="store_true", help=FAST_HELP)
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]

    import odoo.tools.config  # noqa: PLC0415

    with throwaway_odoo("ext-cal-bench-", durable=not args.fast) as (config, cluster):
        print(f"Installing {MODULE} in a template database...", flush=True)
        install_module(config, TEMPLATE)
        odoo.tools.config.parse_config(["-c", str(config), "--log-level=warn"])
        rows = []
        for size in sizes:
            print(f"Measuring {size:,} bookings...", flush=True)
            rows.append((size, bench_size(config, size)))
        measure_transfer_floors(rows, PORT, timed)  # the Odoo servers are gone: their port is free
        print_table(rows, cluster.settings)


if __name__ == "__main__":
    main()
