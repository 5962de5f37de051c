"""Free/busy time of rooms: busy periods from bookings, free intervals, VFREEBUSY.

What people ask of a room calendar most is when a room is free. Plain data
in: each booking's start and end (aware datetimes, or dates for all-day
bookings, which cover the local days of the calendar's zone), its status and
whether it shows as busy; out come the room's busy periods in a range, merged
and sorted, each of one iCalendar free/busy type (RFC 5545 3.2.9), the free
intervals between them, and VFREEBUSY components (RFC 5545 3.6.4) that the
freebusy.ics route and CalDAV's free-busy-query (RFC 4791 7.10) answer with.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone, tzinfo

from .ics import CRLF, DEFAULT_PRODID, _text, calendar_head
from .query import QueryError
from .records import as_moment
from .statuses import CANCELLED, TENTATIVE

BUSY = "BUSY"
BUSY_TENTATIVE = "BUSY-TENTATIVE"
#: Outside a room's opening hours: busy, and nothing can be booked then.
BUSY_UNAVAILABLE = "BUSY-UNAVAILABLE"
#: Where periods of several types overlap, the first type in this order has that time.
PRECEDENCE = (BUSY_UNAVAILABLE, BUSY, BUSY_TENTATIVE)
#: How a stored record (``records.dump_record``, compact JSON) says its booking is shown as free: the
#: only place these characters can be, since a quote inside a JSON string is escaped.
SHOWN_AS_FREE = '"busy":false'
#: The longest range free/busy time is answered for: a year, leap or not.
MAX_RANGE = timedelta(days=366)


@dataclass(frozen=True)
class Booking:
    """What free/busy time needs of a booking.

    ``busy`` is False for a booking shown as free (TRANSP:TRANSPARENT):
    like a cancelled one, it leaves the room free.
    """

    start: datetime | date
    end: datetime | date
    status: str
    busy: bool = True

    @property
    def busy_type(self) -> str | None:
        """Its FBTYPE, or None if it leaves the room free."""
        if not self.busy or self.status == CANCELLED:
            return None
        return BUSY_TENTATIVE if self.status == TENTATIVE else BUSY


@dataclass(frozen=True)
class Period:
    """``[start, end)`` in UTC during which a room is busy, of one free/busy type."""

    start: datetime
    end: datetime
    busy_type: str = BUSY


@dataclass(frozen=True)
class RoomFreeBusy:
    """One room's busy periods, for its VFREEBUSY."""

    code: str
    name: str
    periods: tuple[Period, ...]


def asked_range(query, window) -> tuple[datetime, datetime]:
    """``[start, end)`` that a :class:`~.query.FeedQuery` asks free/busy time for, clipped to the
    published ``window``, outside which no booking is known.

    A range the client states with both ``from`` and ``to`` may be at most
    :data:`MAX_RANGE` long (a 400 otherwise). A bound left out defaults to the
    window's, and the range then stops :data:`MAX_RANGE` after its start (or
    begins that long before an ``end`` given alone): a window set wider than a
    year is never refused for what the client did not ask.
    """
    if query.start and query.end and query.end - query.start > MAX_RANGE:
        raise QueryError(
            f"from, to: {(query.end - query.start).days} days asked for, at most {MAX_RANGE.days}; "
            "ask for a shorter range with from and to"
        )
    start, end = query.narrow(window)
    if end - start > MAX_RANGE:
        if query.end and not query.start:
            start = end - MAX_RANGE
        else:
            end = start + MAX_RANGE
    return start, end


def busy_periods(bookings, start: datetime, end: datetime, zone: tzinfo, closed=()) -> list[Period]:
    """The busy periods of ``bookings`` inside ``[start, end)`` (aware datetimes), sorted by start.

    Overlapping and touching periods of a type are merged into one; where a
    confirmed and a tentative booking overlap, that time is BUSY, and
    ``closed`` intervals (``(start, end)`` pairs: outside opening hours) are
    BUSY-UNAVAILABLE over anything else. Periods are in UTC.
    """
    start, end = start.astimezone(timezone.utc), end.astimezone(timezone.utc)
    by_type = {busy_type: [] for busy_type in PRECEDENCE}
    by_type[BUSY_UNAVAILABLE] = list(closed)
    for booking in bookings:
        if busy_type := booking.busy_type:
            by_type[busy_type].append((as_moment(booking.start, zone), as_moment(booking.end, zone)))
    periods, taken = [], []
    for busy_type in PRECEDENCE:
        own = _subtract(merge_intervals(_clipped(by_type[busy_type], start, end)), taken)
        periods += [Period(*interval, busy_type) for interval in own]
        taken = merge_intervals([*taken, *own])
    return sorted(periods, key=lambda period: period.start)


