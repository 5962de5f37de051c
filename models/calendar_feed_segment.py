import hashlib
import zlib

from odoo import fields, models
from odoo.tools import SQL

from ..booking_feed.gzip_segments import crc32_shift, deflate_segment, splice_gzip

#: Positions of the envelope; a day's segment sits at its number of days since 1970-01-01.
HEAD = -(2**31)
TAIL = 2**31 - 1
#: Segments written (and streamed from PostgreSQL) at once: bounds a build's memory.
BATCH_SIZE = 20
#: The text between two days (JSON's comma between events), spliced when the body is sent: a
#: day's segment does not depend on whether a day comes before it.
DAY_SEPARATORS = {"ics": b"", "json": b","}
#: The separators as spliceable segments: (deflated, crc32, size, crc32 shift), made once.
_SPLICED_SEPARATORS = {
    feed_format: (deflate_segment(text), zlib.crc32(text), len(text), crc32_shift(len(text)))
    for feed_format, text in DAY_SEPARATORS.items()
}


class CalendarFeedSegment(models.Model):
    """A piece of a stored feed body: its envelope's head or tail, or the live entries of one day.

    A change re-renders and re-compresses the days it touched, not the whole
    body, so the first request after a change costs about the same at 100k
    bookings as at 10k. Days are the unit because they are stable: inserting
    a booking changes its day only, where blocks of N entries would all shift.
    Each segment keeps its UTF-8 text and its raw deflate ending with a full
    flush (see ``booking_feed/gzip_segments.py``), so the gzip answer is the
    segments' deflate bytes spliced in order, compressed once.

    The text and the deflate bytes are ``bytea`` columns, written and read in
    SQL (an Odoo Binary field holds base64).
    """

    _name = "calendar.feed.segment"
    _description = "External Calendar Stored Feed Segment"
    _log_access = False
    _order = "feed_id, feed_format, position"

    feed_id = fields.Many2one("calendar.feed", required=True, ondelete="cascade", readonly=True)
    feed_format = fields.Selection([("ics", "ICS"), ("json", "JSON")], required=True, readonly=True)
    position = fields.Integer(
        required=True, readonly=True, help="Order in the body: the head, the days since 1970, the tail."
    )
    entry_count = fields.Integer(readonly=True, help="Published bookings in the segment.")
    size = fields.Integer(readonly=True, help="Bytes of the segment's text.")
    digest = fields.Char(readonly=True, help="Digest of the segment's text; the body's ETag digests these.")

    _position_unique = models.Constraint(
        "UNIQUE(feed_id, feed_format, position)", "A feed body has one segment at each position."
    )

    def init(self):
        self.env.cr.execute(
            "ALTER TABLE calendar_feed_segment ADD COLUMN IF NOT EXISTS body bytea, "
            "ADD COLUMN IF NOT EXISTS deflated bytea, ADD COLUMN IF NOT EXISTS crc32 bigint, "
            "ADD COLUMN IF NOT EXISTS crc32_shift bigint"
        )

    def _store(self, feed, feed_format, texts):
        """Store ``texts``, ``(position, UTF-8 text, entry count)``, as segments of ``feed``'s body,
        replacing those at the same positions; returns how many were stored (compressed)."""
        batch, stored = [], 0
        for position, text, entry_count in texts:
            batch.append(self._prepare_row(feed, feed_format, position, bytes(text), entry_count))
            if len(batch) == BATCH_SIZE:
                stored += self._write(batch)
                batch = []
        return stored + self._write(batch)

    @staticmethod
    def _prepare_row(feed, feed_format, position, text, entry_count):
        """The row of one segment: its text compressed, checksummed and digested."""
        return SQL(
            "(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            feed.id,
            feed_format,
            position,
            entry_count,
            len(text),
            hashlib.sha256(text).hexdigest()[:32],
            text,
            deflate_segment(text),
            zlib.crc32(text),
            crc32_shift(len(text)),
        )

    def _write(self, rows):
        if rows:
            self.env.cr.execute(
                SQL(
                    """INSERT INTO calendar_feed_segment
                            (feed_id, feed_format, position, entry_count, size, digest, body, deflated,
                             crc32, crc32_shift)
                       VALUES %s
                       ON CONFLICT (feed_id, feed_format, position) DO UPDATE SET
                            entry_count = EXCLUDED.entry_count, size = EXCLUDED.size,
                            digest = EXCLUDED.digest,
                            body = EXCLUDED.body, deflated = EXCLUDED.deflated, crc32 = EXCLUDED.crc32,
                            crc32_shift = EXCLUDED.crc32_shift""",
                    SQL(", ").join(rows),
                )
            )
        return len(rows)

    def _remove(self, feed, feed_format, positions=None):
        """Forget the segments of ``feed``'s body at ``positions`` (all of them if None)."""
        self.env.cr.execute(
            SQL(
                "DELETE FROM calendar_feed_segment WHERE feed_id = %s AND feed_format = %s "
                "AND (%s::int[] IS NULL OR position = ANY(%s::int[]))",
                feed.id,
                feed_format,
                positions,
                positions,
            )
        )

    def _summary(self, feed, feed_format):
        """``(etag, size, entry count)`` of a stored body.

        The ETag digests the segments' digests in order: it changes when, and
        only when, a segment's text does, without reading the texts.
        """
        [row] = self.env.execute_query(
            SQL(
                """SELECT left(encode(sha256(convert_to(string_agg(digest, ' ' ORDER BY position), 'UTF8')),
                                      'hex'), 32),
                          COALESCE(sum(size), 0), COALESCE(sum(entry_count), 0)
                     FROM calendar_feed_segment WHERE feed_id = %s AND feed_format = %s""",
                feed.id,
                feed_format,
            )
        )
        return row

    def _stream(self, feed, feed_format, columns, separator):
        """Rows of ``columns`` of ``feed``'s segments in order, read BATCH_SIZE at a time, with
        ``separator`` (a row of the same shape) between two days."""
        query = SQL(
            "SELECT position, %s FROM calendar_feed_segment WHERE feed_id = %s AND feed_format = %s "
            "ORDER BY position",
            SQL(", ").join(SQL.identifier(column) for column in columns),
            feed.id,
            feed_format,
        )
        after_a_day = False
        for position, *row in self._stream_query(query):
            is_day = HEAD < position < TAIL
            if is_day and after_a_day and DAY_SEPARATORS[feed_format]:
                yield separator
            after_a_day = is_day
            yield row

    def _stream_query(self, query):
        """The rows of ``query``, fetched BATCH_SIZE at a time through a server-side cursor."""
        self.env.flush_all()
        with self.env.cr._cnx.cursor(f"calendar_feed_segment_{id(query)}") as cursor:
            cursor.itersize = BATCH_SIZE
            cursor.execute(query.code, query.params)
            yield from cursor

    def _identity_body(self, feed, feed_format):
        """The stored body, the texts of its segments joined."""
        separator = [DAY_SEPARATORS[feed_format]]
        return b"".join(bytes(body) for (body,) in self._stream(feed, feed_format, ["body"], separator))

    def _gzip_body(self, feed, feed_format):
        """The stored body as one gzip stream spliced from its segments, without compressing anything."""
        columns = ["deflated", "crc32", "size", "crc32_shift"]
        return splice_gzip(self._stream(feed, feed_format, columns, _SPLICED_SEPARATORS[feed_format]))
