"""Free/busy periods and free intervals against a brute-force minute-by-minute reference."""

import itertools
import random
import re
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from conformance import check_ics

from booking_feed.freebusy import (
    BUSY,
    BUSY_TENTATIVE,
    BUSY_UNAVAILABLE,
    SHOWN_AS_FREE,
    Booking,
    Period,
    RoomFreeBusy,
    asked_range,
    busy_periods,
    free_intervals,
    outside,
    render_freebusy,
)
from booking_feed.query import FeedQuery, QueryError
from booking_feed.records import dump_record
from booking_feed.statuses import CANCELLED, CONFIRMED, TENTATIVE
from booking_feed.window import Window

ZONE = ZoneInfo("Europe/Brussels")
MINUTE = timedelta(minutes=1)
UTC = timezone.utc
#: Ranges of five local days around both DST changes of 2026 and an ordinary week.
FIRST_DAYS = (date(2026, 3, 27), date(2026, 10, 23), date(2026, 6, 8))


def local_midnight(day):
    return datetime.combine(day, time.min, tzinfo=ZONE).astimezone(UTC)


def random_bookings(rng, start, end, count):
    """Bookings on whole minutes in and around ``[start, end)``: overlapping, all-day, of every
    status, some shown as free."""
    minutes = int((end - start) / MINUTE)
    bookings = []
    for _ in range(count):
        status = rng.choice((CONFIRMED, CONFIRMED, TENTATIVE, CANCELLED))
        busy = rng.random() > 0.15
        if rng.random() < 0.15:
            first = start.astimezone(ZONE).date() + timedelta(days=rng.randint(-1, minutes // 1440))
            bookings.append(Booking(first, first + timedelta(days=rng.randint(1, 2)), status, busy))
            continue
        begin = start + MINUTE * rng.randint(-300, minutes + 300)
        bookings.append(Booking(begin, begin + MINUTE * rng.randint(1, 600), status, busy))
    return bookings


def random_closed(rng, start, end):
    """A few closed intervals (nights, a leave) on whole minutes."""
    closed = []
    for _ in range(rng.randint(0, 4)):
        begin = start + MINUTE * rng.randint(-100, int((end - start) / MINUTE))
        closed.append((begin, begin + MINUTE * rng.randint(1, 900)))
    return closed


def reference_minutes(bookings, closed, start, end):
    """The free/busy type of every minute of ``[start, end)`` (None: free), one minute at a time."""
    types = []
    moment = start
    while moment < end:

        def covers(low, high, moment=moment):
            return low <= moment < high

        bounds = [
            (
                booking,
                *(b if isinstance(b, datetime) else local_midnight(b) for b in (booking.start, booking.end)),
            )
            for booking in bookings
            if booking.busy and booking.status != CANCELLED
        ]
        statuses = {booking.status for booking, low, high in bounds if covers(low, high)}
        if any(covers(low, high) for low, high in closed):
            types.append(BUSY_UNAVAILABLE)
        elif CONFIRMED in statuses:
            types.append(BUSY)
        elif TENTATIVE in statuses:
            types.append(BUSY_TENTATIVE)
        else:
            types.append(None)
        moment += MINUTE
    return types


def minutes_of(periods, start, end):
    """The type of every minute of ``[start, end)`` according to ``periods`` (each minute once)."""
    types = [None] * int((end - start) / MINUTE)
    for period in periods:
        for index in range(int((period.start - start) / MINUTE), int((period.end - start) / MINUTE)):
            assert types[index] is None, "periods overlap"
            types[index] = period.busy_type
    return types


def reference_free(types, start, minimum):
    """Runs of free minutes at least ``minimum`` long, as ``(start, end)``."""
    runs, run_start = [], None
    for index, busy_type in enumerate([*types, BUSY]):
        if busy_type is None and run_start is None:
            run_start = index
        elif busy_type is not None and run_start is not None:
            if (index - run_start) * MINUTE >= max(minimum, MINUTE):
                runs.append((start + run_start * MINUTE, start + index * MINUTE))
            run_start = None
    return runs


CASES = [(seed, first_day) for seed in range(12) for first_day in FIRST_DAYS]


@pytest.mark.parametrize(("seed", "first_day"), CASES)
def test_periods_match_the_minute_by_minute_reference(seed, first_day):
    rng = random.Random(seed)  # noqa: S311 (seeded on purpose: a failure replays)
    start, end = local_midnight(first_day), local_midnight(first_day + timedelta(days=5))
    bookings = random_bookings(rng, start, end, rng.randint(0, 40))
    closed = random_closed(rng, start, end)
    periods = busy_periods(bookings, start, end, ZONE, closed)
    expected = reference_minutes(bookings, closed, start, end)
    assert minutes_of(periods, start, end) == expected
    assert periods == sorted(periods, key=lambda period: period.start)
    for before, after in itertools.pairwise(periods):
        assert before.end <= after.start
        assert before.end < after.start or before.busy_type != after.busy_type, "not merged"
    minimum = MINUTE * rng.choice((0, 1, 30, 90, 240))
    assert free_intervals(periods, start, end, minimum) == reference_free(expected, start, minimum)


@pytest.mark.parametrize("seed", range(6))
def test_vfreebusy_parses_back_to_the_same_periods(seed):
    rng = random.Random(seed)  # noqa: S311 (seeded on purpose: a failure replays)
    start, end = (
        local_midnight(FIRST_DAYS[seed % 3]),
        local_midnight(FIRST_DAYS[seed % 3] + timedelta(days=5)),
    )
    rooms = [
        RoomFreeBusy(code, name, tuple(busy_periods(random_bookings(rng, start, end, 15), start, end, ZONE)))
        for code, name in (("SIM1", "Sim Room 1"), ("DEBRIEF", "Débriefing; 1st, floor"))
    ]
    stamp = datetime(2026, 3, 2, 9, 15, tzinfo=UTC)
    body = render_freebusy(rooms, start, end, stamp=stamp, database_uuid="db")
    calendar = check_ics(body)
    assert str(calendar["METHOD"]) == "PUBLISH"
    components = calendar.walk("VFREEBUSY")
    assert [str(component["CONTACT"]) for component in components] == [room.name for room in rooms]
    for room, component in zip(rooms, components, strict=True):
        assert str(component["UID"]) == f"freebusy-{room.code}-db@odoo"
        assert component["DTSTART"].dt == start and component["DTEND"].dt == end
        assert component["DTSTAMP"].dt == stamp
        lines = component.get("FREEBUSY", [])
        lines = lines if isinstance(lines, list) else [lines]
        parsed = [Period(*line.dt, line.params["FBTYPE"]) for line in lines]
        assert parsed == list(room.periods)
    for line in body.decode().replace("\r\n ", "").split("\r\n"):
        if line.startswith("FREEBUSY"):  # in UTC, as RFC 5545 3.8.2.6 requires
            assert re.fullmatch(r"FREEBUSY;FBTYPE=[A-Z-]+:[0-9]{8}T[0-9]{6}Z/[0-9]{8}T[0-9]{6}Z", line)


def test_the_same_periods_give_the_same_bytes():
    start, end = local_midnight(FIRST_DAYS[0]), local_midnight(FIRST_DAYS[0] + timedelta(days=1))
    room = RoomFreeBusy("SIM1", "Sim Room 1", (Period(start + MINUTE, start + 2 * MINUTE),))
    stamp = datetime(2026, 3, 2, 9, 15, tzinfo=UTC)
    assert render_freebusy([room], start, end, stamp=stamp, database_uuid="db") == render_freebusy(
        [room], start, end, stamp=stamp, database_uuid="db"
    )


def test_confirmed_wins_over_tentative_where_they_overlap():
    start = datetime(2026, 6, 8, 8, tzinfo=UTC)
    bookings = [
        Booking(start, start + timedelta(hours=2), TENTATIVE),
        Booking(start + timedelta(hours=1), start + timedelta(hours=3), CONFIRMED),
    ]
    assert busy_periods(bookings, start, start + timedelta(hours=4), ZONE) == [
        Period(start, start + timedelta(hours=1), BUSY_TENTATIVE),
        Period(start + timedelta(hours=1), start + timedelta(hours=3), BUSY),
    ]


def test_transparent_and_cancelled_bookings_leave_the_room_free():
    start = datetime(2026, 6, 8, 8, tzinfo=UTC)
    end = start + timedelta(hours=4)
    bookings = [Booking(start, end, CONFIRMED, busy=False), Booking(start, end, CANCELLED)]
    assert busy_periods(bookings, start, end, ZONE) == []
    assert free_intervals([], start, end, timedelta(hours=4)) == [(start, end)]


def test_an_all_day_booking_covers_the_local_day_across_dst():
    day = date(2026, 3, 29)  # 23 hours long in Brussels
    (period,) = busy_periods([Booking(day, day + timedelta(days=1), CONFIRMED)], *_days(day, 3), ZONE)
    assert (period.start, period.end) == (local_midnight(day), local_midnight(day + timedelta(days=1)))
    assert period.end - period.start == timedelta(hours=23)


def _days(first, count):
    return local_midnight(first - timedelta(days=1)), local_midnight(first + timedelta(days=count))


def test_outside_is_what_opening_hours_leave_closed():
    day = local_midnight(date(2026, 3, 29))
    hours = [
        (day + timedelta(hours=7), day + timedelta(hours=16)),
        (day + timedelta(hours=15), day + timedelta(hours=18)),
    ]
    assert outside(hours, day, day + timedelta(hours=23)) == [
        (day, day + timedelta(hours=7)),
        (day + timedelta(hours=18), day + timedelta(hours=23)),
    ]
    assert outside([], day, day + MINUTE) == [(day, day + MINUTE)]
    assert outside(hours, day, day) == []


@pytest.mark.parametrize("text", ['"busy":false', '\\"busy\\":false', 'x", "busy":false'])
def test_a_stored_record_says_shown_as_free_only_when_it_is(make_event, text):
    assert SHOWN_AS_FREE in dump_record(make_event(busy=False, title=text, description=text))
    assert SHOWN_AS_FREE not in dump_record(make_event(title=text, description=text, organizer_name=text))


def test_only_a_range_the_client_states_over_a_year_is_refused():
    # An admin may publish 30 days back and two years ahead: asking for nothing is no error.
    wide = Window(
        datetime(2026, 3, 1, tzinfo=UTC),
        datetime(2028, 3, 1, tzinfo=UTC),
        date(2026, 3, 1),
        date(2028, 2, 29),
    )
    year = timedelta(days=366)
    assert asked_range(FeedQuery(), wide) == (wide.start, wide.start + year)
    start = datetime(2026, 6, 1, tzinfo=UTC)
    assert asked_range(FeedQuery(start=start), wide) == (start, start + year)
    end = datetime(2027, 12, 1, tzinfo=UTC)
    assert asked_range(FeedQuery(end=end), wide) == (end - year, end)
    assert asked_range(FeedQuery(start=start, end=start + year), wide) == (start, start + year)
    with pytest.raises(QueryError, match="367 days asked for, at most 366"):
        asked_range(FeedQuery(start=start, end=start + year + timedelta(days=1)), wide)