def free_intervals(periods, start: datetime, end: datetime, minimum=timedelta(0)) -> list[tuple]:
    """The ``(start, end)`` gaps of ``[start, end)`` that no period covers, each at least ``minimum``
    long: where a room can be booked (a tentative booking takes its time too)."""
    gaps = outside([(period.start, period.end) for period in periods], start, end)
    return [gap for gap in gaps if gap[1] - gap[0] >= max(minimum, timedelta.resolution)]


def outside(intervals, start: datetime, end: datetime) -> list[tuple]:
    """The ``(start, end)`` parts of ``[start, end)`` that no interval of ``intervals`` (aware
    ``(start, end)`` pairs, in any order) covers, in UTC and in order: what opening hours leave
    closed, or bookings free."""
    start, end = start.astimezone(timezone.utc), end.astimezone(timezone.utc)
    taken = merge_intervals(_clipped(intervals, start, end))
    return _subtract([(start, end)] if start < end else [], taken)


def merge_intervals(intervals) -> list[tuple]:
    """``(start, end)`` pairs as the fewest sorted, disjoint pairs covering the same time;
    touching ones become one."""
    merged = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _clipped(intervals, start, end):
    """The non-empty parts of ``intervals`` inside ``[start, end)``, in UTC."""
    clipped = (
        (max(low.astimezone(timezone.utc), start), min(high.astimezone(timezone.utc), end))
        for low, high in intervals
    )
    return [(low, high) for low, high in clipped if low < high]


def _subtract(intervals, taken):
    """The parts of sorted, disjoint ``intervals`` outside sorted, disjoint ``taken``."""
    remaining, index = [], 0
    for start, end in intervals:
        while index < len(taken) and taken[index][1] <= start:
            index += 1
        cursor, probe = start, index
        while probe < len(taken) and taken[probe][0] < end:
            if taken[probe][0] > cursor:
                remaining.append((cursor, taken[probe][0]))
            cursor = max(cursor, taken[probe][1])
            probe += 1
        if cursor < end:
            remaining.append((cursor, end))
    return remaining


def _utc(moment: datetime) -> str:
    """``20260305T083000Z``: a FREEBUSY, DTSTART or DTEND value (RFC 5545 wants UTC)."""
    return moment.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def render_vfreebusy(uid, start, end, periods, *, stamp, contact="") -> str:
    """A VFREEBUSY publishing ``periods`` for ``[start, end)``: one FREEBUSY per period, in order.

    Written as ``ics.render_vevent`` writes events: the fixed short lines
    directly (a FREEBUSY line is at most 66 octets, so it is never folded),
    text through icalendar's escaping and folding.
    """
    lines = [
        "BEGIN:VFREEBUSY" + CRLF,
        _text("UID", uid),
        f"DTSTAMP:{_utc(stamp)}{CRLF}DTSTART:{_utc(start)}{CRLF}DTEND:{_utc(end)}{CRLF}",
    ]
    if contact:
        lines.append(_text("CONTACT", contact))
    lines += [
        f"FREEBUSY;FBTYPE={period.busy_type}:{_utc(period.start)}/{_utc(period.end)}{CRLF}"
        for period in periods
    ]
    lines.append("END:VFREEBUSY" + CRLF)
    return "".join(lines)


def render_freebusy(
    rooms, start, end, *, stamp, database_uuid, prodid=DEFAULT_PRODID, method="PUBLISH"
) -> bytes:
    """A VCALENDAR with one VFREEBUSY per :class:`RoomFreeBusy`, in the order given.

    Each is named by its UID (``freebusy-<code>-<database_uuid>@odoo``) and CONTACT
    (the room's name); ``stamp`` is its DTSTAMP, so the same periods always
    give the same bytes (and ETag). ``method`` None leaves METHOD out, as a
    CalDAV answer does.
    """
    head = calendar_head(prodid) + ([f"METHOD:{method}{CRLF}"] if method else [])
    blocks = [
        render_vfreebusy(
            f"freebusy-{room.code}-{database_uuid}@odoo",
            start,
            end,
            room.periods,
            stamp=stamp,
            contact=room.name,
        )
        for room in rooms
    ]
    return "".join([*head, *blocks, "END:VCALENDAR" + CRLF]).encode()
