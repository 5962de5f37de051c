import hashlib
from datetime import timezone

from odoo import fields, models
from odoo.tools import SQL

from ..booking_feed import calendar_envelope, document_envelope
from ..booking_feed.api import DATA_HEADERS, ICS_CONTENT_TYPE, JSON_CONTENT_TYPE, Answer
from ..booking_feed.records import strictly_after
from ..booking_feed.sync import encode_sync_token, filter_signature
from .calendar_feed_segment import DAY_SEPARATORS, HEAD, TAIL

#: The entries' column each format's day segments join.
DAY_COLUMNS = {"ics": "ics_block", "json": "json_object"}


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
            "SELECT DISTINCT (start_at::date - DATE '1970-01-01') FROM calendar_feed_entry "
            "WHERE event_id = ANY(%s)",
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
        segments were compressed."""
        Segment = self.env["calendar.feed.segment"].sudo()
        Segment._remove(self, feed_format, None if days is None else sorted(days))
        stored = Segment._store(self, feed_format, [(HEAD, head, 0), (TAIL, tail, 0)])
        if days is None or days:
            stored += Segment._store(self, feed_format, self._day_texts(feed_format, in_window, days))
        return stored

    def _day_texts(self, feed_format, in_window, days):
        """``(day, UTF-8 text, entry count)`` of the days with live entries ``in_window`` among ``days``
        (all if None), each day's entries in the feed's order (start, booking id)."""
        column = SQL.identifier(DAY_COLUMNS[feed_format])
        separator = DAY_SEPARATORS[feed_format].decode()
        live = SQL("removed_at IS NULL AND %s", in_window)
        if days is None:
            query = SQL(
                """SELECT (start_at::date - DATE '1970-01-01') AS day,
                          convert_to(string_agg(%s, %s ORDER BY start_at, event_id), 'UTF8'), count(*)
                     FROM calendar_feed_entry WHERE %s GROUP BY day ORDER BY day""",
                column,
                separator,
                live,
            )
        else:  # one range of the start index per day, not a scan of every entry
            query = SQL(
                """SELECT day, convert_to(string_agg(%s, %s ORDER BY start_at, event_id), 'UTF8'), count(*)
                     FROM unnest(%s::int[]) AS day
                     JOIN calendar_feed_entry ON start_at >= (DATE '1970-01-01' + day)::timestamp
                                             AND start_at < (DATE '1970-01-01' + day + 1)::timestamp
                    WHERE %s GROUP BY day ORDER BY day""",
                column,
                separator,
                sorted(days),
                live,
            )
        return self.env["calendar.feed.segment"].sudo()._stream_query(query)

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
