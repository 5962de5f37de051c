import json
import re
from zoneinfo import ZoneInfo

import pytest
from conformance import check_ics
from hypothesis import given, settings
from hypothesis import strategies as st

from booking_feed import FeedRoom, dump_event, render_calendar, render_vevent
from booking_feed.text import EMAIL_PLACEHOLDER, PHONE_PLACEHOLDER, clean_text, hide_contact_details

FORBIDDEN_CONTROLS = [chr(code) for code in [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F]]
PHONE = PHONE_PLACEHOLDER


@pytest.mark.parametrize(
    ("text", "published"),
    [
        ("call +32 470 12 34 56", f"call {PHONE}"),
        ("call 0470 12 34 56 now", f"call {PHONE} now"),
        ("tel (06) 1 555 0199", f"tel {PHONE}"),
        ("+44 (0)20 7946 0958", PHONE),
        ("06-30-123-4567 or 06.30.123.4567", f"{PHONE} or {PHONE}"),
        ("call 555-0199", f"call {PHONE}"),
        ("0470123456 and 0470123457", f"{PHONE} and {PHONE}"),
        ("Tel0470123456", f"Tel{PHONE}"),
        ("ref 20260305", f"ref {PHONE}"),  # a date needs separators to be one
        ("13/13/2026 1234", PHONE),  # no such date: digits that may be a phone
        ("Mar 5, 2026 8:00 AM, call 06 1 555-0199", f"Mar 5, 2026 8:00 AM, call {PHONE}"),
    ],
)
def test_phone_numbers_are_hidden(text, published):
    assert hide_contact_details(text) == published


@pytest.mark.parametrize(
    "text",
    [
        "on 2026-03-05 at 08:30-10:00",
        "05/03/2026 and 05.03.2026, 3/5/26",
        "2026-03-05 09:00",
        "12:30 - 14:00 in 2026",
        "1-2 March 2026, 9 - 17 h",
        "academic year 2026-2027 (2026/27)",
        "0800-1000 drill, 08.30-10.00 debrief, 8h30",
        "2026-03-05-2026-03-06",
        "5.3.2026 10 students",
        "31.12.2026 23:59:59",
        "extension 4711, room 101, 12 participants",
    ],
)
def test_dates_times_and_short_numbers_stay(text):
    assert hide_contact_details(text) == text


def test_emails_are_hidden_before_phones():
    assert hide_contact_details("mailto:desk1234567@hospital.example") == EMAIL_PLACEHOLDER


def test_clean_text_drops_control_characters_and_keeps_tabs_and_line_breaks():
    assert clean_text("a\x00b\x01c\r\nd\re\nf\tg\x7fh\x0bi") == "abc\nd\ne\nf\tghi"


def test_clean_text_drops_what_xml_cannot_hold():
    """CalDAV answers are XML 1.0, which refuses U+FFFE and U+FFFF (PostgreSQL stores them)."""
    assert clean_text("Sim\ufffe Room\uffff") == "Sim Room"


@settings(max_examples=500, derandomize=True)
@given(st.text())
def test_clean_text_leaves_no_forbidden_control_character(text):
    cleaned = clean_text(text)
    assert not set(cleaned) & {*FORBIDDEN_CONTROLS, "\r"}
    assert clean_text(cleaned) == cleaned


DIGITS_AND_SEPARATORS = st.text(alphabet="0123456789 +-./()@:ha", max_size=60)


@settings(max_examples=1000, derandomize=True)
@given(DIGITS_AND_SEPARATORS)
def test_hiding_is_stable_and_leaves_no_long_undated_digit_run(text):
    hidden = hide_contact_details(text)
    assert hide_contact_details(hidden) == hidden
    # Whatever is left of a run of 7+ digits was kept as a date or time.
    for run in re.findall(r"\d(?:[ ./()-]{0,2}\d)*", hidden):
        if sum(c.isdigit() for c in run) >= 7:
            assert any(mark in run for mark in "-./:h"), (text, hidden)


def test_hostile_texts_render_to_conformant_ics_and_clean_json(make_event):
    hostile = "".join(FORBIDDEN_CONTROLS) + "OSCE\r\nday 2\rend"
    room = FeedRoom(id=9, code="R9", name=f"Room{hostile}", location=hostile)
    event = make_event(
        title=hostile,
        description=hostile,
        rooms=(room,),
        organizer_name=hostile,
        organizer_email="desk@x.example",
    )
    data = render_calendar([render_vevent(event)], name=hostile, timezone="UTC", description=hostile)
    calendar = check_ics(data)
    assert not set(data.decode()) & set(FORBIDDEN_CONTROLS) - {"\r"}
    assert str(calendar.walk("VEVENT")[0]["SUMMARY"]) == "OSCE\nday 2\nend"
    published = json.loads(dump_event(event, ZoneInfo("UTC")))
    texts = [published["activity"]["title"], published["note"], *published["rooms"][0].values()]
    for text in texts:
        assert not set(str(text)) & {*FORBIDDEN_CONTROLS, "\r"}
