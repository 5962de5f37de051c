"""Where a cold build's time goes, at N bookings.

Usage: ``.venv/bin/python bench/profile_build.py [--bookings 10000] [--fast] [--stages]``.

By default: a cProfile of one cold rebuild (the functions with the most
cumulative and own time) and of a rebuild after one booking changed. With
``--stages``: wall-clock time of each stage of a cold build, without a
profiler (which inflates Python calls more than SQL), median of 5 builds,
so the README can say where the time goes.
"""

import argparse
import cProfile
import functools
import pstats
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "scripts"), str(ROOT)]

from bench.run import FAST_HELP, REPEATS, cold_start, populated_odoo  # noqa: E402

DATABASE = "bench_profile"
#: (model, method, what it is) of each stage timed by --stages, in build order.
STAGES = [
    ("calendar.event", "_read_feed_events", "read the published bookings (SQL and FeedEvent records)"),
    ("calendar.feed.entry", "_get_states", "read the entries' fingerprints"),
    ("calendar.feed.entry", "_prepare_values", "render VEVENT, JSON object and stored record"),
    ("calendar.feed.entry", "_insert", "write new entries (COPY lines and COPY)"),
    ("calendar.feed.entry", "_upsert", "write changed entries"),
    ("calendar.feed.entry", "_get_departed", "find departed bookings"),
    ("calendar.feed.segment", "_stream_query", "assemble each segment's text in PostgreSQL and fetch it"),
    ("calendar.feed.segment", "_prepare_row", "compress, checksum and digest each segment"),
    ("calendar.feed.segment", "_write", "write the segments"),
    ("calendar.feed.segment", "_summary", "digest the segments' digests (ETags, sizes)"),
]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bookings", type=int, default=10_000)
    parser.add_argument("--fast", action="store_true", help=FAST_HELP)
    parser.add_argument("--stages", action="store_true", help="time each stage instead of profiling")
    args = parser.parse_args()

    with populated_odoo("ext-cal-profile-", DATABASE, args.bookings, fast=args.fast) as (
        _config,
        cluster,
        env,
    ):
        cr, feed = env.cr, env["calendar.feed"]._get_singleton()
        cr.commit()

        if args.stages:
            time_stages(env, feed, cluster.settings, args.bookings)
            return
        for _warm_up_then_measured in range(2):
            cold_start(env, feed)
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


def time_stages(env, feed, settings, bookings):
    """Print the median wall-clock time of each stage of a cold build, and of the whole build."""
    totals = defaultdict(float)
    for model, method, _what in STAGES:
        timer = _timer(totals, method, generator=method in ("_read_feed_events", "_stream_query"))
        cls = type(env[model])
        original = getattr(cls, method)
        # Static methods stay static: the registry class holds the function itself.
        wrapped = timer(original)
        static = method in ("_prepare_values", "_prepare_row")
        setattr(cls, method, staticmethod(wrapped) if static else wrapped)
    runs = []
    for _warm_up_then_measured in range(REPEATS + 1):
        cold_start(env, feed)
        totals.clear()
        started = time.perf_counter()
        feed._rebuild(full=True)
        built = time.perf_counter()
        env.cr.commit()
        totals["commit"] = time.perf_counter() - built
        totals["whole build"] = time.perf_counter() - started
        runs.append(dict(totals))
    runs = runs[1:]

    def median_ms(name):
        return statistics.median(run.get(name, 0.0) for run in runs) * 1000

    whole = median_ms("whole build")
    print(f"\nPostgreSQL {settings}; cold build of {bookings:,} bookings, median of {REPEATS}:\n")
    print("| stage | ms | share |\n|---|---:|---:|")
    rows = [(what, median_ms(method)) for _model, method, what in STAGES] + [("commit", median_ms("commit"))]
    rows.append(
        ("the rest (fingerprints, bookkeeping, pruning, writing the feed)", whole - sum(ms for _, ms in rows))
    )
    for what, ms in rows:
        print(f"| {what} | {ms:,.0f} | {ms / whole:.0%} |")
    print(f"| **whole build** | **{whole:,.0f}** | 100% |")


def _timer(totals, name, generator=False):
    """A decorator adding the time spent in a function (or in a generator's steps) to ``totals[name]``."""

    def decorate(function):
        if generator:

            @functools.wraps(function)
            def timed_steps(*args, **kwargs):
                steps = function(*args, **kwargs)
                while True:
                    started = time.perf_counter()
                    try:
                        item = next(steps)
                    except StopIteration:
                        return
                    finally:
                        totals[name] += time.perf_counter() - started
                    yield item

            return timed_steps

        @functools.wraps(function)
        def timed_call(*args, **kwargs):
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                totals[name] += time.perf_counter() - started

        return timed_call

    return decorate


def report(profiler):
    stats = pstats.Stats(profiler)
    stats.sort_stats("cumulative").print_stats(30)
    stats.sort_stats("tottime").print_stats(15)


if __name__ == "__main__":
    main()
