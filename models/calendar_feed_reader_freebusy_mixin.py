from datetime import timezone
from itertools import chain
from zoneinfo import ZoneInfo

from odoo import api, models
from odoo.fields import Domain
from odoo.tools import SQL

from ..booking_feed.api import body_etag
from ..booking_feed.freebusy import (
    SHOWN_AS_FREE,
    Booking,
    RoomFreeBusy,
    busy_periods,
    outside,
    render_freebusy,
)


class CalendarFeedReaderFreebusyMixin(models.AbstractModel):
    """The reader's free/busy part: busy periods of rooms from the stored entries, closed hours
    from the rooms' opening hours, and VFREEBUSY calendars of them.

    Only ``calendar.feed.reader`` inherits it: front ends ask the reader, as for everything
    else they read. It reads entries' columns in one query, never ``calendar.event``.
    """

    _name = "calendar.feed.reader.freebusy.mixin"
    _description = "External Calendar Free/Busy Reading"

    @api.model
    def _busy_bookings(self, room_codes, start, end):
        """``{room code: [Booking]}``: what free/busy time needs of the live entries overlapping
        ``[start, end)`` in each room of ``room_codes`` (every room has a list). Read in one
        query from the entries' columns; only "shown as free" comes from the stored record,
        where it is written only when true (found as text: parsing every record as JSON would
        cost as much as the rest of the answer)."""
        bookings = {code: [] for code in room_codes}
        domain = self._overlap_domain(start, end) & self._naming_rooms(room_codes)
        entries = self.env["calendar.feed.entry"].sudo()._search(domain & Domain("removed_at", "=", False))
        columns = SQL(
            """calendar_feed_entry.rooms_booked, calendar_feed_entry.start_at, calendar_feed_entry.stop_at,
               calendar_feed_entry.status,
               strpos(calendar_feed_entry.record, %s) = 0""",
            SHOWN_AS_FREE,
        )
        for codes, start_at, stop_at, status, busy in self.env.execute_query(entries.select(columns)):
            booking = Booking(
                start_at.replace(tzinfo=timezone.utc), stop_at.replace(tzinfo=timezone.utc), status, busy
            )
            for code in codes:
                if code in bookings:
                    bookings[code].append(booking)
        return bookings

    @api.model
    def _busy_periods(self, settings, room_codes, start, end):
        """``{room code: [Period]}``: each room's busy periods in ``[start, end)``, its bookings' and,
        as BUSY-UNAVAILABLE, its closed hours' (:func:`~..booking_feed.freebusy.busy_periods`)."""
        zone = ZoneInfo(settings.timezone)
        bookings = self._busy_bookings(room_codes, start, end)
        closed = self._closed_intervals(room_codes, start, end)
        return {
            code: busy_periods(booked, start, end, zone, closed[code]) for code, booked in bookings.items()
        }

    @api.model
    def _rooms_freebusy(self, settings, rooms, start, end):
        """A :class:`~..booking_feed.freebusy.RoomFreeBusy` per room of ``rooms``, in their order."""
        periods = self._busy_periods(settings, rooms.mapped("code"), start, end)
        return [RoomFreeBusy(room.code, room.name, tuple(periods[room.code])) for room in rooms]

    @api.model
    def _closed_intervals(self, room_codes, start, end):
        """``{room code: [(start, end)]}``: when each room is closed in ``[start, end)``, outside the
        working hours of its opening hours (Odoo's ``resource.calendar``, in its own zone, less its
        leaves); a room without them, or with flexible ones, is open all the time. Read from the
        resource calendars at request time: they are not bookings."""
        closed = {code: [] for code in room_codes}
        rooms = (
            self.env["calendar.room"]
            .sudo()
            .search([("code", "in", list(room_codes)), ("opening_hours_id.flexible_hours", "=", False)])
        )
        for hours, rooms_open in rooms.grouped("opening_hours_id").items():
            open_hours = hours._work_intervals_batch(start, end)[False]
            closed_hours = outside([(opened, closing) for opened, closing, _why in open_hours], start, end)
            for room in rooms_open:
                closed[room.code] = closed_hours
        return closed

    @api.model
    def _busy_periods_together(self, settings, room_codes, start, end):
        """The busy periods of the bookings of any of ``room_codes``: one calendar of several rooms."""
        bookings = self._busy_bookings(room_codes, start, end).values()
        return busy_periods(chain.from_iterable(bookings), start, end, ZoneInfo(settings.timezone))

    @api.model
    def _freebusy_etag(self, feed, settings, audience, *asked):
        """The ETag of a free/busy answer, known before its periods are, so that a 304 reads no entry:
        a digest of all they are made of: the entries (the feed's change stamp), the rooms, their
        working-time calendars with their hours and common leaves (digests of the rows: a few
        hundred at most), the settings, who asks and what (``asked``: route, range, options)."""
        [tables] = self.env.execute_query(
            SQL(
                """WITH hours AS (SELECT opening_hours_id AS id FROM calendar_room)
                   SELECT (SELECT md5(string_agg(r::text, ',' ORDER BY r.id)) FROM calendar_room r),
                          (SELECT md5(string_agg(c::text, ',' ORDER BY c.id)) FROM resource_calendar c
                            WHERE c.id IN (SELECT id FROM hours)),
                          (SELECT md5(string_agg(a::text, ',' ORDER BY a.id))
                             FROM resource_calendar_attendance a
                            WHERE a.calendar_id IN (SELECT id FROM hours)),
                          (SELECT md5(string_agg(l::text, ',' ORDER BY l.id)) FROM resource_calendar_leaves l
                            WHERE l.resource_id IS NULL
                              AND (l.calendar_id IS NULL OR l.calendar_id IN (SELECT id FROM hours)))"""
            )
        )
        inputs = (feed.change_stamp, feed.last_modified, tables, settings, audience, asked)
        return body_etag(repr(inputs).encode())

    @api.model
    def _freebusy_calendar(self, feed, calendars, start, end, *, method="PUBLISH"):
        """ICS bytes of one VFREEBUSY per :class:`~..booking_feed.freebusy.RoomFreeBusy` of
        ``calendars``, over ``[start, end)``, stamped with the feed's last change: the same
        periods give the same bytes."""
        return render_freebusy(
            calendars,
            start,
            end,
            stamp=feed.last_modified.replace(tzinfo=timezone.utc),
            database_uuid=self.env["ir.config_parameter"].sudo().get_param("database.uuid"),
            method=method,
        )
