"""Issue 27's measurements: what a subscriber's first poll after one change costs, and the
server's memory while it builds and serves the whole feed.

Used by ``bench/run.py`` against its Odoo server; printed in the table
"First poll after one change".
"""

from functools import partial
from pathlib import Path

from bench.transfer_floor import fetch, floor_server

#: (label, route, Accept-Encoding) of the polls timed after each change.
POLLS = (
    ("ICS", "public_calendar.ics", "identity"),
    ("ICS gzip", "public_calendar.ics", "gzip"),
    ("JSON", "public_calendar.json", "identity"),
    ("JSON gzip", "public_calendar.json", "gzip"),
)


def memory_kb(pid, field):
    """``VmRSS`` (now) or ``VmHWM`` (peak since start) of a process, in kB, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} for process {pid}")


def measure_cold_build_memory(server, token, odoo_calls, http_get):
    """The server's resident memory before and after it built the feed from nothing (its first
    request after the entries and segments were emptied) and served both feeds, plain and gzip."""
    idle = memory_kb(server.pid, "VmRSS")
    odoo_calls.make_cold()
    for _label, route, coding in POLLS:
        status, _headers, _body = http_get(f"/w/api/v2/{route}?token={token}", {"Accept-Encoding": coding})
        assert status == 200, status
    return {"rss_idle": idle * 1024, "rss_peak": memory_kb(server.pid, "VmHWM") * 1024}


def measure_polls(token, odoo_calls, http_get, timed):
    """The first poll after one change, for each route and coding: the change is made and
    committed untimed, then one GET is timed (which builds, then sends)."""
    results = {}
    for label, route, coding in POLLS:
        path, headers = f"/w/api/v2/{route}?token={token}", {"Accept-Encoding": coding}

        def poll(path=path, headers=headers, coding=coding):
            status, answer_headers, body = http_get(path, headers)
            assert status == 200 and answer_headers.get("Content-Encoding", "identity") == coding, status
            return len(body)

        results[f"poll_{label}"], results[f"bytes_{label}"] = timed(poll, setup=odoo_calls.change_one_booking)
    return results


def measure_transfer_floors(rows, port, timed):
    """For each size's plain polls, the same bytes sent by werkzeug from memory (``bench/transfer_floor.py``),
    added to the rows' results as ``floor_<label>``."""
    with floor_server(port):
        for _size, results in rows:
            for label, _route, coding in POLLS:
                if coding == "identity":
                    results[f"floor_{label}"], _ = timed(partial(fetch, port, results[f"bytes_{label}"]))


def print_floors_table(rows):
    """The plain polls beside their transfer floor, and what the server adds to it."""
    plain = [label for label, _route, coding in POLLS if coding == "identity"]
    if not all(f"floor_{label}" in r for _size, r in rows for label in plain):
        return
    print("\nThe plain polls beside their floor: the same bytes sent by werkzeug from memory, nothing read "
          "or built (`bench/transfer_floor.py`), and what the server adds to it:\n")  # fmt: skip
    print(
        "| bookings | "
        + " | ".join(f"{label} bytes | {label} floor | {label} poll − floor" for label in plain)
        + " |"
    )
    print("|---:|" + "---:|---:|---:|" * len(plain))

    def added(r, label):
        return r[f"poll_{label}"].median - r[f"floor_{label}"].median

    for size, r in rows:
        cells = [f"{r[f'bytes_{label}'] / 1e6:.2f} MB | {r[f'floor_{label}']} | {added(r, label) * 1000:,.1f} ms"
                 for label in plain]  # fmt: skip
        print(f"| {size:,} | " + " | ".join(cells) + " |")
    sizes = dict(rows)
    if 10_000 in sizes and 100_000 in sizes:
        big, small = sizes[100_000], sizes[10_000]
        cells = [f"{big[f'bytes_{label}'] / small[f'bytes_{label}']:.2f} "
                 f"| {big[f'floor_{label}'].median / small[f'floor_{label}'].median:.2f} "
                 f"| {added(big, label) / added(small, label):.2f}" for label in plain]  # fmt: skip
        print("| 100k / 10k | " + " | ".join(cells) + " |")


def print_polls_table(rows):
    """The issue's table: polls at each size, their 100k / 10k ratio, and against the naive build."""
    sizes = dict(rows)
    print(
        "\nFirst poll after one change (over HTTP: the change committed, then one GET, which builds "
        "and sends), against the naive icalendar build of the same events and the cold build:\n"
    )
    print("| bookings | ICS size | " + " | ".join(f"{label} poll" for label, _r, _c in POLLS)
          + " | naive / poll (≥ 50 at 10k) | cold build | naive / cold build (≥ 3) |")  # fmt: skip
    print("|---:|---:|" + "---:|" * len(POLLS) + "---|---:|---:|")
    for size, r in rows:
        polls = [r[f"poll_{label}"] for label, _r, _c in POLLS]
        against_naive = " / ".join(f"{r['naive'].median / poll.median:.1f}" for poll in polls)
        print(f"| {size:,} | {r['ics_bytes'] / 1e6:.2f} MB | " + " | ".join(str(poll) for poll in polls)
              + f" | {against_naive} | {r['cold']} | {r['naive'].median / r['cold'].median:.2f} |")  # fmt: skip
    if 10_000 in sizes and 100_000 in sizes:
        ratios = [sizes[100_000][f"poll_{label}"].median / sizes[10_000][f"poll_{label}"].median
                  for label, _r, _c in POLLS]  # fmt: skip
        print("| 100k / 10k (≤ 2) | | " + " | ".join(f"{ratio:.2f}" for ratio in ratios) + " | | | |")
    print_floors_table(rows)
    print("\nServer memory (resident set, /proc) while it builds from nothing and serves both feeds:\n")
    print(
        "| bookings | ICS size | idle | peak | peak / ICS size (≤ 3) | peak − idle | (peak − idle) / ICS size |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for size, r in rows:
        ics, idle, peak = r["ics_bytes"], r["rss_idle"], r["rss_peak"]
        print(f"| {size:,} | {ics / 1e6:.1f} MB | {idle / 1e6:.0f} MB | {peak / 1e6:.0f} MB | {peak / ics:.1f} "
              f"| {(peak - idle) / 1e6:.0f} MB | {(peak - idle) / ics:.2f} |")  # fmt: skip
