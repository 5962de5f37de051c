"""Plain records that the feeds are rendered from.

The Odoo side reads bookings with SQL or the ORM and turns each one into a
:class:`FeedEvent`; everything after that (ICS, JSON) works on these records
alone, so it can be tested and reused without Odoo.
"""

import hashlib
import json
import re
from dataclasses import MISSING, dataclass, field, fields
from datetime import date, datetime, time, timedelta, timezone, tzinfo

from .statuses import CONFIRMED, STATUSES
from .text import clean_text, hide_contact_details

#: Title shown instead of the real one for private bookings.
BUSY_TITLE = "Busy"
#: Room codes select rooms in feed links, so they are URL-safe.
ROOM_CODE_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,32}")


def booking_uid(booking_id: int, database_uuid: str) -> str:
    """The UID of a booking's event: stable, and unique to the database it comes from."""
    return f"calendar-event-{booking_id}-{database_uuid}@odoo"


def booking_id_of(uid: str | None, database_uuid: str) -> int | None:
    """The booking whose UID ``uid`` is, if it is one of this database's (else None): what a push
    target may change in a remote calendar, which holds other events too."""
    match = re.fullmatch(rf"calendar-event-([0-9]{{1,18}})-{re.escape(database_uuid)}@odoo", uid or "")
    return int(match.group(1)) if match else None


def as_moment(value: datetime | date, zone: tzinfo) -> datetime:
    """A datetime as it is; a date as its midnight in ``zone`` (all-day bookings, local days)."""
    return value if isinstance(value, datetime) else datetime.combine(value, time.min, tzinfo=zone)


def utc_text(moment: datetime) -> str:
    """``2026-03-05T08:30:00Z``: an instant to the second, as the feeds write it.

    isoformat and slicing take 40% less time than strftime, and a build writes
    tens of thousands of these.
    """
    return moment.astimezone(timezone.utc).isoformat(timespec="seconds")[:19] + "Z"


def _iso_text(moment: datetime | date) -> str:
    return utc_text(moment) if isinstance(moment, datetime) else moment.isoformat()


def _clean_text_fields(record, names):
    """Whatever a record is made from, its texts hold no control character (see :mod:`.text`)."""
    for name in names:
        value = getattr(record, name)
        if not value.isprintable():
            object.__setattr__(record, name, clean_text(value))


@dataclass(frozen=True)
class FeedRoom:
    """A published room, as subscribers see it."""

    id: int
    code: str
    name: str
    location: str = ""

    def __post_init__(self):
        _clean_text_fields(self, ("name", "location"))


