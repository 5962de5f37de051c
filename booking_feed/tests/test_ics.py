from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import icalendar
import pytest
import recurring_ical_events
from conformance import ConformanceError, check_ics
from conftest import DEBRIEF, SIM_ROOM

from booking_feed import render_calendar, render_vevent


def feed(*events, **calendar):
    options = {"name": "Sim Centre rooms", "timezone": "Europe/Budapest"} | calendar
    return render_calendar([render_vevent(event) for event in events], **options)


def only_event(data):
    (event,) = check_ics(data).walk("VEVENT")
    return event


def test_event_round_trips_through_icalendar(make_event):
    event = only_event(feed(make_event()))
    assert str(event["UID"]) == "booking-7@db-uuid"
    assert str(event["SUMMARY"]) == "OSCE station 1"
    assert event["DTSTART"].dt == datetime(2026, 3, 5, 8, 30, tzinfo=timezone.utc)
    assert event["DTEND"].dt == datetime(2026, 3, 5, 10, 0, tzinfo=timezone.utc)
    assert str(event["LOCATION"]) == "Sim Room 1 (Building A)"
    assert str(event["STATUS"]) == "CONFIRMED"


def test_dtstamp_and_last_modified_are_the_booking_change_time(make_event):
    event = only_event(feed(make_event(sequence=3)))
    changed = datetime(2026, 3, 2, 9, 15, tzinfo=timezone.utc)
    assert event["DTSTAMP"].dt == changed
    assert event["LAST-MODIFIED"].dt == changed
    assert event["CREATED"].dt == datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
    assert event["SEQUENCE"] == 3


def test_times_in_other_zones_and_with_microseconds_are_written_as_utc_seconds(make_event):
    new_york = ZoneInfo("America/New_York")
    block = render_vevent(
        make_event(
            start=datetime(2026, 3, 5, 3, 30, 59, 999_999, tzinfo=new_york),
            end=datetime(2026, 3, 5, 23, 0, tzinfo=new_york),
            updated=datetime(2026, 3, 2, 9, 15, 7, 123_456, tzinfo=timezone.utc),
        )
    ).decode()
    assert "\r\nDTSTART:20260305T083059Z\r\n" in block
    assert "\r\nDTEND:20260306T040000Z\r\n" in block  # the next day in UTC
    assert "\r\nDTSTAMP:20260302T091507Z\r\n" in block


def test_block_does_not_depend_on_render_time(make_event):
    assert render_vevent(make_event()) == render_vevent(make_event())


def test_all_day_event_uses_dates_with_exclusive_end(make_event):
    data = feed(make_event(all_day=True))
    assert b"DTSTART;VALUE=DATE:20260305\r\n" in data
    assert b"DTEND;VALUE=DATE:20260306\r\n" in data
    occurrences = recurring_ical_events.of(icalendar.Calendar.from_ical(data)).at(date(2026, 3, 5))
    assert len(occurrences) == 1
    assert not recurring_ical_events.of(icalendar.Calendar.from_ical(data)).at(date(2026, 3, 6))


def test_special_characters_are_escaped_and_survive(make_event):
    title = 'Debrief, part 1; "ward" \\ notes\nsecond line'
    event = only_event(feed(make_event(title=title, description="a;b,c\nd")))
    assert str(event["SUMMARY"]) == title
    assert str(event["DESCRIPTION"]) == "a;b,c\nd"


def test_long_unicode_title_is_folded_at_75_octets_without_splitting_characters(make_event):
    title = "Szimulációs gyakorlat – újraélesztés 🚑 " * 8
    data = feed(make_event(title=title))
    assert max(len(line) for line in data.split(b"\r\n")) <= 75
    assert str(only_event(data)["SUMMARY"]) == title


def test_private_booking_shows_busy_without_description(make_event):
    event = only_event(feed(make_event(private=True, description="Patient actor: J. Doe")))
    assert str(event["SUMMARY"]) == "Busy"
    assert "DESCRIPTION" not in event
    assert str(event["CLASS"]) == "PRIVATE"


