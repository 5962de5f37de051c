import hashlib
from datetime import timezone

from odoo import fields, models
from odoo.tools import SQL

from ..booking_feed import calendar_envelope, document_envelope
from ..booking_feed.api import DATA_HEADERS, ICS_CONTENT_TYPE, JSON_CONTENT_TYPE, Answer
from ..booking_feed.records import strictly_after
from ..booking_feed.sync import encode_sync_token, filter_signature
from .calendar_feed_segment import BUSY_DAY_ENTRIES, HEAD, HOURS_PER_DAY, SEPARATORS, TAIL

#: The entries' column each format's segments join.
ENTRY_COLUMNS = {"ics": "ics_block", "json": "json_object"}


class CalendarFeedBodyMixin(models.AbstractModel):
    """The feed's stored ICS and JSON bodies, kept as segments (``calendar.feed.segment``): the
    envelope's head and tail, and one segment per day (per hour on a busy day) of live entries.

    A build re-renders and re-compresses only the segments its changes
    touched (before and after the change), so a change costs about the same
    at 100k bookings as at 10k; a full build renders every day. Bodies are
    sent as stored: the identity body is the segments' texts one after the
    other (those a worker already sent taken from its memory), the gzip body
    their deflate bytes spliced into one stream. Kept
    apart from ``calendar.feed`` (its only user), which decides when to build.
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
            feed.ics_body = b"".join(Segment._identity_chunks(feed, "ics")).decode()
            feed.json_body = b"".join(Segment._identity_chunks(feed, "json")).decode()

    def _hours_of(self, event_ids):
        """The hours (since 1970) that these bookings' entries start in now."""
        query = SQL(
            "SELECT DISTINCT floor(extract(epoch FROM start_at) / 3600)::int FROM calendar_feed_entry "
            "WHERE event_id = ANY(%s)",
            list(event_ids),
        )
        return {hour for (hour,) in self.env.execute_query(query)}

    def _assemble(self, settings, window, now, hours=None):
        """Store the ICS and JSON bodies: their envelopes, and the segments holding ``hours`` (every
        hour if None) rendered again from the entries. Returns the values to write on the feed."""
        Segment = self.env["calendar.feed.segment"].sudo()
        if hours is not None and not Segment.search_count([("feed_id", "=", self.id)], limit=1):
            hours = None  # nothing stored yet: the first build
        in_window = self.env["calendar.feed.reader"]._overlap_domain(window.start, window.end)
        in_window = self.env["calendar.feed.entry"].sudo()._search(in_window).where_clause
        live = SQL("removed_at IS NULL AND %s", in_window)
        slots, cleared = self._slots(live, hours)
        head, tail = calendar_envelope(**settings.calendar_properties())
        self._store_segments("ics", (head, tail), live, slots, cleared)
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
        self._store_segments("json", (opening.encode(), closing.encode()), live, slots, cleared)
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

    def _slots(self, live, hours):
        """The segments to render again, ``[(position, hours)]``, and the positions of the stored
        segments they replace (None: all of them), for the days of ``hours`` (every day if None).

        A day is one segment, or 24 of an hour when it has more than
        BUSY_DAY_ENTRIES live entries; a busy day already stored hour by hour
        renders only the hours in ``hours``.
        """
        days = None if hours is None else sorted({hour // HOURS_PER_DAY for hour in hours})
        counts = dict(self.env.execute_query(_entries_per_day(live, days)))
        split = set() if days is None else self.env["calendar.feed.segment"].sudo()._split_days(self, days)
        slots, cleared = [], []
        for day in sorted(counts) if days is None else days:
            day_hours = range(day * HOURS_PER_DAY, (day + 1) * HOURS_PER_DAY)
            if counts.get(day, 0) <= BUSY_DAY_ENTRIES:
                renewed = [(day_hours[0], HOURS_PER_DAY)] if counts.get(day) else []
            elif day in split:  # its other hours are stored as they are
                day_hours = sorted(hour for hour in hours if hour // HOURS_PER_DAY == day)
                renewed = [(hour, 1) for hour in day_hours]
            else:
                renewed = [(hour, 1) for hour in day_hours]
            slots += renewed
            cleared += day_hours
        return slots, None if days is None else cleared

    def _store_segments(self, feed_format, envelope, live, slots, cleared):
        """Store one body's ``envelope`` (head, tail) and its segments of ``slots`` in place of those
        at ``cleared`` (all if None)."""
        head, tail = envelope
        Segment = self.env["calendar.feed.segment"].sudo()
        Segment._remove(self, feed_format, None if cleared is None else [HEAD, TAIL, *cleared])
        Segment._store(self, feed_format, [(HEAD, 0, head, 0), (TAIL, 0, tail, 0)])
        if slots:
            Segment._store(
                self, feed_format, self._slot_texts(feed_format, live, slots, every_day=cleared is None)
            )

    def _slot_texts(self, feed_format, live, slots, every_day):
        """``(position, hours, UTF-8 text, entry count)`` of the ``slots`` holding live entries,
        each slot's entries in the feed's order (start, booking id).

        For ``every_day`` (a full build) one pass over the entries, each placed
        in its day or, on a busy day, its hour; else one range of the start
        index per slot, not a scan of every entry.
        """
        column = SQL.identifier(ENTRY_COLUMNS[feed_format])
        separator = SEPARATORS[feed_format].decode()
        if every_day:
            busy_days = sorted({position // HOURS_PER_DAY for position, hours in slots if hours == 1})
            query = SQL(
                """SELECT position, hours, string_agg(%s, %s ORDER BY start_at, event_id), count(*)
                     FROM (SELECT *, CASE WHEN day = ANY(%s::int[]) THEN 1 ELSE 24 END AS hours,
                                  CASE WHEN day = ANY(%s::int[]) THEN hour ELSE day * 24 END AS position
                             FROM (SELECT *, floor(extract(epoch FROM start_at) / 3600)::int AS hour,
                                          start_at::date - DATE '1970-01-01' AS day
                                     FROM calendar_feed_entry WHERE %s) AS live) AS placed
                    GROUP BY position, hours ORDER BY position""",
                column,
                separator,
                busy_days,
                busy_days,
                live,
            )
        else:
            positions, spans = zip(*slots, strict=True)
            query = SQL(
                """SELECT slot.position, slot.hours, string_agg(%s, %s ORDER BY start_at, event_id), count(*)
                     FROM unnest(%s::int[], %s::int[]) AS slot(position, hours)
                     JOIN calendar_feed_entry
                       ON start_at >= TIMESTAMP '1970-01-01' + slot.position * INTERVAL '1 hour'
                      AND start_at < TIMESTAMP '1970-01-01' + (slot.position + slot.hours) * INTERVAL '1 hour'
                    WHERE %s GROUP BY slot.position, slot.hours ORDER BY slot.position""",
                column,
                separator,
                list(positions),
                list(spans),
                live,
            )
        return self.env["calendar.feed.segment"].sudo()._stream_query(query)

    def _stored_answer(self, feed_format):
        """The stored ``ics`` or ``json`` body as an answer, read only if the client's copy is not current."""
        self.ensure_one()
        Segment = self.env["calendar.feed.segment"].sudo()
        return Answer(
            ICS_CONTENT_TYPE if feed_format == "ics" else JSON_CONTENT_TYPE,
            lambda: Segment._sent_chunks(self, feed_format, self[f"{feed_format}_etag"]),
            etag=self[f"{feed_format}_etag"],
            last_modified=self.last_modified,
            headers=DATA_HEADERS,
            stored_gzip=lambda: Segment._gzip_body(self, feed_format),
        )


def _entries_per_day(live, days):
    """The query of ``(day since 1970, count)`` of the ``live`` entries of ``days`` (all if None)
    that have some."""
    if days is None:
        return SQL(
            "SELECT start_at::date - DATE '1970-01-01' AS day, count(*) FROM calendar_feed_entry "
            "WHERE %s GROUP BY day",
            live,
        )
    return SQL(
        """SELECT day, count(*) FROM unnest(%s::int[]) AS day
             JOIN calendar_feed_entry ON start_at >= TIMESTAMP '1970-01-01' + day * INTERVAL '1 day'
                                     AND start_at < TIMESTAMP '1970-01-01' + (day + 1) * INTERVAL '1 day'
            WHERE %s GROUP BY day""",
        days,
        live,
    )
