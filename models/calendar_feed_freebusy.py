from datetime import datetime, timezone

from odoo import api, models

from ..booking_feed.api import ICS_CONTENT_TYPE, JSON_CONTENT_TYPE, lazy_answer
from ..booking_feed.freebusy import asked_range
from ..booking_feed.room_finder import finder_document, parse_finder_options, rank_offers, room_offer


class CalendarFeedFreebusy(models.AbstractModel):
    """Free/busy time of the published rooms, and the room finder: answers to freebusy.ics and
    free.json as plain :class:`~..booking_feed.api.Answer` data.

    The periods are made from the stored entries (through
    ``calendar.feed.reader``), never from the bookings themselves, by the
    rules of :mod:`~..booking_feed.freebusy`, and only when a body is sent:
    the ETag comes first, from what the periods are made of, so a 304 costs
    what other 304s cost.
    """

    _name = "calendar.feed.freebusy"
    _description = "External Calendar Free/Busy Answers"

    @api.model
    def _answer_freebusy(self, feed, settings, audience, params, now=None):
        """One VFREEBUSY per room the audience reads (those of ``room`` if given), over ``from`` to
        ``to``, by default the published window. The ETag is known first; the periods are read
        only when the body is sent."""
        Reader = self.env["calendar.feed.reader"]
        query = Reader._parse_query(params, settings, audience)
        start, end = asked_range(query, settings.window(now or datetime.now(timezone.utc)))
        rooms = Reader._rooms(audience, audience.reads(query.room_codes))

        def calendar():
            return Reader._freebusy_calendar(
                feed, Reader._rooms_freebusy(settings, rooms, start, end), start, end
            )

        etag = Reader._freebusy_etag(feed, settings, audience, "freebusy", start, end, rooms.ids)
        return lazy_answer(ICS_CONTENT_TYPE, calendar, etag)

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

        def document():
            periods = Reader._busy_periods(settings, rooms.mapped("code"), start, end)
            offers = [
                room_offer(
                    room._to_feed_room(),
                    room.capacity,
                    periods[room.code],
                    start=start,
                    end=end,
                    options=options,
                )
                for room in rooms
            ]
            return finder_document(settings.timezone, start, end, rank_offers(offers))

        etag = Reader._freebusy_etag(feed, settings, audience, "free", start, end, rooms.ids, options)
        return lazy_answer(JSON_CONTENT_TYPE, document, etag)
