"""Hostile query strings: the parsers answer a value or a QueryError, never anything else."""

import base64
import json
from datetime import datetime, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from booking_feed.query import MAX_TEXT_LENGTH, QueryError, parse_feed_query
from booking_feed.records import ROOM_CODE_PATTERN
from booking_feed.sync import MAX_NUMBER, TOKEN_VERSION, filter_signature, parse_paging

SIGNATURE = filter_signature([])
NAMES = ["room", "from", "to", "q", "status", "limit", "cursor", "since", "token", "x"]


def token_of(payload) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=12,
)
NUMBERS = st.sampled_from(
    ["0", "-1", "1e308", "NaN", "inf", "1.5", "99999999999999999999", "²", "１２", " 7"]
)
DATES = st.sampled_from([
    "2026-02-30", "2026-13-01", "0001-01-01", "9999-12-31", "9999-12-31T23:59:59-23:59",
    "0001-01-01T00:00:00+23:59", "2026-03-05T25:00:00Z", "2026-03-05T08:00:00+99:00", "2026-03-05T08:00:00",
    "2026-03-05t08:00:00z", "2026-03-05T23:59:60-23:59", "2999-12-31T23:59:59.9999999999-23:59", "1000-01-01",
    "2999-12-31", "2026-03-05T08:00:00 01:00", "2026-03-05T08:00:60Z", "2026-02-29", "2028-02-29",
])  # fmt: skip
TOKENS = st.one_of(
    JSON_VALUES.map(token_of),
    st.binary(max_size=64).map(lambda data: base64.urlsafe_b64encode(data).decode()),
    st.fixed_dictionaries(
        {
            "v": st.just(TOKEN_VERSION),
            "f": st.just(SIGNATURE),
            "s": JSON_VALUES,
            "a": JSON_VALUES,
            "n": JSON_VALUES,
        }
    ).map(token_of),
    st.just("[" * 5000),
)
LONG_TEXTS = st.text(min_size=1, max_size=10).map(lambda text: text * 500)
VALUES = st.one_of(
    st.text(max_size=30), LONG_TEXTS, NUMBERS, DATES, TOKENS,
    st.sampled_from(["\x00", "%00", "SIM1\x00", "SIM_1", "a" * 33, "confirmed", "OSCE"]),
)  # fmt: skip
PARAMS = st.dictionaries(st.sampled_from(NAMES), st.lists(VALUES, min_size=1, max_size=3), max_size=5)


@settings(max_examples=600, derandomize=True, deadline=None)
@given(PARAMS)
def test_feed_query_parses_or_says_why(params):
    try:
        query = parse_feed_query(params, timezone="Europe/Budapest", statuses=("confirmed", "tentative"))
    except QueryError as error:
        assert str(error).split(":")[0] in {*NAMES, "unknown parameter"}
        return
    assert all(ROOM_CODE_PATTERN.fullmatch(code) for code in query.room_codes)
    for moment in (query.start, query.end):
        assert moment is None or moment.tzinfo == timezone.utc
    assert len(query.text) <= MAX_TEXT_LENGTH and query.text.isprintable()


@settings(max_examples=600, derandomize=True, deadline=None)
@given(PARAMS)
def test_paging_parses_or_says_why(params):
    try:
        paging = parse_paging(params, SIGNATURE, default_limit=0, max_limit=1000)
    except QueryError as error:
        assert str(error).split(":")[0] in {"limit", "cursor", "since"}
        return
    assert 0 <= paging.limit <= 1000
    assert paging.since is None or 0 <= paging.since <= MAX_NUMBER
    if paging.cursor:
        assert 0 <= paging.cursor.stamp <= MAX_NUMBER and 0 <= paging.cursor.after_id <= MAX_NUMBER
        datetime.strptime(paging.cursor.after_start, "%Y-%m-%d %H:%M:%S")
