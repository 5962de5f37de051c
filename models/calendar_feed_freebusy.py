from datetime import datetime, timezone

from odoo import api, models

from ..booking_feed.api import ICS_CONTENT_TYPE, JSON_CONTENT_TYPE, data_answer
from ..booking_feed.freebusy import RoomFreeBusy, asked_range
from ..booking_feed.room_finder import finder_document, parse_finder_options, rank_offers, room_offer


class CalendarFeedFreebusy(models.AbstractModel):
    """Free/busy time of the published rooms, and the room finder: answers to freebusy.ics and
    free.json as plain :class:`~..booking_feed.api.Answer` data.

    The periods are made from the stored entries (through
    ``calendar.feed.reader``), never from the bookings themselves, by the
    rules of :mod:`~..booking_feed.freebusy`.
    """

    _name = "calendar.feed.freebusy"
    _description = "External Calendar Free/Busy Answers"

    @api.model
    def _answer_freebusy(self, feed, settings, audience, params, now=None):
        """One VFREEBUSY per room the audience reads (those of ``room`` if given), over ``from`` to
        ``to``, by default the published window."""
        Reader = self.env["calendar.feed.reader"]
        query = Reader._parse_query(params, settings, audience)
        start, end = asked_range(query, settings.window(now or datetime.now(timezone.utc)))
        rooms = Reader._rooms(audience, audience.reads(query.room_codes))
        periods = Reader._busy_periods(settings, rooms.mapped("code"), start, end)
        calendars = [RoomFreeBusy(room.code, room.name, tuple(periods[room.code])) for room in rooms]
        body = Reader._freebusy_calendar(feed, calendars, start, end)
        # ETag only: opening hours change the answer without changing the feed.
        return data_answer(ICS_CONTENT_TYPE, body, None)

    @api.model
    def _answer_free(self, feed, settings, audience, params, now=None):
        """The rooms the audience reads (those of ``room`` if given) that hold ``capacity`` people,
        with their free intervals of at least ``minutes`` between ``from`` and ``to``."""
        options = parse_finder_options(params)
        Reader = self.env["calendar.feed.reader"]
        query = Reader._parse_query(params, settings, audience)
        start, end = asked_range(query, settings.window(now or datetime.now(timezone.utc)))
        rooms = Reader._rooms(audience, audience.reads(query.room_codes)).filtered(
            lambda room: room.capacity >= options.capacity
        )
        periods = Reader._busy_periods(settings, rooms.mapped("code"), start, end)
        offers = [
            room_offer(
                room._to_feed_room(), room.capacity, periods[room.code], start=start, end=end, options=options
            )
            for room in rooms
        ]
        body = finder_document(settings.timezone, start, end, rank_offers(offers))
        return data_answer(JSON_CONTENT_TYPE, body, None)  # ETag only, as above
