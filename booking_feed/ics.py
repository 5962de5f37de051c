"""iCalendar (RFC 5545) rendering of feed records.

A feed is assembled from one VEVENT block per booking, so each block can be
rendered once and reused until the booking changes. Blocks are built with
``icalendar``'s property types and content lines, which do the RFC mechanics
(text escaping, UTF-8 aware 75-octet folding, CRLF); this module only states
what is published.

All times are written in UTC (``Z``): no TZID is used, so no VTIMEZONE is
needed, and no client can shift an event by guessing a zone. The calendar's
zone is still given as ``X-WR-TIMEZONE`` so clients display it sensibly.
"""

from datetime import timedelta

from icalendar.parser import Contentline, Parameters
from icalendar.prop import vCalAddress, vDDDTypes, vDuration, vInt, vText

from .records import CANCELLED, CONFIRMED, TENTATIVE, FeedEvent

CRLF = b"\r\n"

ICS_STATUS = {CONFIRMED: "CONFIRMED", TENTATIVE: "TENTATIVE", CANCELLED: "CANCELLED"}

DEFAULT_PRODID = "-//external_calendar_api//Odoo room bookings//EN"


def _line(name, value, **params):
    return Contentline.from_parts(name, Parameters(params), value).to_ical() + CRLF


def _moment(name, value):
    """DTSTART/DTEND: a UTC datetime, or a date for all-day bookings."""
    prop = vDDDTypes(value)
    params = {"VALUE": "DATE"} if prop.params.get("VALUE") == "DATE" else {}
    return _line(name, prop, **params)


def render_vevent(event: FeedEvent) -> bytes:
    """Render one booking as a complete ``BEGIN:VEVENT ... END:VEVENT`` block.

    The block depends on the record only, never on the time of rendering:
    DTSTAMP is the booking's last change, so a cached block stays valid and
    two builds of an unchanged feed are byte-identical.
    """
    parts = [
        b"BEGIN:VEVENT" + CRLF,
        _line("UID", vText(event.uid)),
        _line("DTSTAMP", vDDDTypes(event.updated)),
        _line("CREATED", vDDDTypes(event.created)),
        _line("LAST-MODIFIED", vDDDTypes(event.updated)),
        _line("SEQUENCE", vInt(event.sequence)),
        _moment("DTSTART", event.start),
    ]
    # RFC 5545 wants DTEND after DTSTART; without one, an event ends as it starts.
    if event.end > event.start:
        parts.append(_moment("DTEND", event.end))
    parts.append(_line("SUMMARY", vText(event.public_title)))
    if event.organizer_email:
        # The calendar's own contact, chosen by the admin: iTIP's PUBLISH wants one.
        params = {"CN": event.organizer_name} if event.organizer_name else {}
        parts.append(_line("ORGANIZER", vCalAddress(f"mailto:{event.organizer_email}"), **params))
    if event.location:
        parts.append(_line("LOCATION", vText(event.location)))
    if event.public_description:
        parts.append(_line("DESCRIPTION", vText(event.public_description)))
    parts += [
        _line("STATUS", vText(ICS_STATUS[event.status])),
        _line("CLASS", vText("PRIVATE" if event.private else "PUBLIC")),
        _line("TRANSP", vText("OPAQUE" if event.busy else "TRANSPARENT")),
        b"END:VEVENT" + CRLF,
    ]
    return b"".join(parts)


def render_calendar(
    vevent_blocks,
    *,
    name,
    timezone,
    description="",
    refresh_interval=timedelta(hours=1),
    prodid=DEFAULT_PRODID,
) -> bytes:
    """Wrap VEVENT blocks (bytes from :func:`render_vevent`) in a VCALENDAR.

    Name, description and refresh interval are each given in the standard
    RFC 7986 form and in the X-WR-/X-PUBLISHED-TTL form older clients
    (Outlook, Apple) read.
    """
    interval = vDuration(refresh_interval)
    header = [
        b"BEGIN:VCALENDAR" + CRLF,
        _line("VERSION", vText("2.0")),
        _line("PRODID", vText(prodid)),
        _line("CALSCALE", vText("GREGORIAN")),
        _line("METHOD", vText("PUBLISH")),
        _line("NAME", vText(name)),
        _line("X-WR-CALNAME", vText(name)),
    ]
    if description:
        header += [_line("DESCRIPTION", vText(description)), _line("X-WR-CALDESC", vText(description))]
    header += [
        _line("X-WR-TIMEZONE", vText(timezone)),
        _line("REFRESH-INTERVAL", interval, VALUE="DURATION"),
        _line("X-PUBLISHED-TTL", interval),
    ]
    return b"".join([*header, *vevent_blocks, b"END:VCALENDAR" + CRLF])
