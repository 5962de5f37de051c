import json
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

from conftest import SIM_ROOM

from booking_feed import assemble_document, document_head, dump_event, event_to_json

BUDAPEST = ZoneInfo("Europe/Budapest")


def render_document(events, *, timezone, **head):
    """The JSON feed of ``events`` in the given order, as the feed assembles it from dumped events."""
    zone = ZoneInfo(timezone)
    return assemble_document([dump_event(event, zone) for event in events],
                             document_head(timezone=timezone, **head))  # fmt: skip


def test_event_keeps_learningspace_field_names(make_event):
    payload = event_to_json(
        make_event(color="#3366ff", description="Bring badges", is_part_of_recurring_series=True), BUDAPEST
    )
    assert payload == {
        "id": 7,
        "uid": "booking-7@db-uuid",
        "status": "confirmed",
        "eventStart": "2026-03-05T08:30:00Z",
        "eventEnd": "2026-03-05T10:00:00Z",
        "allDay": False,
        "activity": {"title": "OSCE station 1", "color": "#3366ff"},
        "note": "Bring badges",
        "rooms": [{"id": SIM_ROOM.id, "code": "SIM1", "name": "Sim Room 1", "location": "Building A"}],
        "isRecurringSeries": False,
        "isPartOfRecurringSeries": True,
        "updatedAt": "2026-03-02T09:15:00Z",
    }


def test_all_day_event_spans_local_midnights_in_utc(make_event):
    payload = event_to_json(make_event(all_day=True), BUDAPEST)
    assert payload["allDay"] is True
    assert payload["eventStart"] == "2026-03-04T23:00:00Z"  # 00:00 in Budapest (UTC+1)
    assert payload["eventEnd"] == "2026-03-05T23:00:00Z"


def test_times_in_other_zones_and_with_microseconds_are_utc_seconds(make_event):
    payload = event_to_json(
        make_event(
            start=datetime(2026, 3, 5, 9, 30, 59, 999_999, tzinfo=BUDAPEST),
            updated=datetime(2026, 3, 2, 9, 15, 7, 123_456, tzinfo=timezone.utc),
        ),
        BUDAPEST,
    )
    assert payload["eventStart"] == "2026-03-05T08:30:59Z"
    assert payload["updatedAt"] == "2026-03-02T09:15:07Z"


def test_private_event_hides_title_and_note(make_event):
    payload = event_to_json(make_event(private=True, description="secret"), BUDAPEST)
    assert payload["activity"]["title"] == "Busy"
    assert payload["note"] == ""


def test_document_states_its_window_and_zone(make_event):
    document = json.loads(
        render_document(
            [make_event()],
            timezone="Europe/Budapest",
            updated_at=datetime(2026, 3, 5, 6, 0, tzinfo=timezone.utc),
            window_start=date(2026, 3, 5),
            window_end=date(2026, 3, 13),
        )
    )
    assert document["timeZone"] == "Europe/Budapest"
    assert document["updatedAt"] == "2026-03-05T06:00:00Z"
    assert document["window"] == {"from": "2026-03-04T23:00:00Z", "to": "2026-03-12T23:00:00Z"}
    assert [event["id"] for event in document["events"]] == [7]


def test_dumped_event_is_compact_utf8_and_parses_back(make_event):
    event = make_event(title="Újraélesztés")
    text = dump_event(event, BUDAPEST)
    assert "Újraélesztés" in text
    assert ": " not in text
    assert json.loads(text) == event_to_json(event, BUDAPEST)


def test_empty_document_is_valid_json():
    data = render_document(
        [],
        timezone="UTC",
        updated_at=datetime(2026, 3, 5, tzinfo=timezone.utc),
        window_start=date(2026, 3, 5),
        window_end=date(2026, 3, 6),
    )
    document = json.loads(data)
    assert document["events"] == []
