from collections import Counter
from dataclasses import replace
from datetime import datetime, timezone
from typing import NamedTuple
from zoneinfo import ZoneInfo

from odoo import api, fields, models
from odoo.fields import Domain
from odoo.tools import SQL, escape_psql

from ..booking_feed import document_head, dump_event, render_calendar, render_vevent
from ..booking_feed.api import body_etag
from ..booking_feed.dav_resources import CalendarObject
from ..booking_feed.ics import calendar_object
from ..booking_feed.query import QueryError, parse_feed_query
from ..booking_feed.records import load_record
from ..booking_feed.sync import Cursor, check_sync_token, encode_sync_token


class EventsPage(NamedTuple):
    """A page of the JSON feed as data: the events' stored JSON texts and the document's head."""

    objects: list
    head: dict


class CalendarFeedReader(models.AbstractModel):
    """The published bookings, as one audience may read them: the one reader of every front end.

    The ICS and JSON routes, CalDAV, displays and webhooks ask here, with
    who is asking (an :class:`~..booking_feed.audience.Audience`), the
    feed's settings (read once per request) and the request's filters, and
    get data back: rooms, domains of entries, texts, pages, busy periods (from
    its free/busy mixin). Nothing here
    makes an HTTP answer, and front ends never call each other. Everything
    is read from the stored entries: no booking is read at request time.
    """

    _name = "calendar.feed.reader"
    _inherit = ["calendar.feed.reader.freebusy.mixin"]
    _description = "External Calendar Published Bookings"

    # -- rooms ------------------------------------------------------------------

    @api.model
    def _rooms(self, audience, codes=None):
        """The published rooms ``audience`` may read (only those of ``codes`` if given), in order."""
        domain = Domain("is_published", "=", True)
        if audience.is_limited:
            domain &= Domain("code", "in", list(audience.rooms))
        if codes is not None:
            domain &= Domain("code", "in", list(codes))
        return self.env["calendar.room"].sudo().search(domain)

    @api.model
    def _parse_query(self, params, settings, audience, statuses=()):
        """The filters of ``params``; a room the audience may not read is unknown, as one that does
        not exist."""
        query = parse_feed_query(params, timezone=settings.timezone, statuses=statuses)
        known = self._rooms(audience, query.room_codes).mapped("code") if query.room_codes else ()
        if unknown := sorted(set(query.room_codes) - set(known)):
            raise QueryError(f"room: no published room with code {', '.join(unknown)}")
        return query

    @api.model
    def _calendar_name(self, settings, audience, query):
        """The name of a calendar of the rooms asked for, or of the audience's: theirs after the feed's."""
        codes = audience.reads(query.room_codes)
        rooms = self._rooms(audience, codes) if codes is not None else None
        return " - ".join([settings.name, *rooms.mapped("name")]) if rooms else None

    # -- which entries -----------------------------------------------------------------

    @staticmethod
    def _naming_rooms(codes, column="rooms_booked"):
        """Entries whose ``column`` (``rooms_booked`` or ``rooms_seen``) names one of ``codes``; no
        condition for None (every room), none at all for no codes."""
        if codes is None:
            return Domain.TRUE
        if not codes:
            return Domain.FALSE
        codes = list(codes)
        return Domain.custom(
            to_sql=lambda model, alias, query: SQL(
                "%s && %s::varchar[]", SQL.identifier(alias, column), codes
            )
        )

    @staticmethod
    def _json_head(feed, settings, start, end, updated_at=None, **extra):
        """The fields every JSON answer starts with, for the period ``[start, end)``."""
        updated_at = (updated_at or feed.last_modified).replace(tzinfo=timezone.utc)
        return document_head(
            timezone=settings.timezone, updated_at=updated_at, window_start=start, window_end=end, **extra
        )

    @staticmethod
    def _overlap_domain(start, end):
        """Entries overlapping ``[start, end)`` (aware datetimes): the window rule of every feed."""
        start, end = start.replace(tzinfo=None), end.replace(tzinfo=None)
        return Domain("stop_at", ">", start) & Domain("start_at", "<", end)

    @api.model
    def _matching_domain(self, audience, query, start, end):
        """Entries overlapping ``[start, end)`` that match ``query``'s rooms, words and statuses,
        among the rooms of ``audience``; tombstones included."""
        domain = self._overlap_domain(start, end) & self._naming_rooms(audience.reads(query.room_codes))
        if not audience.title_may_match(query.text.split()):
            return Domain.FALSE
        for word in query.text.split() if not audience.busy_only else ():
            domain &= Domain("title", "=ilike", f"%{escape_psql(word)}%")
        if query.statuses:
            domain &= Domain("status", "in", list(query.statuses))
        return domain

    @api.model
    def _live_domain(self, audience, query, start, end):
        """The live entries of :meth:`_matching_domain`: what subscribers see."""
        return self._matching_domain(audience, query, start, end) & Domain("removed_at", "=", False)

    @api.model
    def _changed_domain(self, audience, query, since):
        """Entries changed after the stamp ``since`` whose bookings were ever in the rooms asked for
        (or any the audience was given): those who saw them learn of their departures too."""
        seen = self._naming_rooms(audience.learns_departures_from(query.room_codes), "rooms_seen")
        return Domain("change_stamp", ">", since) & seen

    # -- what is read ---------------------------------------------------------------

    @api.model
    def _published_texts(self, entries, column, audience, settings):
        """The stored ``ics_block`` or ``json_object`` of each entry, in order, as ``audience`` may
        read it: a booking that also books rooms outside its rooms is rendered again from its
        stored record without them, so it never learns their names; to a busy-only audience every
        booking is rendered again, as "Busy"."""
        if not entries:
            return []
        rows = self.env.execute_query(
            SQL(
                "SELECT id, %s, CASE WHEN %s THEN record END FROM calendar_feed_entry WHERE id = ANY(%s)",
                SQL.identifier("calendar_feed_entry", column),
                self._rendered_again_for(audience),
                entries.ids,
            )
        )
        zone = ZoneInfo(settings.timezone)
        texts = {}
        for entry_id, stored, record in rows:
            if record is None:
                texts[entry_id] = stored
                continue
            event = audience.trim(load_record(record))
            texts[entry_id] = (
                render_vevent(event).decode() if column == "ics_block" else dump_event(event, zone)
            )
        return [texts[entry_id] for entry_id in entries.ids]

    @api.model
    def _calendar_asked(self, settings, audience, params, *, with_tombstones=False, now=None):
        """``(ICS bytes, calendar name)`` of the bookings ``params`` ask for (``room``, ``from``,
        ``to``): the live ones, or ``with_tombstones`` also those removed, still in the window
        (one that merely ended before it was never cancelled)."""
        query = self._parse_query(params, settings, audience)
        start, end = query.narrow(settings.window(now or datetime.now(timezone.utc)))
        domain = self._matching_domain(audience, query, start, end)
        if not with_tombstones:
            domain &= Domain("removed_at", "=", False)
        return self._calendar(settings, audience, query, domain if start < end else None)

    @api.model
    def _calendar(self, settings, audience, query, domain):
        """``(ICS bytes, calendar name)`` of the entries of ``domain`` (None: no entry), named after
        the rooms asked for or the audience's."""
        Entry = self.env["calendar.feed.entry"].sudo()
        entries = Entry.search(domain) if domain is not None else Entry
        blocks = [block.encode() for block in self._published_texts(entries, "ics_block", audience, settings)]
        name = self._calendar_name(settings, audience, query)
        return render_calendar(blocks, **settings.calendar_properties(name)), name or settings.name

    @api.model
    def _room_counts(self, audience, query, start, end):
        """``{room code: number}`` of the live entries in ``[start, end)`` matching ``query``, per room."""
        entries = (
            self.env["calendar.feed.entry"].sudo()._search(self._live_domain(audience, query, start, end))
        )
        rows = self.env.execute_query(
            SQL(
                "SELECT code, count(*) FROM (%s) AS entry, unnest(entry.rooms_booked) AS code GROUP BY code",
                entries.select(SQL.identifier("calendar_feed_entry", "rooms_booked")),
            )
        )
        return Counter(dict(rows))

    @api.model
    def _events_page(self, feed, settings, audience, query, *, paging, signature):
        """A page of the JSON feed: without ``since``, the live bookings matching ``query``; with it,
        the bookings changed since that sync token that match (``events``) and those that were
        deleted, cancelled or no longer match (``deleted``). Pages follow (start, id) and read the
        snapshot of the first page, so the last page's ``syncToken`` misses nothing."""
        if paging.since is not None:
            check_sync_token(paging.since, feed.sync_floor, feed.change_stamp)
        start, end = query.narrow(settings.window(datetime.now(timezone.utc)))
        Entry = self.env["calendar.feed.entry"].sudo()
        snapshot = paging.cursor.stamp if paging.cursor else feed.change_stamp
        domain = Domain("change_stamp", "<=", snapshot) & self._after_cursor(paging.cursor)
        matching = self._live_domain(audience, query, start, end)
        domain &= matching if paging.since is None else self._changed_domain(audience, query, paging.since)
        page = Entry.search(
            domain, order="start_at, event_id", limit=paging.limit + 1 if paging.limit else None
        )
        has_more = bool(paging.limit) and len(page) > paging.limit
        page = page[: paging.limit] if has_more else page
        events = (
            page if paging.since is None else page & Entry.search(matching & Domain("id", "in", page.ids))
        )
        head = self._paging_head(page, has_more, snapshot, paging, signature)
        if paging.since is not None:
            head["deleted"] = [{"id": entry.event_id, "uid": entry.uid} for entry in page - events]
        objects = self._published_texts(page & events, "json_object", audience, settings)  # the page's order
        return EventsPage(objects, self._json_head(feed, settings, start, end, **head))

    @staticmethod
    def _after_cursor(cursor):
        """Entries after the paging cursor in the feed's order (start, booking id)."""
        if not cursor:
            return Domain.TRUE
        after = Domain("start_at", "=", cursor.after_start) & Domain("event_id", ">", cursor.after_id)
        return Domain("start_at", ">", cursor.after_start) | after

    @staticmethod
    def _paging_head(page, has_more, snapshot, paging, signature):
        """``nextCursor`` while there is more, else the ``syncToken`` of the snapshot read."""
        if not has_more:
            return {"nextCursor": None, "syncToken": encode_sync_token(snapshot, signature)}
        last = page[-1]
        cursor = Cursor(snapshot, fields.Datetime.to_string(last.start_at), last.event_id, paging.since)
        return {"nextCursor": cursor.encode(signature), "syncToken": None}

    @api.model
    def _next_events(self, feed, settings, audience, query, *, limit, now=None):
        """The next ``limit`` live bookings starting from ``now`` that match ``query``, as a page.

        ``now`` is taken at the start of its minute: for a whole minute the
        answer is the same, so a display polling more often than that gets 304s.
        """
        now = (now or datetime.now(timezone.utc)).replace(second=0, microsecond=0)
        window = settings.window(now)
        start = max(now, window.start)
        domain = self._live_domain(audience, query, start, window.end)
        domain &= Domain("start_at", ">=", start.replace(tzinfo=None))
        entries = (
            self.env["calendar.feed.entry"].sudo().search(domain, order="start_at, event_id", limit=limit)
        )
        objects = self._published_texts(entries, "json_object", audience, settings)
        return EventsPage(objects, self._json_head(feed, settings, start, window.end))

    # -- CalDAV objects -----------------------------------------------------------

    @api.model
    def _calendar_objects(self, settings, audience, domain, with_data=False):
        """The CalDAV objects of the entries of ``domain``, in the feed's order, with the ETag made
        at build time (``data``, the object's bytes, only ``with_data``); bookings naming rooms
        outside the audience's are made again here, without them."""
        Entry = self.env["calendar.feed.entry"].sudo()
        columns = SQL(
            """calendar_feed_entry.id, calendar_feed_entry.event_id, calendar_feed_entry.object_etag,
               octet_length(calendar_feed_entry.ics_block) + %s,
               to_char(calendar_feed_entry.modified_at, 'Dy, DD Mon YYYY HH24:MI:SS "GMT"'), %s, %s""",
            len(calendar_object(b"")),  # the object's envelope
            SQL("calendar_feed_entry.ics_block") if with_data else SQL("NULL"),
            self._rendered_again_for(audience),
        )
        rows = self.env.execute_query(Entry._search(domain, order="start_at, event_id").select(columns))
        objects = [CalendarObject(*row[:5], data=row[5] and calendar_object(row[5].encode())) for row in rows]
        trimmed = Entry.browse([row[0] for row in rows if row[6]])
        remade = zip(
            trimmed.ids, self._published_texts(trimmed, "ics_block", audience, settings), strict=True
        )
        remade = {entry_id: calendar_object(block.encode()) for entry_id, block in remade}
        return [
            replace(row, etag=body_etag(data), length=len(data), data=data if with_data else None)
            if (data := remade.get(row.entry_id))
            else row
            for row in objects
        ]

    @api.model
    def _changed_objects(self, settings, audience, query, since, *, with_data=False):
        """CalDAV's changes after the stamp ``since`` in the calendar of ``query``'s rooms: the
        objects of the live bookings in the window that changed, and the booking ids of those
        that changed and are gone from it (deleted, cancelled, moved out, unpublished)."""
        changed = self.env["calendar.feed.entry"].sudo().search(self._changed_domain(audience, query, since))
        start, end = query.narrow(settings.window(datetime.now(timezone.utc)))
        live = self._live_domain(audience, query, start, end) & Domain("id", "in", changed.ids)
        objects = self._calendar_objects(settings, audience, live if start < end else Domain.FALSE, with_data)
        shown = {row.event_id for row in objects}
        return objects, [event_id for event_id in changed.mapped("event_id") if event_id not in shown]

    @api.model
    def _last_change_stamps(self, feed, audience, room_codes):
        """``{room code: stamp}`` of the last change of a booking ever in each room (0: none yet), and
        under None that of every room the audience was given: what CalDAV ctags are made of."""
        seen = audience.seen_rooms or ()
        stamps = self.env["calendar.feed.entry"].sudo()._last_change_stamps([*room_codes, *seen])
        stamps = {code: stamp or 0 for code, stamp in stamps.items()}
        stamps[None] = (
            max((stamps[code] for code in seen), default=0) if audience.is_limited else feed.change_stamp
        )
        return stamps

    @staticmethod
    def _rendered_again_for(audience):
        """SQL: whether an entry is rendered again for ``audience`` (:meth:`Audience.trim`): every
        entry for a busy-only audience, else those that book a room it was not given."""
        if audience.busy_only:
            return SQL("TRUE")
        if not audience.is_limited:
            return SQL("FALSE")
        return SQL("NOT calendar_feed_entry.rooms_booked <@ %s::varchar[]", list(audience.rooms))
