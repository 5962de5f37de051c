import io
import json
from dataclasses import replace
from datetime import timezone
from zoneinfo import ZoneInfo

from odoo import api, fields, models
from odoo.tools import SQL, split_every

from ..booking_feed import CANCELLED, dump_event, fingerprint, render_vevent
from ..booking_feed.api import body_etag
from ..booking_feed.ics import calendar_object
from ..booking_feed.records import dump_record, load_record, strictly_after

#: Rows read at once when a build streams entries.
BATCH_SIZE = 2000


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
    title = fields.Char(readonly=True, help="The title as published (Busy for private bookings).")
    status = fields.Char(readonly=True, help="Booking status as published; tombstones keep their last one.")
    change_stamp = fields.Integer(
        readonly=True, index=True, help="Stamp of the build that last changed the entry (sync tokens)."
    )
    # Tombstones only: an index of every live entry's NULL cost each write, and PostgreSQL, misled
    # by stale statistics, read all 100k of them to count one day's live entries.
    removed_at = fields.Datetime(
        readonly=True, index="btree_not_null", help="When the booking left the feed."
    )
    modified_at = fields.Datetime(readonly=True, help="LAST-MODIFIED of the published event.")
    # Large columns are read only when asked for, never prefetched with the rest.
    record = fields.Text(readonly=True, prefetch=False, help="The published event, as plain data.")
    ics_block = fields.Text("VEVENT", readonly=True, prefetch=False)
    object_etag = fields.Char(
        "CalDAV ETag",
        readonly=True,
        help="Digest of the booking's CalDAV object, as served: computed once per change.",
    )
    json_object = fields.Text("JSON", readonly=True, prefetch=False)

    _event_unique = models.Constraint("UNIQUE(event_id)", "A booking has one feed entry.")

    def init(self):
        self.env.cr.execute("CREATE SEQUENCE IF NOT EXISTS calendar_feed_entry_stamp_seq")
        # The codes of the rooms the booking is published in (rooms_booked) and of every room it was
        # ever published in (rooms_seen: a delta for some rooms reports its changes and departure to
        # those who saw it). PostgreSQL arrays with GIN indexes, which "which entries name one of
        # these rooms" reads through; Odoo has no array field, so they are written and read in SQL.
        self.env.cr.execute(
            """
            ALTER TABLE calendar_feed_entry
                ADD COLUMN IF NOT EXISTS rooms_booked varchar[] NOT NULL DEFAULT '{}',
                ADD COLUMN IF NOT EXISTS rooms_seen varchar[] NOT NULL DEFAULT '{}';
            CREATE INDEX IF NOT EXISTS calendar_feed_entry_rooms_booked_index
                ON calendar_feed_entry USING gin (rooms_booked);
            CREATE INDEX IF NOT EXISTS calendar_feed_entry_rooms_seen_index
                ON calendar_feed_entry USING gin (rooms_seen);
            """
        )

    def _next_change_stamp(self):
        """A stamp greater than any before; builds are serialized, so stamps follow commits."""
        self.env.cr.execute("SELECT nextval('calendar_feed_entry_stamp_seq')")
        return self.env.cr.fetchone()[0]

    def _get_feed_event(self):
        self.ensure_one()
        return load_record(self.record)

    @staticmethod
    def _prepare_values(
        event, event_fingerprint, zone, *, bounds=None, removed_at=None, change_stamp=0, seen=()
    ):
        """Column values of the entry publishing ``event``.

        ``bounds`` are its UTC start and end (all-day bookings are placed in
        the calendar's ``zone``) unless given. Times may be UTC text, which
        PostgreSQL reads faster than Python formats datetimes. ``seen`` are
        the codes of the rooms it was published in before (``rooms_seen``).
        """
        start_at, stop_at = bounds or event.bounds_text(zone)
        vevent = render_vevent(event)
        room_codes = [room.code for room in event.rooms]
        return {
            "event_id": event.id,
            "uid": event.uid,
            "sequence": event.sequence,
            "fingerprint": event_fingerprint,
            "start_at": start_at,
            "stop_at": stop_at,
            "rooms_booked": room_codes,
            "rooms_seen": sorted({*room_codes, *seen}),
            "title": event.public_title,
            "status": event.status,
            "change_stamp": change_stamp,
            "removed_at": removed_at or None,
            "modified_at": event.iso_times[3],
            "record": dump_record(event),
            "ics_block": vevent.decode(),
            "object_etag": body_etag(calendar_object(vevent)),
            "json_object": dump_event(event, zone),
        }

    # -- following the bookings ------------------------------------------------

    def _sync_published(self, settings, window, now, event_ids=None):
        """Bring the entries in line with the published bookings (only ``event_ids`` if given).

        New bookings get an entry; changed ones a higher SEQUENCE; bookings
        that left the feed become CANCELLED tombstones, kept for the
        retention period so importers and sync clients learn they are gone.
        (A booking that merely ended before the window is a tombstone too,
        for sync clients; the ICS feed does not show it, being outside the
        window.) Every entry this build touches gets one new change stamp,
        which is returned (None when nothing changed). Bookings are read and
        entries written in batches, in SQL.
        """
        zone = ZoneInfo(settings.timezone)
        stamp = []  # taken on the first change only

        def prepare(event, key, **values):
            if not stamp:
                stamp.append(self._next_change_stamp())
            return self._prepare_values(event, key, zone, change_stamp=stamp[0], **values)

        # A full build that finds no entry has nothing to compare with: no lookup per batch, no
        # search for departed bookings (100k ids at 100k). Incremental builds spare the query.
        known = event_ids is not None or self._has_entries()
        published_ids = []
        for batch in self.env["calendar.event"].sudo()._read_feed_events(window, settings, event_ids):
            states = self._get_states([event.id for event in batch]) if known else {}
            additions, changes = [], []
            for event in batch:
                published_ids.append(event.id)
                key = fingerprint(event, settings.timezone)
                state = states.get(event.id)
                if state is None:
                    additions.append(prepare(event, key))
                elif state[0] != key or state[3]:
                    _key, sequence, modified_at, _removed_at, seen = state
                    updated = strictly_after(now, modified_at.replace(tzinfo=timezone.utc))
                    changes.append(
                        prepare(replace(event, sequence=sequence + 1, updated=updated), key, seen=seen)
                    )
            self._insert(additions)
            self._upsert(changes)
        removed_at = now.replace(tzinfo=None, microsecond=0)
        departed = self._get_departed(published_ids, among=event_ids) if known else []
        self._upsert(
            [
                prepare(self._cancelled(last, now), key, removed_at=removed_at, seen=seen)
                for key, last, seen in departed
            ]
        )
        return stamp[0] if stamp else None

    @staticmethod
    def _cancelled(event, now):
        """The tombstone of ``event``, which left the feed at ``now``: CANCELLED, one SEQUENCE higher."""
        updated = strictly_after(now, event.updated)
        return replace(event, status=CANCELLED, sequence=event.sequence + 1, updated=updated)

    @api.model
    def _render_all_again(self):
        """Render every entry again with this version's code: run by the migration of a version
        that changes what the feeds render (see ``migrations/``).

        What was published does not change (same record, same SEQUENCE); only
        its rendering and fingerprint may, so the next request rebuilds the
        feed from fresh blocks instead of serving the previous version's
        output, and a new way of fingerprinting is no change for subscribers.
        Live entries whose rendering did change get a new change stamp, so that
        sync clients (JSON ``since``, CalDAV, webhooks) fetch them again.
        """
        timezone = self.env["calendar.feed"]._get_settings().timezone
        # Stamps are taken by one writer at a time: wait for a build under way (a live server).
        feed = self.env["calendar.feed"]._get_singleton()
        feed._lock_for_rebuild(wait=True)
        stamp = []  # taken on the first live entry rendered differently
        # Every entry, on purpose; in batches so memory stays bounded.
        all_entries = self.sudo().search([])  # pylint: disable=no-search-all
        for batch in split_every(1000, all_entries.ids, self.sudo().browse):
            values = batch._render_again(timezone)
            for entry, entry_values in zip(batch, values, strict=True):
                # Tombstones keep theirs: a delta only names them, and pruning them must not raise
                # the sync floor to now, which would expire every client's token.
                if not entry.removed_at and self._renders_differently(entry, entry_values):
                    stamp = stamp or [self._next_change_stamp()]
                    entry_values["change_stamp"] = stamp[0]
            self.sudo()._upsert(values)
        if stamp:
            feed.change_stamp = stamp[0]
        self.env["calendar.feed.change"]._record_change()  # which wakes the webhooks up

    def _render_again(self, timezone):
        """The column values of these entries rendered by this version, their stamps unchanged."""
        rooms_seen = dict(
            self.env.execute_query(
                SQL("SELECT id, rooms_seen FROM calendar_feed_entry WHERE id = ANY(%s)", self.ids)
            )
        )
        zone = ZoneInfo(timezone)
        values = []
        for entry in self:
            event = entry._get_feed_event()
            values.append(
                self._prepare_values(
                    event,
                    fingerprint(event, timezone),
                    zone,
                    bounds=(entry.start_at, entry.stop_at),
                    removed_at=entry.removed_at,
                    change_stamp=entry.change_stamp,
                    seen=rooms_seen[entry.id],
                )
            )
        return values

    @staticmethod
    def _renders_differently(entry, values):
        """Whether ``values`` publish ``entry`` otherwise than it is stored: its VEVENT, its JSON, or
        its CalDAV object (a new envelope)."""
        stored = (entry.ics_block, entry.json_object, entry.object_etag)
        return stored != (values["ics_block"], values["json_object"], values["object_etag"])

    # -- bulk access for builds: SQL, since a build may touch 100k entries --

    def _has_entries(self):
        """Whether any booking was ever published (live or tombstone)."""
        self.flush_model()
        return bool(self.env.execute_query(SQL("SELECT 1 FROM calendar_feed_entry LIMIT 1")))

    def _get_states(self, event_ids):
        """``{event_id: (fingerprint, sequence, modified_at, removed_at, rooms_seen)}`` of these
        bookings' entries."""
        self.flush_model()
        self.env.cr.execute(
            "SELECT event_id, fingerprint, sequence, modified_at, removed_at, rooms_seen "
            "FROM calendar_feed_entry WHERE event_id = ANY(%s)",
            [list(event_ids)],
        )
        return {row[0]: row[1:] for row in self.env.cr.fetchall()}

    def _insert(self, values_list):
        """Create the entries of ``values_list``, which must be new (from :meth:`_prepare_values`).

        With COPY, which PostgreSQL reads in 60% of the time INSERT's literals
        take: a cold build writes tens of megabytes here (0.21 s instead of
        0.33 s at 10k bookings, measured with ``make bench``).
        """
        if not values_list:
            return
        self.flush_model()
        rows = io.BytesIO(b"".join(_copy_line(values.values()) for values in values_list))
        copy = SQL("COPY calendar_feed_entry (%s) FROM STDIN WITH (FORMAT csv)", _column_list(values_list[0]))
        self.env.cr._obj.copy_expert(copy.code, rows)  # psycopg2's COPY needs the raw cursor (see above)
        self.invalidate_model()

    def _upsert(self, values_list):
        """Create or replace the entries of ``values_list`` (from :meth:`_prepare_values`).

        The rows travel as one JSON array, which PostgreSQL turns into
        entries of the table's own column types.
        """
        if not values_list:
            return
        self.flush_model()
        columns = list(values_list[0])
        updates = SQL(", ").join(
            SQL("%s = EXCLUDED.%s", SQL.identifier(column), SQL.identifier(column))
            for column in columns
            if column != "event_id"
        )
        for batch in split_every(1000, values_list):
            self.env.execute_query(
                SQL(
                    """
                INSERT INTO calendar_feed_entry (%(columns)s)
                SELECT %(columns)s FROM jsonb_populate_recordset(NULL::calendar_feed_entry, %(rows)s)
                ON CONFLICT (event_id) DO UPDATE SET %(updates)s
                """,
                    columns=_column_list(columns),
                    rows=json.dumps(batch, default=str),
                    updates=updates,
                )
            )
        self.invalidate_model()

    def _get_departed(self, published_ids, among=None):
        """``(fingerprint, published event, rooms_seen)`` of live entries whose booking is no
        longer published.

        With ``among``, only entries of those bookings are considered.
        """
        self.flush_model()
        self.env.cr.execute(
            """
            SELECT fingerprint, record, rooms_seen FROM calendar_feed_entry
             WHERE removed_at IS NULL
               AND event_id NOT IN (SELECT unnest(%(published)s::int[]))
               AND (%(among)s::int[] IS NULL OR event_id = ANY(%(among)s::int[]))
            """,
            {"published": list(published_ids), "among": list(among) if among is not None else None},
        )
        return [(key, load_record(record), seen) for key, record, seen in self.env.cr.fetchall()]

    @api.model
    def _last_change_stamps(self, room_codes):
        """``{room code: stamp}``: the last change of a booking ever in each of these rooms (CalDAV
        ctags). Each room's is found walking the stamps' index from the newest: a poll reads a few
        rows, not the table."""
        if not room_codes:
            return {}
        self.flush_model()
        query = SQL(
            """SELECT code, (SELECT change_stamp FROM calendar_feed_entry WHERE rooms_seen @> ARRAY[code]
                              ORDER BY change_stamp DESC LIMIT 1)
                 FROM unnest(%s::varchar[]) AS code""",
            list(room_codes),
        )
        return dict(self.env.execute_query(query))

    def _prune(self, expiry):
        """Forget tombstones older than ``expiry``; return the highest change stamp forgotten."""
        self.flush_model()
        self.env.cr.execute(
            "DELETE FROM calendar_feed_entry WHERE removed_at <= %s RETURNING change_stamp", [expiry]
        )
        stamps = [row[0] for row in self.env.cr.fetchall()]
        self.invalidate_model()
        return max(stamps, default=0)


def _column_list(columns):
    return SQL(", ").join(SQL.identifier(column) for column in columns)


def _copy_line(values):
    """One row in COPY's CSV format, encoded.

    CSV quotes each text with one replacement, where the text format needs four escapes;
    a cold build of 10k bookings writes 150k values. ``None`` is an unquoted empty field
    (NULL), an empty text a quoted one.
    Line by line: one str of all rows would take 4 bytes per character after any emoji.
    """
    return (",".join([_copy_field(value) for value in values]) + "\n").encode()


def _copy_field(value):
    if value is None:
        return ""
    if isinstance(value, str):
        return '"' + value.replace('"', '""') + '"'
    if isinstance(value, list):
        # Room codes, each quoted in the array literal: unquoted, a code "NULL" would be a null.
        return '"{' + ",".join(f'""{code}""' for code in value) + '}"'
    return str(value)
