from datetime import datetime, timezone

import pytest

from booking_feed.query import FeedQuery, QueryError, parse_feed_query
from booking_feed.window import publication_window

BUDAPEST = "Europe/Budapest"


def parse(**params):
    return parse_feed_query({name: values if isinstance(values, list) else [values]
                             for name, values in params.items()}, timezone=BUDAPEST)  # fmt: skip


def test_no_parameters_mean_the_whole_feed():
    assert parse() == FeedQuery()


def test_rooms_are_repeatable_and_deduplicated():
    assert parse(room=["SIM1", "DEBRIEF", "SIM1"]).room_codes == ("SIM1", "DEBRIEF")


def test_dates_are_local_days_and_to_is_inclusive():
    query = parse(**{"from": "2026-03-05", "to": "2026-03-06"})
    assert query.start == datetime(2026, 3, 4, 23, 0, tzinfo=timezone.utc)
    assert query.end == datetime(2026, 3, 6, 23, 0, tzinfo=timezone.utc)


def test_datetimes_need_an_offset_and_accept_a_decoded_plus():
    assert parse(**{"from": "2026-03-05T08:00:00Z"}).start == datetime(2026, 3, 5, 8, tzinfo=timezone.utc)
    assert parse(**{"from": "2026-03-05T09:00:00 01:00"}).start == datetime(
        2026, 3, 5, 8, tzinfo=timezone.utc
    )
    with pytest.raises(QueryError, match="no UTC offset"):
        parse(**{"from": "2026-03-05T08:00:00"})


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"from": "tomorrow"}, "not an ISO date"),
        ({"to": "2026-02-30"}, "not an ISO date"),
        ({"from": ["2026-03-05", "2026-03-06"]}, "given 2 times"),
        ({"from": "2026-03-06", "to": "2026-03-05"}, "must be after from"),
        ({"room": ""}, "empty room code"),
    ],
)
def test_bad_values_say_what_is_wrong(params, message):
    with pytest.raises(QueryError, match=message):
        parse(**params)


def test_query_is_clipped_to_the_published_window():
    window = publication_window(datetime(2026, 3, 5, 10, tzinfo=timezone.utc), BUDAPEST, 0, 7)
    start, end = parse(**{"from": "2026-03-01", "to": "2026-03-06"}).narrow(window)
    assert (start, end) == (window.start, datetime(2026, 3, 6, 23, tzinfo=timezone.utc))
    start, end = parse(**{"from": "2026-04-01"}).narrow(window)
    assert start == end  # nothing of the window is asked for
