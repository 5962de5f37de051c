"""The room finder: which room is free for 8 people, 90 minutes, tomorrow afternoon?

The free.json route answers with every room in scope that holds at least
``capacity`` people, each with its free intervals of at least ``minutes``
inside the range asked; rooms free throughout come first, then the rooms
with the longest free interval. Plain data in, JSON bytes out.
"""

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from .freebusy import MAX_RANGE, free_intervals
from .query import QueryError, checked_values, whole_number
from .records import FeedRoom, utc_text

#: The most people a room can be asked to hold.
MAX_CAPACITY = 100_000


@dataclass(frozen=True)
class FinderOptions:
    """What a finder request asks for besides its rooms and range."""

    minimum: timedelta
    capacity: int


@dataclass(frozen=True)
class RoomOffer:
    """A room and its free intervals in the range, each at least as long as asked."""

    room: FeedRoom
    capacity: int
    free: tuple[tuple[datetime, datetime], ...]
    free_throughout: bool

    @property
    def longest(self) -> timedelta:
        return max((end - start for start, end in self.free), default=timedelta(0))


def parse_finder_options(params) -> FinderOptions:
    """``minutes`` (default 1) and ``capacity`` (default 0: any room); ``from`` and ``to`` are required."""
    for name in ("from", "to"):
        if not checked_values(params, name):
            raise QueryError(f"{name}: required; the finder looks for free time between from and to")
    minutes = whole_number(params, "minutes", lowest=1, highest=MAX_RANGE.days * 24 * 60, default=1)
    capacity = whole_number(params, "capacity", lowest=0, highest=MAX_CAPACITY, default=0)
    return FinderOptions(timedelta(minutes=minutes), capacity)


def room_offer(room: FeedRoom, capacity: int, periods, *, start, end, options: FinderOptions) -> RoomOffer:
    """What the finder offers of ``room`` busy during ``periods``, in ``[start, end)``."""
    free = tuple(free_intervals(periods, start, end, options.minimum))
    return RoomOffer(room, capacity, free, free_throughout=free == ((start, end),))


def rank_offers(offers) -> list[RoomOffer]:
    """Rooms free throughout first, then by their longest free interval; the given order otherwise."""
    return sorted(offers, key=lambda offer: (not offer.free_throughout, -offer.longest))


def finder_document(timezone: str, start: datetime, end: datetime, offers) -> bytes:
    """The free.json answer: ``{"timeZone", "from", "to", "rooms": [...]}``, rooms in the order given."""
    document = {
        "timeZone": timezone,
        "from": utc_text(start),
        "to": utc_text(end),
        "rooms": [
            {
                "code": offer.room.code,
                "name": offer.room.name,
                "location": offer.room.location,
                "capacity": offer.capacity,
                "freeThroughout": offer.free_throughout,
                "free": [{"start": utc_text(low), "end": utc_text(high)} for low, high in offer.free],
            }
            for offer in offers
        ],
    }
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
