"""JSON rendering of feed records.

The event shape keeps the field names integrators know from LearningSpace's
public calendar (``eventStart``, ``eventEnd``, ``activity``, ``note``,
``rooms``, ``isRecurringSeries``, ``isPartOfRecurringSeries``) and adds stable
identifiers (``id``, ``uid``, room ``id`` and ``code``), ``status``, ``allDay``
and ``updatedAt``. Every time is ISO 8601 in UTC with a ``Z``; an all-day
booking starts and ends at midnight in the calendar's time zone.
"""

from zoneinfo import ZoneInfo

from .records import COMPACT_JSON, FeedEvent, FeedRoom, as_moment, utc_text


def room_to_json(room: FeedRoom, **extra) -> dict:
    """The JSON object of a room, in events and in room lists (``extra`` fields last)."""
    return {"id": room.id, "code": room.code, "name": room.name, "location": room.location, **extra}


def event_to_json(event: FeedEvent, zone: ZoneInfo) -> dict:
    """The JSON object of one booking (private ones without their details)."""
    start, end = event.bounds_text(zone)
    return {
        "id": event.id,
        "uid": event.uid,
        "status": event.status,
        "eventStart": start,
        "eventEnd": end,
        "allDay": event.all_day,
        "activity": {"title": event.public_title, "color": event.color or None},
        "note": event.public_description,
        "rooms": [room_to_json(room) for room in event.rooms],
        "isRecurringSeries": event.is_recurring_series,
        "isPartOfRecurringSeries": event.is_part_of_recurring_series,
        "updatedAt": event.iso_times[3],
    }


def dump_event(event: FeedEvent, zone: ZoneInfo) -> str:
    """One event as compact JSON text, ready to be cached and assembled."""
    return COMPACT_JSON.encode(event_to_json(event, zone))


def document_head(*, timezone, updated_at, window_start, window_end, **extra) -> dict:
    """The fields every JSON response starts with, then ``extra`` ones.

    ``updated_at`` is when the feed's content last changed; ``window_start``/
    ``window_end`` bound the period answered for (UTC datetimes, or dates in
    ``timezone``), so a reader knows which absences mean "no booking" rather
    than "not published".
    """
    zone = ZoneInfo(timezone)
    return {
        "timeZone": timezone,
        "updatedAt": utc_text(updated_at),
        "window": {
            "from": utc_text(as_moment(window_start, zone)),
            "to": utc_text(as_moment(window_end, zone)),
        },
        **extra,
    }


def document_envelope(head: dict) -> tuple[str, str]:
    """The text before and after the comma-separated events of a JSON response."""
    opening = COMPACT_JSON.encode(head)[:-1]
    separator = "," if head else ""
    return f'{opening}{separator}"events":[', "]}"


def assemble_document(event_objects, head: dict) -> bytes:
    """A JSON response: ``head``'s fields, then ``events`` from :func:`dump_event` texts, in order."""
    opening, closing = document_envelope(head)
    return f"{opening}{','.join(event_objects)}{closing}".encode()