@dataclass(frozen=True)
class FeedEvent:
    """One booking, already reduced to what the admin chose to publish.

    ``start``/``end`` are timezone-aware UTC datetimes, or dates for all-day
    bookings; ``end`` is exclusive in both cases (an all-day booking on the 3rd
    ends on the 4th), as in iCalendar. Feeds publish times to the second.

    What every rendering reads is derived once, when the record is made: the
    public title and description, and the times as text.
    """

    id: int
    uid: str
    title: str
    start: datetime | date
    end: datetime | date
    created: datetime
    updated: datetime
    status: str = CONFIRMED
    all_day: bool = False
    sequence: int = 0
    rooms: tuple[FeedRoom, ...] = ()
    description: str = ""
    private: bool = False
    busy: bool = True
    color: str = ""
    is_recurring_series: bool = False
    is_part_of_recurring_series: bool = False
    organizer_name: str = ""
    organizer_email: str = ""
    public_title: str = field(init=False, repr=False, compare=False)
    public_description: str = field(init=False, repr=False, compare=False)
    #: start, end, created and updated as ``utc_text`` (dates in ISO form for all-day bookings).
    iso_times: tuple[str, str, str, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        _clean_text_fields(self, ("title", "description", "organizer_name"))
        derived = {
            # Private bookings only say Busy.
            "public_title": BUSY_TITLE if self.private else hide_contact_details(self.title),
            "public_description": "" if self.private else hide_contact_details(self.description),
            "iso_times": tuple(map(_iso_text, (self.start, self.end, self.created, self.updated))),
        }
        for name, value in derived.items():
            object.__setattr__(self, name, value)
        if self.status not in STATUSES:
            raise ValueError(f"unknown status {self.status!r}")
        for moment in (self.start, self.end):
            if isinstance(moment, datetime) and moment.utcoffset() is None:
                raise ValueError("event times must be timezone-aware")
        if self.all_day != (type(self.start) is date):
            raise ValueError("all-day events use dates, others datetimes")
        if self.end < self.start:
            raise ValueError("an event cannot end before it starts")

    def to_dict(self) -> dict:
        """JSON-ready form, so a published event can be stored and rendered again.

        Fields at their default are left out (a build stores one per booking).
        """
        values = {
            name: value
            for name in _FIELD_NAMES
            if (value := getattr(self, name)) != _DEFAULTS.get(name, MISSING)
        }
        values.update(zip(_TIME_NAMES, self.iso_times, strict=True))
        values["rooms"] = [dict(vars(room)) for room in self.rooms]
        return values

    @classmethod
    def from_dict(cls, values: dict) -> "FeedEvent":
        """The inverse of :meth:`to_dict`."""
        values = dict(values)
        for name in _TIME_NAMES:
            text = values[name]
            # Python 3.10 reads no "Z" suffix.
            values[name] = (
                datetime.fromisoformat(text.replace("Z", "+00:00"))
                if "T" in text
                else date.fromisoformat(text)
            )
        values["rooms"] = tuple(FeedRoom(**room) for room in values["rooms"])
        return cls(**values)

    def bounds(self, zone: tzinfo) -> tuple[datetime, datetime]:
        """Start and end as datetimes: an all-day booking spans whole days of ``zone``."""
        return as_moment(self.start, zone), as_moment(self.end, zone)

    def bounds_text(self, zone: tzinfo) -> tuple[str, str]:
        """:meth:`bounds` as ``utc_text``."""
        if self.all_day:
            start, end = self.bounds(zone)
            return utc_text(start), utc_text(end)
        return self.iso_times[0], self.iso_times[1]

    @property
    def location(self):
        """Room names (with their building) joined the way calendars show them."""
        return ", ".join(
            f"{room.name} ({room.location})" if room.location else room.name for room in self.rooms
        )


_FIELD_NAMES = tuple(field.name for field in fields(FeedEvent) if field.init)
_DEFAULTS = {field.name: field.default for field in fields(FeedEvent) if field.default is not MISSING}
_TIME_NAMES = ("start", "end", "created", "updated")
#: Compact JSON for stored records and feeds: ``json.dumps`` with options builds an encoder per call.
COMPACT_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
#: Fields that describe a change rather than the booking itself.
_BOOKKEEPING = {"sequence", "created", "updated"}
_PUBLISHED_FIELDS = tuple(name for name in _FIELD_NAMES if name not in _BOOKKEEPING)
_ROOMS_INDEX = _PUBLISHED_FIELDS.index("rooms")
_START_INDEX, _END_INDEX = _PUBLISHED_FIELDS.index("start"), _PUBLISHED_FIELDS.index("end")


def dump_record(event: FeedEvent) -> str:
    """The stored form of a published event, from which it is rendered again (tombstones, upgrades)."""
    return COMPACT_JSON.encode(event.to_dict())


def load_record(text: str) -> FeedEvent:
    """The event stored by :func:`dump_record`."""
    return FeedEvent.from_dict(json.loads(text))


def fingerprint(event: FeedEvent, *context) -> str:
    """A digest of everything subscribers see of ``event``.

    Two renderings with the same fingerprint show subscribers the same thing;
    a new fingerprint is a change, which must raise SEQUENCE and LAST-MODIFIED.
    ``context`` adds what else the rendering depends on (the time zone that
    places all-day bookings).
    """
    published = [getattr(event, name) for name in _PUBLISHED_FIELDS]
    published[_ROOMS_INDEX] = [tuple(vars(room).values()) for room in event.rooms]
    # Times as published (and text is faster to repr than datetimes).
    published[_START_INDEX], published[_END_INDEX] = event.iso_times[:2]
    return hashlib.sha256(repr((published, context)).encode()).hexdigest()


def strictly_after(now: datetime, last_change: datetime | None) -> datetime:
    """``now`` to the second, but later than ``last_change``.

    The time of a change (LAST-MODIFIED of an event, Last-Modified of a
    feed) never goes back nor repeats, so a client comparing times never
    takes a change for one it already has.
    """
    now = now.replace(microsecond=0)
    return now if last_change is None else max(now, last_change + timedelta(seconds=1))
