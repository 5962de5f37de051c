"""JSON rendering of feed records.

The event shape keeps the field names integrators know from LearningSpace's
public calendar (``eventStart``, ``eventEnd``, ``activity``, ``note``,
``rooms``, ``isRecurringSeries``, ``isPartOfRecurringSeries``) and adds stable
identifiers (``id``, ``uid``, room ``id`` and ``code``), ``status``, ``allDay``
and ``updatedAt``. Every time is ISO 8601 in UTC with a ``Z``; an all-day
booking starts and ends at midnight in the calendar's time zone.
"""

import json
from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

from .records import FeedEvent


def format_utc(moment: datetime) -> str:
    """``2026-03-05T08:30:00Z``: the one time format of the JSON feed."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _as_datetime(moment, zone):
    if isinstance(moment, datetime):
        return moment
    return datetime.combine(moment, time.min, tzinfo=zone)


def event_to_json(event: FeedEvent, zone: ZoneInfo) -> dict:
    """The JSON object of one booking (private ones without their details)."""
    return {
        "id": event.id,
        "uid": event.uid,
        "status": event.status,
        "eventStart": format_utc(_as_datetime(event.start, zone)),
        "eventEnd": format_utc(_as_datetime(event.end, zone)),
        "allDay": event.all_day,
        "activity": {"title": event.public_title, "color": event.color or None},
        "note": event.public_description,
        "rooms": [
            {"id": room.id, "code": room.code, "name": room.name, "location": room.location}
            for room in event.rooms
        ],
        "isRecurringSeries": event.is_recurring_series,
        "isPartOfRecurringSeries": event.is_part_of_recurring_series,
        "updatedAt": format_utc(event.updated),
    }


def render_document(events, *, timezone, generated_at, window_start, window_end) -> dict:
    """The whole JSON feed as a dict, events in the order given.

    ``window_start``/``window_end`` bound the published period (UTC datetimes
    or dates in ``timezone``), so a reader knows which absences mean "no
    booking" rather than "not published".
    """
    zone = ZoneInfo(timezone)
    return {
        "timeZone": timezone,
        "generatedAt": format_utc(generated_at),
        "window": {
            "from": format_utc(_as_datetime(window_start, zone)),
            "to": format_utc(_as_datetime(window_end, zone)),
        },
        "events": [event_to_json(event, zone) for event in events],
    }


def dump(document: dict) -> bytes:
    """Compact UTF-8 JSON, keys in a fixed order so equal feeds are equal bytes."""
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
