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

import re
from datetime import date, timedelta
from functools import lru_cache

from icalendar import Calendar, Timezone
from icalendar.parser import Contentline, Parameters
from icalendar.prop import vCalAddress, vDuration, vText

from .records import FeedEvent
from .statuses import ICS_STATUS
from .text import clean_text

CRLF = "\r\n"
MAX_LINE_OCTETS = 75

#: CLASS of a VEVENT by whether the booking is private, TRANSP by whether it blocks its time.
ICS_CLASS = {False: "PUBLIC", True: "PRIVATE"}
ICS_TRANSP = {True: "OPAQUE", False: "TRANSPARENT"}

DEFAULT_PRODID = "-//external_calendar_api//Odoo room bookings//EN"
#: What icalendar's TEXT escaping or clean_text would change.
_NEEDS_ESCAPING = re.compile(r"[\\;,\x00-\x1f\x7f]")


def _line(name: str, value: str) -> str:
    """A content line; most are short, so icalendar folds only those that are not."""
    line = f"{name}:{value}"
    # A UTF-8 character is at most 4 octets: only longer lines can need folding.
    if len(line) * 4 > MAX_LINE_OCTETS and len(line.encode()) > MAX_LINE_OCTETS:
        line = Contentline(line).to_ical().decode()
    return line + CRLF


def _escaped(text: str) -> str:
    """``text`` escaped by icalendar, without the control characters TEXT may not hold."""
    if not _NEEDS_ESCAPING.search(text):  # most UIDs and titles: nothing to escape or remove
        return text
    return vText(clean_text(text)).to_ical().decode()


# Room names and titles repeat across thousands of bookings; short texts only, so memory stays small.
_escaped_short = lru_cache(maxsize=1024)(_escaped)
SHORT_TEXT = 100


def _text(name, text):
    """A TEXT property."""
    return _line(name, _escaped_short(text) if len(text) <= SHORT_TEXT else _escaped(text))


def _basic(text: str) -> str:
    """``20260305T083000Z`` or ``20260305`` (DATE) from ``FeedEvent.iso_times``'s form of the same moment."""
    if len(text) == 10:
        return text.replace("-", "")
    return f"{text[0:4]}{text[5:7]}{text[8:10]}T{text[11:13]}{text[14:16]}{text[17:19]}Z"


def render_vevent(event: FeedEvent) -> bytes:
    """Render one booking as a complete ``BEGIN:VEVENT ... END:VEVENT`` block.

    The block depends on the record only, never on the time of rendering:
    DTSTAMP is the booking's last change, so a cached block stays valid and
    two builds of an unchanged feed are byte-identical. Lines whose value
    has a fixed short form are written directly; text goes through icalendar.
    """
    start, end, created, changed = map(_basic, event.iso_times)
    value_type = "" if len(start) > 8 else ";VALUE=DATE"  # all-day bookings: DATE values (never folded)
    parts = [
        "BEGIN:VEVENT" + CRLF,
        _text("UID", event.uid),
        f"DTSTAMP:{changed}{CRLF}CREATED:{created}{CRLF}LAST-MODIFIED:{changed}{CRLF}"
        f"SEQUENCE:{event.sequence}{CRLF}DTSTART{value_type}:{start}{CRLF}",
    ]
    # RFC 5545 wants DTEND after DTSTART; without one, an event ends as it starts.
    if event.end > event.start:
        parts.append(f"DTEND{value_type}:{end}{CRLF}")
    parts.append(_text("SUMMARY", event.public_title))
    if event.organizer_email:
        # The calendar's own contact, chosen by the admin: iTIP's PUBLISH wants one.
        params = Parameters({"CN": event.organizer_name} if event.organizer_name else {})
        address = vCalAddress(f"mailto:{event.organizer_email}")
        parts.append(Contentline.from_parts("ORGANIZER", params, address).to_ical().decode() + CRLF)
    if event.location:
        parts.append(_text("LOCATION", event.location))
    if event.public_description:
        parts.append(_text("DESCRIPTION", event.public_description))
    parts.append(
        f"STATUS:{ICS_STATUS[event.status]}{CRLF}CLASS:{ICS_CLASS[event.private]}{CRLF}"
        f"TRANSP:{ICS_TRANSP[event.busy]}{CRLF}END:VEVENT{CRLF}"
    )
    return "".join(parts).encode()


def calendar_envelope(
    *,
    name,
    timezone,
    description="",
    refresh_interval=timedelta(hours=1),
    prodid=DEFAULT_PRODID,
) -> tuple[bytes, bytes]:
    """The bytes before and after the VEVENT blocks of a calendar.

    Name, description and refresh interval are each given in the standard
    RFC 7986 form and in the X-WR-/X-PUBLISHED-TTL form older clients
    (Outlook, Apple) read.
    """
    interval = vDuration(refresh_interval).to_ical().decode()
    head = [
        *calendar_head(prodid),
        _line("METHOD", "PUBLISH"),
        _text("NAME", name),
        _text("X-WR-CALNAME", name),
    ]
    if description:
        head += [_text("DESCRIPTION", description), _text("X-WR-CALDESC", description)]
    head += [
        _text("X-WR-TIMEZONE", timezone),
        _line("REFRESH-INTERVAL;VALUE=DURATION", interval),
        _line("X-PUBLISHED-TTL", interval),
    ]
    return "".join(head).encode(), ("END:VCALENDAR" + CRLF).encode()


def calendar_head(prodid) -> list[str]:
    """The first lines of every VCALENDAR: BEGIN, VERSION, PRODID, CALSCALE."""
    return [
        "BEGIN:VCALENDAR" + CRLF,
        _line("VERSION", "2.0"),
        _text("PRODID", prodid),
        _line("CALSCALE", "GREGORIAN"),
    ]


def calendar_object(vevent_block: bytes, prodid=DEFAULT_PRODID) -> bytes:
    """One VEVENT block (from :func:`render_vevent`) as a CalDAV calendar object resource.

    Unlike a feed, an object names no METHOD (RFC 4791, 4.1) nor calendar
    properties: those are the collection's.
    """
    head, tail = _object_envelope(prodid)
    return head + vevent_block + tail


@lru_cache(maxsize=4)
def _object_envelope(prodid):
    """Made once: a build makes an object of every booking, to digest it."""
    return "".join(calendar_head(prodid)).encode(), ("END:VCALENDAR" + CRLF).encode()


@lru_cache(maxsize=8)
def timezone_calendar(timezone: str, prodid=DEFAULT_PRODID) -> bytes:
    """A VCALENDAR holding the VTIMEZONE of ``timezone`` (CalDAV's ``calendar-timezone``).

    Its transitions span fixed years, so the text does not depend on today's date.
    """
    calendar = Calendar({"VERSION": "2.0", "PRODID": prodid})
    calendar.add_component(
        Timezone.from_tzid(timezone, first_date=date(2020, 1, 1), last_date=date(2045, 1, 1))
    )
    return calendar.to_ical()


def render_calendar(vevent_blocks, **properties) -> bytes:
    """A VCALENDAR of VEVENT blocks (bytes from :func:`render_vevent`); see :func:`calendar_envelope`."""
    head, tail = calendar_envelope(**properties)
    return b"".join([head, *vevent_blocks, tail])
