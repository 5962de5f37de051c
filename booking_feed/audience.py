"""Who is asking: the main link, a named key, a webhook or a push target, and its rooms.

Every front end reads the published bookings for an :class:`Audience`.
Authentication returns one; keys, webhooks and push targets build theirs
from their rooms. The rules that depend on the rooms it was given (which
rooms it may read, whether a booking names a room outside them, what its
sync tokens are bound to) are written here once.
"""

from dataclasses import dataclass, replace

from .records import BUSY_TITLE, FeedEvent
from .sync import filter_signature


@dataclass(frozen=True)
class Audience:
    """The rooms one reader of the feeds was given.

    ``rooms``: the codes of the published rooms it may read; None for every
    published room (the main link, a key without rooms); empty: nothing.
    ``seen_rooms``: the codes of every room it was given, unpublished and
    archived ones too, among which a delta reports bookings that left
    (None with ``rooms``). ``key_id``: the named key asking, for its usage
    log; None for the main link and for audiences that are not keys.
    ``busy_only``: it reads free/busy time in full, and every booking as
    "Busy", with no description nor organizer (a key for a public website).
    """

    rooms: tuple[str, ...] | None = None
    seen_rooms: tuple[str, ...] | None = None
    key_id: int | None = None
    busy_only: bool = False

    @property
    def is_limited(self) -> bool:
        """Whether it reads some rooms only."""
        return self.rooms is not None

    def reads(self, room_codes=()) -> tuple[str, ...] | None:
        """The rooms a request reads: those asked for among its own, else its own (None: all)."""
        return _among(room_codes, self.rooms)

    def learns_departures_from(self, room_codes=()) -> tuple[str, ...] | None:
        """The rooms whose bookings' departures a delta reports: those asked for among all it was
        given, else all it was given (None: every room)."""
        return _among(room_codes, self.seen_rooms)

    def names_rooms_outside(self, room_codes) -> bool:
        """Whether a booking of ``room_codes`` also books a room this audience was not given."""
        return self.rooms is not None and not set(room_codes) <= set(self.rooms)

    @property
    def reads_as_published(self) -> bool:
        """Whether it reads every booking as the feed publishes it: the stored feeds are its own."""
        return not self.is_limited and not self.busy_only

    def trim(self, event: FeedEvent) -> FeedEvent:
        """``event`` as this audience may read it: without the rooms it was not given (it never
        learns their names) and, busy only, as "Busy" with no description nor organizer."""
        if self.busy_only:
            event = replace(
                event,
                title=BUSY_TITLE,
                private=True,
                description="",
                organizer_name="",
                organizer_email="",
                color="",  # a tag's colour would hint at what the booking is
            )
        if not self.names_rooms_outside(room.code for room in event.rooms):
            return event
        return replace(event, rooms=tuple(room for room in event.rooms if room.code in self.rooms))

    def title_may_match(self, words) -> bool:
        """Whether a title search for ``words`` may match anything: to a busy-only audience every
        title is "Busy", and it must not learn which bookings a real word would find."""
        return not self.busy_only or all(word.casefold() in BUSY_TITLE.casefold() for word in words)

    def signature(self, query_items) -> str:
        """What its sync tokens, cursors and CalDAV ctags are bound to: the filters (``(name,
        values)`` pairs), for a limited audience its rooms, and whether it reads busy only: another
        key's token is another delta, and a key turned busy only must fetch everything again."""
        # "scope" is part of the tokens already issued: renaming it would expire them all.
        rooms = [] if self.rooms is None else [("scope", list(self.rooms))]
        busy = [("access", ["busy"])] if self.busy_only else []
        return filter_signature([*query_items, *rooms, *busy])


def _among(asked, given):
    """The rooms ``asked`` for, never beyond those ``given`` (None: every room); ``given`` if none asked."""
    if not asked:
        return given
    return tuple(asked) if given is None else tuple(code for code in asked if code in given)


#: The main link: every published room.
EVERY_ROOM = Audience()
