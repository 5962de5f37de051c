"""RFC 5545 checks for a generated feed, used by the test suites.

``icalendar`` parses leniently, so parsing back alone would not catch a bare
LF, an over-long line or an unescaped comma; :func:`check_ics` asserts those
rules on the bytes first, then parses the feed and checks each component.
"""

import re

import icalendar

MAX_LINE_OCTETS = 75
TEXT_PROPERTIES = {"SUMMARY", "LOCATION", "DESCRIPTION", "X-WR-CALNAME", "X-WR-CALDESC"}
_ESCAPED_TEXT = re.compile(r"(?:[^\\,;]|\\[\\,;nN])*")
_TZID = re.compile(r";TZID=([^;:]+)")


class ConformanceError(AssertionError):
    """The feed breaks an RFC 5545 rule; the message says which and where."""


def _fail(message):
    raise ConformanceError(message)


def unfold(data: bytes) -> list[str]:
    """Content lines of ``data`` with folding undone (CRLF + one space/tab)."""
    return re.sub(r"\r\n[ \t]", "", data.decode("utf-8")).split("\r\n")[:-1]


def check_ics(data: bytes) -> icalendar.Calendar:
    """Assert RFC 5545 rules on a serialised calendar and return it parsed."""
    _check_physical_lines(data)
    lines = unfold(data)
    _check_text_escaping(lines)
    calendar = icalendar.Calendar.from_ical(data)
    _check_components(calendar, lines)
    return calendar


def _check_physical_lines(data):
    """CRLF line ends, at most 75 octets a line, folds between UTF-8 characters."""
    if not data.endswith(b"\r\n"):
        _fail("the calendar does not end with CRLF")
    for number, physical in enumerate(data.split(b"\r\n")[:-1], 1):
        if b"\n" in physical or b"\r" in physical:
            _fail(f"line {number} has a bare CR or LF")
        if len(physical) > MAX_LINE_OCTETS:
            _fail(f"line {number} is {len(physical)} octets long (max {MAX_LINE_OCTETS})")
        try:
            physical.decode("utf-8")
        except UnicodeDecodeError:
            _fail(f"line {number} is folded inside a UTF-8 character")


def _check_freebusy(freebusy, uids):
    """RFC 5545 3.6.4: UID and DTSTAMP; FREEBUSY periods in UTC, inside DTSTART/DTEND, in order."""
    for required in ("UID", "DTSTAMP"):
        if required not in freebusy:
            _fail(f"a VFREEBUSY has no {required}")
    if str(freebusy["UID"]) in uids:
        _fail(f"UID {freebusy['UID']} appears twice")
    uids.add(str(freebusy["UID"]))
    lines = freebusy.get("FREEBUSY", [])
    periods = [line.dt for line in (lines if isinstance(lines, list) else [lines])]
    for start, end in periods:
        if start.utcoffset() is None or start.utcoffset() or end.utcoffset():
            _fail(f"FREEBUSY {start}/{end} is not in UTC")
        if not freebusy["DTSTART"].dt <= start < end <= freebusy["DTEND"].dt:
            _fail(f"FREEBUSY {start}/{end} is empty or outside DTSTART/DTEND")
    if periods != sorted(periods):
        _fail("FREEBUSY periods are not in order")


def _check_text_escaping(lines):
    for line in lines:
        name = re.split(r"[;:]", line, maxsplit=1)[0]
        if name in TEXT_PROPERTIES and ";" not in line.split(":", 1)[0]:
            value = line.split(":", 1)[1]
            if not _ESCAPED_TEXT.fullmatch(value):
                _fail(f"{name} is not escaped as TEXT: {value!r}")


def _check_components(calendar, lines):
    """VERSION/PRODID, UID/DTSTAMP/DTSTART on every VEVENT, unique UIDs, a VTIMEZONE per TZID."""
    for required in ("VERSION", "PRODID"):
        if required not in calendar:
            _fail(f"the calendar has no {required}")
    uids = set()
    for event in calendar.walk("VEVENT"):
        for required in ("UID", "DTSTAMP", "DTSTART"):
            if required not in event:
                _fail(f"a VEVENT has no {required}: {event.get('SUMMARY')!r}")
        if str(event["UID"]) in uids:
            _fail(f"UID {event['UID']} appears twice")
        uids.add(str(event["UID"]))
    for freebusy in calendar.walk("VFREEBUSY"):
        _check_freebusy(freebusy, uids)
    used_zones = {match.group(1) for line in lines for match in _TZID.finditer(line.split(":", 1)[0])}
    defined_zones = {str(zone["TZID"]) for zone in calendar.walk("VTIMEZONE")}
    if missing := used_zones - defined_zones:
        _fail(f"TZID without a VTIMEZONE: {sorted(missing)}")
