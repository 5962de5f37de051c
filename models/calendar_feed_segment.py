import hashlib
import io
import zlib

from psycopg2.extensions import BYTES, register_type

from odoo import fields, models
from odoo.tools import SQL

from ..booking_feed.body_cache import BodyCache
from ..booking_feed.gzip_segments import crc32_shift, deflate_segment, splice_gzip

#: Positions of the envelope; the others are hours since 1970-01-01 00:00 UTC.
HEAD = -(2**31)
TAIL = 2**31 - 1
HOURS_PER_DAY = 24
#: A day with more live entries than this is stored hour by hour: a change to a busy day then
#: re-renders an hour of it (about 70 bookings at 100k), while a quieter day stays one segment,
#: which compresses better (deflate forgets its window at each segment's end).
BUSY_DAY_ENTRIES = 400
#: Segments written at once, and rendered texts fetched at once: bounds a build's memory.
BATCH_SIZE = 20
#: Stored segments fetched at once when a body is sent: a segment holds at most about
#: BUSY_DAY_ENTRIES entries, and fewer round trips to PostgreSQL pay at 1,500 segments.
SENDING_BATCH_SIZE = 100
#: The text between two segments of entries (JSON's comma between events), spliced when the body
#: is sent: a segment does not depend on whether one comes before it.
SEPARATORS = {"ics": b"", "json": b","}
#: The separators as spliceable segments: (deflated, crc32, size, crc32 shift), made once.
_SPLICED_SEPARATORS = {
    feed_format: (deflate_segment(text), zlib.crc32(text), len(text), crc32_shift(len(text)))
    for feed_format, text in SEPARATORS.items()
}
#: The plain bodies this worker last sent, by database, feed and format.
SENT_BODIES = BodyCache()
#: The columns of a segment's row, in the order COPY reads them.
_COLUMNS = (
    "feed_id",
    "feed_format",
    "position",
    "hours",
    "entry_count",
    "size",
    "digest",
    "body",
    "deflated",
    "crc32",
    "crc32_shift",
)


