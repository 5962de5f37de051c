"""The room finder's options, ranking and document, without Odoo."""

import json
from datetime import datetime, timedelta, timezone

import pytest
from conftest import DEBRIEF, SIM_ROOM

from booking_feed.freebusy import BUSY, BUSY_TENTATIVE, Period
from booking_feed.query import QueryError
from booking_feed.room_finder import (
    FinderOptions,
    finder_document,
    parse_finder_options,
    rank_offers,
    room_offer,
)

START = datetime(2026, 3, 5, 12, tzinfo=timezone.utc)
END = START + timedelta(hours=5)
HOUR = timedelta(hours=1)


def offer(room, periods, minutes=1):
    options = FinderOptions(timedelta(minutes=minutes), 0)
    return room_offer(room, 8, periods, start=START, end=END, options=options)


def test_options_default_to_any_free_minute_and_any_room():
    options = parse_finder_options({"from": ["2026-03-05"], "to": ["2026-03-05"]})
    assert options == FinderOptions(timedelta(minutes=1), 0)


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({"to": ["2026-03-05"]}, "from: required"),
        ({"from": ["2026-03-05"]}, "to: required"),
        ({"from": ["x"], "to": ["x"], "minutes": ["1.5"]}, "minutes: '1.5' is not a whole number from 1"),
        ({"from": ["x"], "to": ["x"], "minutes": ["527041"]}, "minutes: '527041' is not a whole number"),
        ({"from": ["x"], "to": ["x"], "capacity": ["１２"]}, "capacity: '１２' is not a whole number from 0"),
        ({"from": ["x"], "to": ["x"], "capacity": ["1", "2"]}, "capacity: given 2 times"),
    ],
)
def test_bad_options_are_refused_with_their_reason(params, reason):
    with pytest.raises(QueryError, match=f"^{reason}"):
        parse_finder_options(params)


def test_tentative_bookings_take_their_time_and_short_gaps_are_not_offered():
    periods = [
        Period(START + HOUR, START + 2 * HOUR, BUSY_TENTATIVE),
        Period(START + 3 * HOUR, END - HOUR, BUSY),
    ]
    assert offer(SIM_ROOM, periods, minutes=61).free == ()
    assert offer(SIM_ROOM, periods, minutes=60).free == (
        (START, START + HOUR),
        (START + 2 * HOUR, START + 3 * HOUR),
        (END - HOUR, END),
    )


def test_free_throughout_first_then_longest_free_interval_then_the_order_given():
    busy_long = offer(SIM_ROOM, [Period(START, START + HOUR)])
    busy_short = offer(DEBRIEF, [Period(START, START + 4 * HOUR)])
    free = offer(DEBRIEF, [])
    assert free.free_throughout and not busy_long.free_throughout
    assert rank_offers([busy_short, busy_long, free]) == [free, busy_long, busy_short]
    assert rank_offers([busy_long, busy_long]) == [busy_long, busy_long]


def test_document_lists_rooms_with_their_free_intervals_in_utc():
    document = json.loads(finder_document("Europe/Brussels", START, END, [offer(SIM_ROOM, [])]))
    assert document == {
        "timeZone": "Europe/Brussels",
        "from": "2026-03-05T12:00:00Z",
        "to": "2026-03-05T17:00:00Z",
        "rooms": [
            {
                "code": "SIM1",
                "name": "Sim Room 1",
                "location": "Building A",
                "capacity": 8,
                "freeThroughout": True,
                "free": [{"start": "2026-03-05T12:00:00Z", "end": "2026-03-05T17:00:00Z"}],
            }
        ],
    }
