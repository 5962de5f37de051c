from datetime import datetime, timezone

import pytest

from booking_feed.query import FeedQuery, QueryError, parse_feed_query
from booking_feed.window import publication_window

BUDAPEST = "Europe/Budapest"


STATUSES = ("confirmed", "tentative")


def parse(**params):
    values = {name: value if isinstance(value, list) else [value] for name, value in params.items()}
    return parse_feed_query(values, timezone=BUDAPEST, statuses=STATUSES)


def test_no_parameters_mean_the_whole_feed():
    assert parse() == FeedQuery()


def test_rooms_are_repeatable_and_deduplicated():
    assert parse(room=["SIM1", "DEBRIEF", "SIM1"]).room_codes == ("SIM1", "DEBRIEF")


@pytest.mark.parametrize(
    ("name", "value", "field"), [("room", "SIM1", "room_codes"), ("status", "confirmed", "statuses")]
)
def test_repeatable_parameters_count_a_repeated_value_once(name, value, field):
    """Three identical rooms and three identical statuses are alike: one value, given three times."""
    assert getattr(parse(**{name: [value] * 3}), field) == (value,)


@pytest.mark.parametrize(("name", "value"), [("room", "SIM1"), ("status", "confirmed")])
def test_repeatable_parameters_take_at_most_100_values(name, value):
    with pytest.raises(QueryError, match=f"^{name}: given 101 times, at most 100$"):
        parse(**{name: [value] * 101})


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


def test_datetimes_are_rfc3339_in_either_case():
    """RFC 3339 (5.6) lets the T and the Z be lowercase; fractions and a leap second are RFC 3339 too."""
    moment = datetime(2026, 3, 5, 8, tzinfo=timezone.utc)
    for value in ("2026-03-05t08:00:00z", "2026-03-05T09:00:00.000+01:00", "2026-03-05T07:59:60Z"):
        assert parse(**{"from": value}).start == moment, value


@pytest.mark.parametrize("value", ["0001-01-01", "0999-12-31", "3000-01-01", "9999-12-31T23:59:59-23:59"])
def test_moments_outside_the_years_1000_to_2999_are_out_of_range(value):
    with pytest.raises(QueryError, match=r"is out of range: years 1000 to 2999$"):
        parse(**{"to": value})


@pytest.mark.parametrize(
    "value", ["2026-W10-4", "20260305", "2026-03-05T08:00Z", " 2026-03-05", "2026-03-05T08:00:00+24:00"]
)
def test_other_iso_8601_forms_are_refused(value):
    """What the OpenAPI document declares, exactly: RFC 3339 dates and datetimes, on any Python."""
    with pytest.raises(QueryError, match="is not an ISO date"):
        parse(**{"from": value})


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"from": "tomorrow"}, "not an ISO date"),
        ({"to": "2026-02-30"}, "not an ISO date"),
        ({"from": ["2026-03-05", "2026-03-06"]}, "given 2 times"),
        ({"from": "2026-03-06", "to": "2026-03-05"}, "must be after from"),
        ({"room": ""}, "empty room code"),
        ({"room": " SIM1"}, "is not a room code"),
        ({"q": "OSCE" + " " * 97}, "q: longer than 100 characters"),
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
