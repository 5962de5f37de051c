import io
import json

from psycopg2.extras import execute_values

from odoo import fields, models

from ..booking_feed import FeedEvent, dump_event, render_vevent


class CalendarFeedEntry(models.Model):
    """One booking as the feed last published it, rendered once.

    An entry outlives its booking: when a booking leaves the feed (deleted,
    cancelled, moved, unpublished) its entry becomes a CANCELLED tombstone,
    so subscribers and importers learn it is gone, until the retention
    period ends. The rendered VEVENT and JSON are kept so that feeds are
    assembled from blocks instead of being rendered again.
    """

    _name = "calendar.feed.entry"
    _description = "External Calendar Published Booking"
    _log_access = False
    _order = "start_at, event_id"

    event_id = fields.Integer("Booking ID", required=True, readonly=True)  # indexed by its UNIQUE constraint
    uid = fields.Char("UID", required=True, readonly=True)
    sequence = fields.Integer(readonly=True)
    fingerprint = fields.Char(readonly=True, help="Digest of what subscribers see of the booking.")
    start_at = fields.Datetime(readonly=True, index=True)
    stop_at = fields.Datetime(readonly=True)
    room_codes = fields.Char(readonly=True, help="Codes of the published rooms, as ',A,B,'.")
    title = fields.Char(readonly=True, help="The title as published (Busy for private bookings).")
    status = fields.Char(readonly=True, help="Booking status as published; tombstones keep their last one.")
    change_stamp = fields.Integer(
        readonly=True, index=True, help="Stamp of the build that last changed the entry (sync tokens)."
    )
    removed_at = fields.Datetime(readonly=True, index=True, help="When the booking left the feed.")
    modified_at = fields.Datetime(readonly=True, help="LAST-MODIFIED of the published event.")
    # Large columns are read only when asked for, never prefetched with the rest.
    record = fields.Text(readonly=True, prefetch=False, help="The published event, as plain data.")
    ics_block = fields.Text("VEVENT", readonly=True, prefetch=False)
    json_object = fields.Text("JSON", readonly=True, prefetch=False)

    _event_unique = models.Constraint("UNIQUE(event_id)", "A booking has one feed entry.")

    def init(self):
        self.env.cr.execute("CREATE SEQUENCE IF NOT EXISTS calendar_feed_entry_stamp_seq")

    def _next_change_stamp(self):
        """A stamp greater than any before; builds are serialized, so stamps follow commits."""
        self.env.cr.execute("SELECT nextval('calendar_feed_entry_stamp_seq')")
        return self.env.cr.fetchone()[0]

    def _get_feed_event(self):
        self.ensure_one()
        return self._event_from_record(self.record)

    @staticmethod
    def _event_from_record(record):
        """The published event stored in a ``record`` column."""
        return FeedEvent.from_dict(json.loads(record))

    @staticmethod
    def _prepare_values(event, event_fingerprint, bounds, zone, *, removed_at=None, change_stamp=0):
        """Column values of the entry publishing ``event``.

        ``bounds`` are the event's UTC start and end, which all-day bookings
        only have once placed in the calendar's zone.
        """
        return {
            "event_id": event.id,
            "uid": event.uid,
            "sequence": event.sequence,
            "fingerprint": event_fingerprint,
            "start_at": bounds[0].replace(tzinfo=None),
            "stop_at": bounds[1].replace(tzinfo=None),
            "room_codes": "," + ",".join(room.code for room in event.rooms) + ",",
            "title": event.public_title,
            "status": event.status,
            "change_stamp": change_stamp,
            "removed_at": removed_at or None,
            "modified_at": event.updated.replace(tzinfo=None),
            "record": json.dumps(event.to_dict()),
            "ics_block": render_vevent(event).decode(),
            "json_object": dump_event(event, zone),
        }

    # -- bulk access for builds: SQL, since a build may touch 100k entries --

    def _get_states(self, event_ids):
        """``{event_id: (fingerprint, sequence, modified_at, removed_at)}`` of these bookings' entries."""
        self.flush_model()
        self.env.cr.execute(
            "SELECT event_id, fingerprint, sequence, modified_at, removed_at "
            "FROM calendar_feed_entry WHERE event_id = ANY(%s)",
            [list(event_ids)],
        )
        return {row[0]: row[1:] for row in self.env.cr.fetchall()}

    def _insert(self, values_list):
        """Create the entries of ``values_list``, which must be new (from :meth:`_prepare_values`).

        With COPY, which PostgreSQL reads in 60% of the time INSERT's literals
        take: a cold build writes tens of megabytes here.
        """
        if not values_list:
            return
        self.flush_model()
        rows = io.BytesIO(b"".join(_copy_line(values.values()) for values in values_list))
        copy = f"COPY calendar_feed_entry ({', '.join(values_list[0])}) FROM STDIN"
        self.env.cr._obj.copy_expert(copy, rows)  # psycopg2's COPY needs the raw cursor
        self.invalidate_model()

    def _upsert(self, values_list):
        """Create or replace the entries of ``values_list`` (from :meth:`_prepare_values`)."""
        if not values_list:
            return
        self.flush_model()
        columns = list(values_list[0])
        updates = ", ".join(f"{column} = EXCLUDED.{column}" for column in columns if column != "event_id")
        execute_values(
            self.env.cr._obj,  # psycopg2's bulk VALUES needs the raw cursor
            f"INSERT INTO calendar_feed_entry ({', '.join(columns)}) VALUES %s "  # noqa: S608  (fixed columns)
            f"ON CONFLICT (event_id) DO UPDATE SET {updates}",
            [tuple(values[column] for column in columns) for values in values_list],
            page_size=1000,
        )
        self.invalidate_model()

    def _get_departed(self, published_ids, among=None):
        """``(fingerprint, published event)`` of live entries whose booking is no longer published.

        With ``among``, only entries of those bookings are considered.
        """
        self.flush_model()
        self.env.cr.execute(
            """
            SELECT fingerprint, record FROM calendar_feed_entry
             WHERE removed_at IS NULL
               AND event_id NOT IN (SELECT unnest(%(published)s::int[]))
               AND (%(among)s::int[] IS NULL OR event_id = ANY(%(among)s::int[]))
            """,
            {"published": list(published_ids), "among": list(among) if among is not None else None},
        )
        return [(key, self._event_from_record(record)) for key, record in self.env.cr.fetchall()]

    def _prune(self, expiry):
        """Forget tombstones older than ``expiry``; return the highest change stamp forgotten."""
        self.flush_model()
        self.env.cr.execute(
            "DELETE FROM calendar_feed_entry WHERE removed_at <= %s RETURNING change_stamp", [expiry]
        )
        stamps = [row[0] for row in self.env.cr.fetchall()]
        self.invalidate_model()
        return max(stamps, default=0)


def _copy_line(values):
    """One row in the text format of COPY, encoded.

    Line by line: one str of all rows would take 4 bytes per character after any emoji.
    """
    return ("\t".join([_copy_text(value) for value in values]) + "\n").encode()


def _copy_text(value):
    """``value`` in the text format of COPY."""
    if value is None:
        return r"\N"
    if isinstance(value, str):
        return value.replace("\\", "\\\\").replace("\t", r"\t").replace("\n", r"\n").replace("\r", r"\r")
    return str(value)
