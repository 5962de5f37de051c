"""Render room-booking feeds (iCalendar and JSON) from plain records.

This package has no Odoo import: the addon turns bookings into
:class:`~.records.FeedEvent` records and calls these functions, and anything
else (tests, benchmarks, other tools) can do the same.
"""

from .ics import calendar_envelope, render_calendar, render_vevent
from .json_feed import (
    assemble_document,
    document_envelope,
    document_head,
    dump_event,
    event_to_json,
    room_to_json,
)
from .records import BUSY_TITLE, FeedEvent, FeedRoom, fingerprint
from .statuses import CANCELLED, CONFIRMED, STATUSES, TENTATIVE

__all__ = [
    "BUSY_TITLE",
    "CANCELLED",
    "CONFIRMED",
    "STATUSES",
    "TENTATIVE",
    "FeedEvent",
    "FeedRoom",
    "assemble_document",
    "calendar_envelope",
    "document_envelope",
    "document_head",
    "dump_event",
    "event_to_json",
    "fingerprint",
    "render_calendar",
    "render_vevent",
    "room_to_json",
]
