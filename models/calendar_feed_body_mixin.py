import hashlib
from datetime import timezone

from odoo import fields, models
from odoo.tools import SQL

from ..booking_feed import calendar_envelope, document_envelope
from ..booking_feed.api import DATA_HEADERS, ICS_CONTENT_TYPE, JSON_CONTENT_TYPE, Answer
from ..booking_feed.encoding import gzip_chunks
from ..booking_feed.records import strictly_after
from ..booking_feed.sync import encode_sync_token, filter_signature


class CalendarFeedBodyMixin(models.AbstractModel):
    """The feed's stored ICS and JSON bodies: assembled in PostgreSQL from the entries' blocks,
    compressed once, and sent as they are stored.

    Kept apart from ``calendar.feed`` (its only user), which decides when to
    build; this says how a build stores what the main links serve.
    """

    _name = "calendar.feed.body.mixin"
    _description = "External Calendar Stored Feed Bodies"

    # Bodies are read only to be sent: never prefetched with the validators.
    ics_body = fields.Text("ICS", readonly=True, prefetch=False)
    json_body = fields.Text("JSON", readonly=True, prefetch=False)
    ics_etag = fields.Char(readonly=True)
    json_etag = fields.Char(readonly=True)

    def _assemble(self, settings, window, now):
        """Store the ICS and JSON bodies, assembled in PostgreSQL from the entries' blocks, and their gzip.

        Only digests and counters come back from the assembly; each body is
        then read once, as bytes, to be compressed. Returns the values to
        write on the feed.
        """
        in_window = self.env["calendar.feed.reader"]._overlap_domain(window.start, window.end)
        in_window = self.env["calendar.feed.entry"].sudo()._search(in_window).where_clause
        ics_etag, ics_size = self._assemble_ics(settings, in_window)
        content_key = hashlib.sha256(f"{ics_etag} {window}".encode()).hexdigest()
        last_modified = self.last_modified
        if content_key != self.content_key:
            # Strictly later than before, so If-Modified-Since never hides a change.
            last_modified = strictly_after(
                now, last_modified.replace(tzinfo=timezone.utc) if last_modified else None
            )
            last_modified = last_modified.replace(tzinfo=None)
        sync_token = encode_sync_token(self.change_stamp, filter_signature([]))
        head = self.env["calendar.feed.reader"]._json_head(
            self,
            settings,
            window.start,
            window.end,
            updated_at=last_modified,
            nextCursor=None,
            syncToken=sync_token,
        )
        json_etag, event_count = self._assemble_json(head, in_window)
        for feed_format in ("ics", "json"):
            self._compress_body(feed_format)
        self.invalidate_recordset(["ics_body", "json_body"])
        return {
            "ics_etag": ics_etag,
            "json_etag": json_etag,
            "ics_size": ics_size,
            "event_count": event_count,
            "content_key": content_key,
            "last_modified": last_modified,
        }

    def _assemble_ics(self, settings, in_window):
        """Store the ICS body of the live entries ``in_window``; return its ETag and size.

        Subscribers learn of a removal by its absence: a subscribed calendar is
        replaced at every refresh, and a CANCELLED event would be drawn struck
        through by Apple Calendar for the whole retention period. The ETag is
        ``body_etag()`` computed where the body is (a test holds them equal).
        """
        head, tail = calendar_envelope(**settings.calendar_properties())
        query = SQL(
            """
            UPDATE calendar_feed SET ics_body = %s || COALESCE((
                   SELECT string_agg(ics_block, '' ORDER BY start_at, event_id) FROM calendar_feed_entry
                    WHERE removed_at IS NULL AND %s), '') || %s
             WHERE id = %s
            RETURNING left(encode(sha256(convert_to(ics_body, 'UTF8')), 'hex'), 32), octet_length(ics_body)
            """,
            head.decode(),
            in_window,
            tail.decode(),
            self.id,
        )
        return self.env.execute_query(query)[0]

    def _assemble_json(self, head, in_window):
        """Store the JSON body (``head``, then the live entries ``in_window``); return its ETag and count."""
        opening, closing = document_envelope(head)
        live = SQL("removed_at IS NULL AND %s", in_window)
        query = SQL(
            """
            WITH live AS (SELECT json_object, start_at, event_id FROM calendar_feed_entry WHERE %s)
            UPDATE calendar_feed SET json_body = %s
                   || COALESCE((SELECT string_agg(json_object, ',' ORDER BY start_at, event_id)
                                  FROM live), '')
                   || %s
             WHERE id = %s
            RETURNING left(encode(sha256(convert_to(json_body, 'UTF8')), 'hex'), 32),
                      (SELECT count(*) FROM live)
            """,
            live,
            opening,
            closing,
            self.id,
        )
        return self.env.execute_query(query)[0]

    def _compress_body(self, feed_format):
        """Store the gzip of a stored body.

        The body comes back as UTF-8 bytes (bytea): as a Python str, one emoji
        would make it take 4 bytes per character. One read, not slices: PostgreSQL
        decompresses a stored text from its start for every slice taken.
        """
        body, gzip = (SQL.identifier(f"{feed_format}_{kind}") for kind in ("body", "gzip"))
        query = SQL("SELECT convert_to(%s, 'UTF8') FROM calendar_feed WHERE id = %s", body, self.id)
        [(data,)] = self.env.execute_query(query)
        self.env.cr.execute(
            SQL("UPDATE calendar_feed SET %s = %s WHERE id = %s", gzip, gzip_chunks([data]), self.id)
        )

    def _stored_answer(self, feed_format):
        """The stored ``ics`` or ``json`` body as an answer, read only if the client's copy is not current."""
        self.ensure_one()
        return Answer(
            ICS_CONTENT_TYPE if feed_format == "ics" else JSON_CONTENT_TYPE,
            lambda: self[f"{feed_format}_body"].encode(),  # noqa: PLW0108 (read when sent)
            etag=self[f"{feed_format}_etag"],
            last_modified=self.last_modified,
            headers=DATA_HEADERS,
            stored_gzip=lambda: self._read_gzip(feed_format),
        )

    def _read_gzip(self, feed_format):
        """The stored gzip body of the ``ics`` or ``json`` feed, as built with its identity body."""
        column = SQL.identifier(f"{feed_format}_gzip")
        [(stored,)] = self.env.execute_query(
            SQL("SELECT %s FROM calendar_feed WHERE id = %s", column, self.id)
        )
        if stored is None:  # built by a version that did not compress; the next build will
            return gzip_chunks([self[f"{feed_format}_body"].encode()])
        return bytes(stored)
