import hashlib
from datetime import timezone

from odoo import fields, models
from odoo.tools import SQL

from ..booking_feed import calendar_envelope, document_envelope
from ..booking_feed.api import DATA_HEADERS, ICS_CONTENT_TYPE, JSON_CONTENT_TYPE, Answer
from ..booking_feed.records import strictly_after
from ..booking_feed.sync import encode_sync_token, filter_signature
from .calendar_feed_segment import HEAD, TAIL

#: What each format's day segment joins: its entries' column, and the text between two of them.
DAY_TEXTS = {"ics": ("ics_block", ""), "json": ("json_object", ",")}


class CalendarFeedBodyMixin(models.AbstractModel):
    """The feed's stored ICS and JSON bodies, kept as segments (``calendar.feed.segment``): the
    envelope's head and tail, and one segment per day of live entries.

    A build re-renders and re-compresses only the days its changes touched
    (before and after the change), so a change costs about the same at 100k
    bookings as at 10k; a full build renders every day. Bodies are sent as
    stored: the identity body is the segments' texts joined, the gzip body
    their deflate bytes spliced into one stream. Kept apart from
    ``calendar.feed`` (its only user), which decides when to build.
    """

    _name = "calendar.feed.body.mixin"
    _description = "External Calendar Stored Feed Bodies"

    # Read by people and tests; requests are sent the segments, never this text.
    ics_body = fields.Text("ICS", compute="_compute_bodies", prefetch=False)
    json_body = fields.Text("JSON", compute="_compute_bodies", prefetch=False)
    ics_etag = fields.Char(readonly=True)
    json_etag = fields.Char(readonly=True)

    def _compute_bodies(self):
        Segment = self.env["calendar.feed.segment"].sudo()
        for feed in self:
            feed.ics_body = Segment._identity_body(feed, "ics").decode()
            feed.json_body = Segment._identity_body(feed, "json").decode()

    def _days_of(self, event_ids):
        """The days (since 1970) whose segments hold these bookings' entries now."""
        query = SQL(
            "SELECT DISTINCT (start_at::date - DATE '1970-01-01') FROM calendar_feed_entry WHERE event_id = ANY(%s)",
            list(event_ids),
        )
        return {day for (day,) in self.env.execute_query(query)}

    def _assemble(self, settings, window, now, days=None):
        """Store the ICS and JSON bodies: their envelopes, and the segments of ``days`` (every
        day if None) rendered again from the entries. Returns the values to write on the feed."""
        Segment = self.env["calendar.feed.segment"].sudo()
        if days is not None and not Segment.search_count([("feed_id", "=", self.id)], limit=1):
            days = None  # nothing stored yet (first build, or after the update to segments)
        in_window = self.env["calendar.feed.reader"]._overlap_domain(window.start, window.end)
        in_window = self.env["calendar.feed.entry"].sudo()._search(in_window).where_clause
        head, tail = calendar_envelope(**settings.calendar_properties())
        self._store_segments("ics", head, tail, in_window, days)
        ics_etag, ics_size, event_count = Segment._summary(self, "ics")
        content_key = hashlib.sha256(f"{ics_etag} {window}".encode()).hexdigest()
        last_modified = self.last_modified
        if content_key != self.content_key:
            # Strictly later than before, so If-Modified-Since never hides a change.
            last_modified = strictly_after(
                now, last_modified.replace(tzinfo=timezone.utc) if last_modified else None
            )
            last_modified = last_modified.replace(tzinfo=None)
        sync_token = encode_sync_token(self.change_stamp, filter_signature([]))
        json_head = self.env["calendar.feed.reader"]._json_head(
            self,
            settings,
            window.start,
            window.end,
            updated_at=last_modified,
            nextCursor=None,
            syncToken=sync_token,
        )
        opening, closing = document_envelope(json_head)
        self._store_segments("json", opening.encode(), closing.encode(), in_window, days)
        json_etag, _size, _count = Segment._summary(self, "json")
        self.invalidate_recordset(["ics_body", "json_body"])
        return {
            "ics_etag": ics_etag,
            "json_etag": json_etag,
            "ics_size": ics_size,
            "event_count": event_count,
            "content_key": content_key,
            "last_modified": last_modified,
        }

    def _store_segments(self, feed_format, head, tail, in_window, days):
        """Store one body's envelope and its segments of ``days`` (all if None); return how many
        segments were compressed.

        In JSON, the segments after the first day's begin with the comma that
        separates them from the one before; so when the first day changes, the
        old and the new first day are rendered again too.
        """
        Segment = self.env["calendar.feed.segment"].sudo()
        if days is None:
            Segment._remove(self, feed_format)
        elif feed_format == "json":
            first_days = {self._first_stored_day(feed_format), self._first_live_day(in_window)}
            if len(first_days) > 1:
                days = days | (first_days - {None})
        stored = Segment._store(self, feed_format, [(HEAD, head, 0), (TAIL, tail, 0)])
        if days is not None:
            Segment._remove(self, feed_format, sorted(days))
        if days is None or days:
            stored += Segment._store(self, feed_format, self._day_texts(feed_format, in_window, days))
        return stored

    def _day_texts(self, feed_format, in_window, days):
        """``(day, UTF-8 text, entry count)`` of the days with live entries ``in_window`` among ``days``
        (all if None), each day's entries in the feed's order (start, booking id)."""
        column, separator = DAY_TEXTS[feed_format]
        live = SQL("removed_at IS NULL AND %s", in_window)
        if days is not None:
            # One index range per day, not a scan of every entry.
            live = SQL(
                "%s AND EXISTS (SELECT FROM unnest(%s::int[]) AS day WHERE start_at >= DATE '1970-01-01' + day "
                "AND start_at < DATE '1970-01-01' + day + 1)",
                live,
                sorted(days),
            )
        query = SQL(
            """SELECT (start_at::date - DATE '1970-01-01') AS day,
                      convert_to(string_agg(%s, %s ORDER BY start_at, event_id), 'UTF8'), count(*)
                 FROM calendar_feed_entry WHERE %s GROUP BY day ORDER BY day""",
            SQL.identifier(column),
            separator,
            live,
        )
        first_day = self._first_live_day(in_window) if separator else None
        Segment = self.env["calendar.feed.segment"].sudo()
        for day, text, count in Segment._stream_query(query):
            yield day, (b"" if day == first_day else separator.encode()) + bytes(text), count

    def _first_live_day(self, in_window):
        query = SQL(
            "SELECT min(start_at)::date - DATE '1970-01-01' FROM calendar_feed_entry WHERE removed_at IS NULL AND %s",
            in_window,
        )
        return self.env.execute_query(query)[0][0]

    def _first_stored_day(self, feed_format):
        query = SQL(
            "SELECT min(position) FROM calendar_feed_segment WHERE feed_id = %s AND feed_format = %s "
            "AND position > %s AND position < %s",
            self.id,
            feed_format,
            HEAD,
            TAIL,
        )
        return self.env.execute_query(query)[0][0]

    def _stored_answer(self, feed_format):
        """The stored ``ics`` or ``json`` body as an answer, read only if the client's copy is not current."""
        self.ensure_one()
        Segment = self.env["calendar.feed.segment"].sudo()
        return Answer(
            ICS_CONTENT_TYPE if feed_format == "ics" else JSON_CONTENT_TYPE,
            lambda: Segment._identity_body(self, feed_format),
            etag=self[f"{feed_format}_etag"],
            last_modified=self.last_modified,
            headers=DATA_HEADERS,
            stored_gzip=lambda: Segment._gzip_body(self, feed_format),
        )