@pytest.mark.parametrize(
    ("status", "expected"),
    [("confirmed", "CONFIRMED"), ("tentative", "TENTATIVE"), ("cancelled", "CANCELLED")],
)
def test_status_maps_to_ics_status(make_event, status, expected):
    assert str(only_event(feed(make_event(status=status)))["STATUS"]) == expected


def test_free_booking_is_transparent(make_event):
    assert str(only_event(feed(make_event(busy=False)))["TRANSP"]) == "TRANSPARENT"
    assert str(only_event(feed(make_event()))["TRANSP"]) == "OPAQUE"


def test_several_rooms_are_listed_in_location(make_event):
    event = only_event(feed(make_event(rooms=(SIM_ROOM, DEBRIEF))))
    assert str(event["LOCATION"]) == "Sim Room 1 (Building A), Debriefing"


def test_calendar_properties(make_event):
    calendar = check_ics(
        feed(make_event(), description="Rooms of the centre", refresh_interval=timedelta(minutes=30))
    )
    assert str(calendar["METHOD"]) == "PUBLISH"
    assert str(calendar["VERSION"]) == "2.0"
    assert str(calendar["CALSCALE"]) == "GREGORIAN"
    assert str(calendar["X-WR-CALNAME"]) == "Sim Centre rooms"
    assert str(calendar["X-WR-CALDESC"]) == "Rooms of the centre"
    assert str(calendar["X-WR-TIMEZONE"]) == "Europe/Budapest"
    assert calendar["REFRESH-INTERVAL"].dt == timedelta(minutes=30)
    assert b"REFRESH-INTERVAL;VALUE=DURATION:PT30M\r\n" in feed(
        make_event(), refresh_interval=timedelta(minutes=30)
    )


def test_empty_calendar_is_valid():
    calendar = check_ics(feed())
    assert not calendar.walk("VEVENT")


def test_conformance_check_rejects_bare_lf_long_lines_and_unescaped_text(make_event):
    good = feed(make_event())
    with pytest.raises(ConformanceError, match="bare CR or LF"):
        check_ics(good.replace(b"\r\nSUMMARY", b"\nSUMMARY"))
    with pytest.raises(ConformanceError, match="octets long"):
        check_ics(good.replace(b"SUMMARY:OSCE station 1", b"SUMMARY:" + b"x" * 80))
    with pytest.raises(ConformanceError, match="not escaped"):
        check_ics(good.replace(b"SUMMARY:OSCE station 1", b"SUMMARY:a,b"))
    with pytest.raises(ConformanceError, match="no DTSTAMP"):
        check_ics(
            b"".join(line + b"\r\n" for line in good.split(b"\r\n")[:-1] if not line.startswith(b"DTSTAMP"))
        )


def test_zero_length_booking_has_no_dtend(make_event):
    moment = datetime(2026, 3, 5, 9, 0, tzinfo=timezone.utc)
    event = only_event(feed(make_event(start=moment, end=moment)))
    assert "DTEND" not in event
    assert event["DTSTART"].dt == moment


def test_calendar_name_and_description_in_both_forms(make_event):
    calendar = check_ics(feed(make_event(), description="Rooms"))
    assert (str(calendar["NAME"]), str(calendar["X-WR-CALNAME"])) == ("Sim Centre rooms", "Sim Centre rooms")
    assert (str(calendar["DESCRIPTION"]), str(calendar["X-WR-CALDESC"])) == ("Rooms", "Rooms")


def test_organizer_only_when_given(make_event):
    assert "ORGANIZER" not in only_event(feed(make_event()))
    event = only_event(
        feed(make_event(organizer_name="Sim Centre, Desk", organizer_email="sim@hospital.example"))
    )
    assert str(event["ORGANIZER"]) == "mailto:sim@hospital.example"
    assert event["ORGANIZER"].params["CN"] == "Sim Centre, Desk"