class CalendarFeedSegment(models.Model):
    """A piece of a stored feed body: its envelope's head or tail, or the live entries of one day
    (one hour, on a busy day).

    A change re-renders and re-compresses the segments it touched, not the
    whole body, so the first request after a change costs about the same at
    100k bookings as at 10k. Days and hours are the unit because they are
    stable: inserting a booking changes its own segment only, where blocks
    of N entries would all shift. Each segment keeps its UTF-8 text and its
    raw deflate ending with a full flush (see ``booking_feed/gzip_segments.py``),
    so the gzip answer is the segments' deflate bytes spliced in order,
    compressed once, and the identity answer their texts in order.

    The text is a ``text`` column read as bytes (psycopg2's BYTES caster:
    no hex, no decoding) and the deflate a ``bytea`` one, written by COPY and
    read in SQL (an Odoo Binary field holds base64).
    """

    _name = "calendar.feed.segment"
    _description = "External Calendar Stored Feed Segment"
    _log_access = False
    _order = "feed_id, feed_format, position"

    feed_id = fields.Many2one("calendar.feed", required=True, ondelete="cascade", readonly=True)
    feed_format = fields.Selection([("ics", "ICS"), ("json", "JSON")], required=True, readonly=True)
    position = fields.Integer(
        required=True, readonly=True, help="Order in the body: the head, hours since 1970, the tail."
    )
    hours = fields.Integer(
        readonly=True, help="Hours of bookings the segment holds: 24 (a day), 1 (an hour of a busy day)."
    )
    entry_count = fields.Integer(readonly=True, help="Published bookings in the segment.")
    size = fields.Integer(readonly=True, help="Bytes of the segment's text.")
    digest = fields.Char(readonly=True, help="Digest of the segment's text; the body's ETag digests these.")

    _position_unique = models.Constraint(
        "UNIQUE(feed_id, feed_format, position)", "A feed body has one segment at each position."
    )

    def init(self):
        self.env.cr.execute(
            "ALTER TABLE calendar_feed_segment ADD COLUMN IF NOT EXISTS body text, "
            "ADD COLUMN IF NOT EXISTS deflated bytea, ADD COLUMN IF NOT EXISTS crc32 bigint, "
            "ADD COLUMN IF NOT EXISTS crc32_shift bigint"
        )
        # Never compressed by PostgreSQL (moved out of line past 2 kB, as they are): it would compress
        # the texts (pglz) at every write and decompress them at every request, and the deflate
        # bytes do not compress.
        self.env.cr.execute(
            "ALTER TABLE calendar_feed_segment ALTER COLUMN body SET STORAGE EXTERNAL, "
            "ALTER COLUMN deflated SET STORAGE EXTERNAL"
        )

    # -- writing ---------------------------------------------------------------

    def _store(self, feed, feed_format, texts):
        """Store ``texts``, ``(position, hours, UTF-8 text, entry count)``, as new segments of
        ``feed``'s body (none may be stored at those positions)."""
        batch = []
        for segment in texts:
            batch.append(self._prepare_row(feed.id, feed_format, segment))
            if len(batch) == BATCH_SIZE:
                self._write(batch)
                batch = []
        self._write(batch)

    @staticmethod
    def _prepare_row(feed_id, feed_format, segment):
        """One ``(position, hours, UTF-8 text, entry count)`` segment as a line of COPY's CSV: its text
        compressed, checksummed and digested."""
        position, hours, text, entry_count = segment
        values = (
            feed_id,
            feed_format,
            position,
            hours,
            entry_count,
            len(text),
            hashlib.sha256(text).hexdigest()[:32],
        )
        quoted_text = b'"' + text.replace(b'"', b'""') + b'"'
        deflated = b"\\x" + deflate_segment(text).hex().encode()
        checksums = f"{zlib.crc32(text)},{crc32_shift(len(text))}\n".encode()
        return b",".join([",".join(map(str, values)).encode(), quoted_text, deflated, checksums])

    def _write(self, lines):
        """COPY these rows in: CSV only doubles the texts' quotes, where a literal escapes them."""
        if lines:
            self.env.flush_all()
            copy = SQL(
                "COPY calendar_feed_segment (%s) FROM STDIN WITH (FORMAT csv)",
                SQL(", ").join(SQL.identifier(column) for column in _COLUMNS),
            )
            self.env.cr._obj.copy_expert(copy.code, io.BytesIO(b"".join(lines)))  # COPY needs the raw cursor

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

    # -- reading ---------------------------------------------------------------

    def _split_days(self, feed, days):
        """Those of ``days`` (since 1970) stored hour by hour."""
        query = SQL(
            """SELECT day FROM unnest(%s::int[]) AS day
                WHERE EXISTS (SELECT 1 FROM calendar_feed_segment
                               WHERE feed_id = %s AND feed_format = 'ics' AND hours = 1
                                 AND position >= day * %s AND position < (day + 1) * %s)""",
            sorted(days),
            feed.id,
            HOURS_PER_DAY,
            HOURS_PER_DAY,
        )
        return {day for (day,) in self.env.execute_query(query)}

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
        """Rows of ``columns`` of ``feed``'s segments in order, read SENDING_BATCH_SIZE at a time, with
        ``separator`` (a row of the same shape) between two segments of entries."""
        query = SQL(
            "SELECT position, %s FROM calendar_feed_segment WHERE feed_id = %s AND feed_format = %s "
            "ORDER BY position",
            SQL(", ").join(SQL.identifier(column) for column in columns),
            feed.id,
            feed_format,
        )
        rows = ((position, row) for position, *row in self._stream_query(query, SENDING_BATCH_SIZE))
        return _separated(feed_format, rows, separator)

    def _stream_query(self, query, batch_size=BATCH_SIZE):
        """The rows of ``query``, fetched ``batch_size`` at a time through a server-side cursor,
        texts as UTF-8 bytes."""
        self.env.flush_all()
        with self.env.cr._cnx.cursor(f"calendar_feed_segment_{id(query)}") as cursor:
            register_type(BYTES, cursor)
            cursor.itersize = batch_size
            cursor.execute(query.code, query.params)
            yield from cursor

    def _identity_chunks(self, feed, feed_format):
        """The stored body as the texts of its segments in order, to be sent one after the other:
        joining them would copy the whole body once more."""
        separator = [SEPARATORS[feed_format]]
        return [body for (body,) in self._stream(feed, feed_format, ["body"], separator)]

    def _sent_chunks(self, feed, feed_format, etag):
        """:meth:`_identity_chunks` of the body whose ETag is ``etag``, from the texts this worker
        last sent where their segments did not change (see ``booking_feed/body_cache.py``)."""
        key = (self.env.cr.dbname, feed.id, feed_format)
        segments = SENT_BODIES.segments(
            key,
            etag,
            read_index=lambda: self._index(feed, feed_format),
            fetch=lambda positions: self._texts(feed, feed_format, positions),
        )
        return list(_separated(feed_format, segments, SEPARATORS[feed_format]))

    def _index(self, feed, feed_format):
        """``(position, digest)`` of ``feed``'s segments, in order."""
        query = SQL(
            "SELECT position, digest FROM calendar_feed_segment WHERE feed_id = %s AND feed_format = %s "
            "ORDER BY position",
            feed.id,
            feed_format,
        )
        return self.env.execute_query(query)

    def _texts(self, feed, feed_format, positions):
        """``{position: text}`` of ``feed``'s segments at ``positions``."""
        query = SQL(
            "SELECT position, body FROM calendar_feed_segment WHERE feed_id = %s AND feed_format = %s "
            "AND position = ANY(%s::int[])",
            feed.id,
            feed_format,
            list(positions),
        )
        return dict(self._stream_query(query, SENDING_BATCH_SIZE)) if positions else {}

    def _gzip_body(self, feed, feed_format):
        """The stored body as one gzip stream spliced from its segments, without compressing anything."""
        columns = ["deflated", "crc32", "size", "crc32_shift"]
        return splice_gzip(self._stream(feed, feed_format, columns, _SPLICED_SEPARATORS[feed_format]))


def _separated(feed_format, segments, separator):
    """The rows of ``segments``, ``(position, row)`` in order, with ``separator`` between two
    segments of entries (JSON's comma: a segment does not depend on what comes before it)."""
    after_entries = False
    for position, row in segments:
        holds_entries = HEAD < position < TAIL
        if holds_entries and after_entries and SEPARATORS[feed_format]:
            yield separator
        after_entries = holds_entries
        yield row
