from dataclasses import fields as dataclass_fields
from datetime import date, datetime, timezone

import pytest


def test_naive_datetimes_are_refused(make_event):
    with pytest.raises(ValueError, match="timezone-aware"):
        make_event(start=datetime(2026, 3, 5, 8, 30))


def test_unknown_status_is_refused(make_event):
    with pytest.raises(ValueError, match="unknown status"):
        make_event(status="maybe")


def test_all_day_flag_must_match_date_values(make_event):
    with pytest.raises(ValueError, match="all-day"):
        make_event(start=date(2026, 3, 5), end=date(2026, 3, 6))


def test_end_before_start_is_refused(make_event):
    with pytest.raises(ValueError, match="end before"):
        make_event(end=datetime(2026, 3, 5, 8, 0, tzinfo=timezone.utc))


def test_emails_are_redacted_from_published_title_and_description(make_event):
    event = make_event(
        title="Interview with jane.doe+sim@hospital.example",
        description="Contact: mailto:dr.who@tardis.example.org, room 4 (ext. 1234)",
    )
    assert event.public_title == "Interview with [e-mail hidden]"
    assert event.public_description == "Contact: [e-mail hidden], room 4 (ext. 1234)"


def test_text_without_emails_is_published_as_written(make_event):
    text = "OSCE @ Sim Room 1, 09:00-10:00; bring badges"
    assert make_event(title=text).public_title == text


#: Another valid value for every field subscribers see (all-day events have their own test).
CHANGED_VALUES = {
    "id": 8,
    "uid": "booking-8@db-uuid",
    "title": "OSCE station 2",
    "start": datetime(2026, 3, 5, 8, 0, tzinfo=timezone.utc),
    "end": datetime(2026, 3, 5, 11, 0, tzinfo=timezone.utc),
    "status": "tentative",
    "rooms": (),
    "description": "Bring badges",
    "private": True,
    "busy": False,
    "color": "#ee2d2d",
    "is_recurring_series": True,
    "is_part_of_recurring_series": True,
    "organizer_name": "Booking desk",
    "organizer_email": "desk@hospital.example",
}
BOOKKEEPING = {
    "sequence": 4,
    "created": datetime(2026, 2, 1, tzinfo=timezone.utc),
    "updated": datetime(2026, 3, 3, tzinfo=timezone.utc),
}


def test_every_published_field_is_in_the_fingerprint(make_event):
    from booking_feed import FeedEvent, fingerprint  # noqa: PLC0415

    names = {field.name for field in dataclass_fields(FeedEvent) if field.init}
    assert names == {*CHANGED_VALUES, *BOOKKEEPING, "all_day"}, "a new field needs a changed value here"
    base = fingerprint(make_event())
    for name, value in CHANGED_VALUES.items():
        assert fingerprint(make_event(**{name: value})) != base, name
    assert fingerprint(make_event(all_day=True)) != base
    assert fingerprint(make_event(), "America/New_York") != base  # the zone that places all-day bookings


def test_fingerprint_ignores_bookkeeping(make_event):
    from booking_feed import fingerprint  # noqa: PLC0415

    base = fingerprint(make_event())
    for name, value in BOOKKEEPING.items():
        assert fingerprint(make_event(**{name: value})) == base, name


def test_stored_record_round_trips_for_timed_and_all_day_events(make_event):
    from booking_feed.records import dump_record, load_record  # noqa: PLC0415

    for event in (make_event(), make_event(all_day=True, private=True, sequence=3)):
        loaded = load_record(dump_record(event))
        assert loaded == event
        assert (loaded.public_title, loaded.iso_times) == (event.public_title, event.iso_times)


def test_times_as_text_are_utc_to_the_second(make_event):
    from zoneinfo import ZoneInfo  # noqa: PLC0415

    paris = ZoneInfo("Europe/Paris")
    event = make_event(start=datetime(2026, 3, 5, 9, 30, 15, 999999, tzinfo=paris),
                       end=datetime(2026, 3, 5, 11, 0, tzinfo=paris))  # fmt: skip
    assert event.iso_times[:2] == ("2026-03-05T08:30:15Z", "2026-03-05T10:00:00Z")
    all_day = make_event(all_day=True)
    assert all_day.iso_times[:2] == (all_day.start.isoformat(), all_day.end.isoformat())
