"""Where a cold build's time goes: cProfile of one cold rebuild of N bookings.

Usage: ``.venv/bin/python bench/profile_build.py [--bookings 10000] [--fast]``.
Prints the functions with the most cumulative and own time, and the time of
the commit's time apart, then the same for a rebuild after one booking
changed, so the README can say where a build's time goes.
"""

import argparse
import cProfile
import pstats
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "scripts"), str(ROOT)]

from bench.run import FAST_HELP, populated_odoo  # noqa: E402

DATABASE = "bench_profile"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bookings", type=int, default=10_000)
    parser.add_argument("--fast", action="store_true", help=FAST_HELP)
    args = parser.parse_args()

    with populated_odoo("ext-cal-profile-", DATABASE, args.bookings, fast=args.fast) as (
        _config,
        cluster,
        env,
    ):
        cr, feed = env.cr, env["calendar.feed"]._get_singleton()
        cr.commit()
        for _warm_up_then_measured in range(2):
            cr.execute("DELETE FROM calendar_feed_entry")
            feed.write({"content_key": False})
            cr.commit()
            env.invalidate_all()
            profiler = cProfile.Profile()
            started = time.perf_counter()
            profiler.enable()
            feed._rebuild(full=True)
            profiler.disable()
            built = time.perf_counter()
            cr.commit()
            committed = time.perf_counter()
        print(f"\nPostgreSQL {cluster.settings}; cold build of {args.bookings:,} bookings: "
              f"{(built - started) * 1000:.0f} ms, commit {(committed - built) * 1000:.0f} ms\n")  # fmt: skip
        report(profiler)
        booking = env["calendar.event"].search([("room_ids", "!=", False)], limit=1)
        booking.name = "Changed for the profile"
        cr.commit()
        profiler = cProfile.Profile()
        started = time.perf_counter()
        profiler.enable()
        feed._rebuild()
        profiler.disable()
        print(f"\nRebuild after one change: {(time.perf_counter() - started) * 1000:.0f} ms\n")
        report(profiler)


def report(profiler):
    stats = pstats.Stats(profiler)
    stats.sort_stats("cumulative").print_stats(30)
    stats.sort_stats("tottime").print_stats(15)


if __name__ == "__main__":
    main()
