import hashlib
import hmac
import json
import logging
import secrets
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from time import monotonic
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from psycopg2 import errors

from odoo import api, fields, models
from odoo.tools import escape_psql, split_every

from ..booking_feed import (
    CANCELLED,
    assemble_document,
    calendar_envelope,
    document_envelope,
    document_head,
    fingerprint,
    render_calendar,
    room_to_json,
)
from ..booking_feed.query import QueryError, parse_feed_query
from ..booking_feed.sync import Cursor, encode_sync_token, filter_signature, parse_paging
from ..booking_feed.window import local_today, publication_window

_logger = logging.getLogger(__name__)

FEED_PATH = "/w/api/v2/public_calendar"
PARAM_PREFIX = "external_calendar_api."
#: Defaults of the feed settings, also those of the settings page.
DEFAULT_PAST_DAYS = 0
DEFAULT_FUTURE_DAYS = 7
DEFAULT_RETENTION_DAYS = 30
TOKEN_PARAM = PARAM_PREFIX + "token"
REFRESH_INTERVAL = timedelta(hours=1)
CRON_RETRY_DELAY = timedelta(minutes=5)
ICS_CONTENT_TYPE = "text/calendar; charset=utf-8"
JSON_CONTENT_TYPE = "application/json; charset=utf-8"
#: Google Calendar stops importing feeds past about this size.
LARGE_FEED_BYTES = 1_000_000
#: Statuses the JSON API can publish and filter on.
JSON_STATUSES = ("confirmed", "tentative")
PAGE_LIMIT_MAX = 1000
NEXT_LIMIT_DEFAULT = 1
NEXT_LIMIT_MAX = 100
#: Parameters that select events; sync tokens and cursors are bound to them.
FILTER_PARAMETERS = ("room", "from", "to", "q", "status")


class SyncTokenExpired(Exception):
    """The sync token predates deletions the feed has forgotten: a full sync is needed."""


class CalendarFeed(models.Model):
    """The published feed, built ahead of requests and stored.

    Calendar servers poll often and in bursts; serving a stored body costs one
    small query. The feed is rebuilt by the Refresh button, by an hourly cron,
    and by the first request after a change (see ``_get_fresh``).
    """

    _name = "calendar.feed"
    _description = "External Calendar Feed"

    # Bodies are read only to be sent: never prefetched with the validators.
    ics_body = fields.Text("ICS", readonly=True, prefetch=False)
    json_body = fields.Text("JSON", readonly=True, prefetch=False)
    ics_etag = fields.Char(readonly=True)
    json_etag = fields.Char(readonly=True)
    built_at = fields.Datetime("Last Built", readonly=True)
    built_for_day = fields.Date(
        readonly=True, help="Local day the window was computed for; the window moves at midnight."
    )
    built_timezone = fields.Char(readonly=True, help="Time zone of that day.")
    last_modified = fields.Datetime(
        readonly=True, help="When the feed's content last changed; never moves backwards."
    )
    content_key = fields.Char(
        readonly=True, help="Digest of the content, to tell whether a build changed it."
    )
    change_stamp = fields.Integer(readonly=True, help="Stamp of the last build that changed an entry.")
    sync_floor = fields.Integer(
        readonly=True, help="Sync tokens older than this stamp may have missed a deletion: they are expired."
    )
    event_count = fields.Integer("Published Events", readonly=True)
    ics_size = fields.Integer("ICS Size (bytes)", readonly=True)
    last_error = fields.Text(readonly=True)
    last_error_at = fields.Datetime(readonly=True)

    def init(self):
        # The bodies are rewritten on every build and read on every request: PostgreSQL's
        # default compression (pglz) costs more time there than lz4, where the server has it.
        try:
            with self.env.cr.savepoint(flush=False):
                self.env.cr.execute(
                    "ALTER TABLE calendar_feed ALTER COLUMN ics_body SET COMPRESSION lz4, "
                    "ALTER COLUMN json_body SET COMPRESSION lz4"
                )
        except (errors.FeatureNotSupported, errors.SyntaxError):
            _logger.info("External calendar: PostgreSQL without lz4, feed bodies keep pglz compression")

    # -- settings ------------------------------------------------------------

    @api.model
    def _get_settings(self):
        """The feed settings (defaults as on the settings page).

        Parameters can also be edited in the technical menu, where nothing
        checks them: a value that cannot be read falls back to its default,
        with a warning, rather than taking the feeds down.
        """
        params = self.env["ir.config_parameter"].sudo()

        def get(key, default):
            return params.get_param(PARAM_PREFIX + key, default)

        def get_int(key, default):
            try:
                return int(get(key, default))
            except ValueError:
                _logger.warning(
                    "External calendar: %s%s is not a number; using %s", PARAM_PREFIX, key, default
                )
                return default

        return {
            "enabled": bool(get("enabled", False)),
            "past_days": get_int("past_days", DEFAULT_PAST_DAYS),
            "future_days": get_int("future_days", DEFAULT_FUTURE_DAYS),
            "timezone": self._get_timezone(get("tz", False)),
            "publish_tentative": bool(get("publish_tentative", False)),
            "publish_description": bool(get("publish_description", False)),
            "name": get("name", False) or self.env._("Room bookings"),
            "description": get("description", ""),
            "retention_days": get_int("retention_days", DEFAULT_RETENTION_DAYS),
            "organizer_name": get("organizer_name", ""),
            "organizer_email": get("organizer_email", ""),
        }

    @api.model
    def _get_timezone(self, name):
        """``name`` if it is a known time zone, else the default one."""
        if name:
            try:
                ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError):
                _logger.warning("External calendar: unknown time zone %r; using the default", name)
            else:
                return name
        return self._default_timezone()

    @api.model
    def _default_timezone(self):
        admin = self.env.ref("base.user_admin", raise_if_not_found=False)
        return self.env.company.partner_id.tz or (admin and admin.tz) or "UTC"

    # -- token ---------------------------------------------------------------

    @api.model
    def _get_token(self):
        """The secret of the feed links, created on first use.

        Stored as a system parameter, which only Settings administrators
        can read.
        """
        token = self.env["ir.config_parameter"].sudo().get_param(TOKEN_PARAM)
        return token or self._rotate_token()

    @api.model
    def _rotate_token(self):
        token = secrets.token_urlsafe(32)
        self.env["ir.config_parameter"].sudo().set_param(TOKEN_PARAM, token)
        return token

    @api.model
    def _get_feed_url(self, feed_format, room_code=None, scheme=None):
        """The secret link of a feed (``ics`` or ``json``), optionally of one room."""
        base_url = self.env["ir.config_parameter"].sudo().get_param("web.base.url", "").rstrip("/")
        query = {"token": self._get_token()} | ({"room": room_code} if room_code else {})
        url = f"{base_url}{FEED_PATH}.{feed_format}?{urlencode(query)}"
        return f"{scheme}://{url.split('://', 1)[1]}" if scheme else url

    @api.model
    def _get_subscribe_links(self):
        """One-click subscription links for the ICS feed, by calendar app."""
        ics_url = self._get_feed_url("ics")
        webcal_url = self._get_feed_url("ics", scheme="webcal")
        outlook_query = f"url={quote(ics_url, safe='')}&name={quote(self._get_settings()['name'], safe='')}"
        return {
            "webcal": webcal_url,
            "google": f"https://calendar.google.com/calendar/render?cid={quote(webcal_url, safe='')}",
            "outlook_com": f"https://outlook.live.com/calendar/0/addfromweb?{outlook_query}",
            "outlook_365": f"https://outlook.office.com/calendar/0/addfromweb?{outlook_query}",
        }

    @api.model
    def _check_access_token(self, token):
        """Whether ``token`` opens the feed: endpoint enabled and the current secret.

        Compared in constant time; a missing, wrong or rotated token and a
        disabled endpoint are indistinguishable to the caller.
        """
        params = self.env["ir.config_parameter"].sudo()
        expected = params.get_param(TOKEN_PARAM)
        if not (token and expected and params.get_param(PARAM_PREFIX + "enabled")):
            return False
        return hmac.compare_digest(token.encode(), expected.encode())

    # -- building ------------------------------------------------------------

    @api.model
    def _get_singleton(self):
        """The feed, read with what a request needs to decide its answer (staleness, validators)."""
        answering = ["built_at", "built_for_day", "built_timezone", "ics_etag", "json_etag", "last_modified"]
        feed = self.sudo().search_fetch([], answering, limit=1)
        return feed or self.sudo().create({})

    def _is_stale(self, now=None):
        """A change was journaled since the last build, or the calendar's day changed.

        Checked on every request, so it reads no settings: a new time zone is
        journaled like any other setting.
        """
        self.ensure_one()
        if not self.built_at:
            return True
        today = local_today(now or datetime.now(UTC), self.built_timezone or "UTC")
        return self.built_for_day != today or self.env["calendar.feed.change"]._has_changes()

    @api.model
    def _window(self, settings, now=None):
        now = now or datetime.now(UTC)
        return publication_window(now, settings["timezone"], settings["past_days"], settings["future_days"])

    def _sync_entries(self, settings, window, now, event_ids=None):
        """Bring the entries in line with the published bookings (only ``event_ids`` if given).

        New bookings get an entry; changed ones a higher SEQUENCE; bookings
        that left the feed become CANCELLED tombstones, kept for the
        retention period so importers and sync clients learn they are gone.
        (A booking that merely ended before the window is a tombstone too,
        for sync clients; the ICS feed does not show it, being outside the
        window.) Every entry this build touches gets one new change stamp.
        Bookings are read and entries written in batches, in SQL.
        """
        Entry = self.env["calendar.feed.entry"].sudo()
        timezone = settings["timezone"]
        zone = ZoneInfo(timezone)
        now = now.replace(microsecond=0)
        stamp = []  # taken on the first change only

        def change_stamp():
            if not stamp:
                stamp.append(Entry._next_change_stamp())
            return stamp[0]

        def after(last_change):
            """Now, but strictly after the last change: LAST-MODIFIED never goes back."""
            return max(now, last_change.replace(tzinfo=UTC) + timedelta(seconds=1))

        def bounds(event):
            if event.all_day:
                return tuple(datetime.combine(day, time.min, tzinfo=zone) for day in (event.start, event.end))
            return event.start, event.end

        published_ids = []
        for batch in self.env["calendar.event"].sudo()._read_feed_events(window, settings, event_ids):
            states = Entry._get_states([event.id for event in batch])
            additions, changes = [], []
            for event in batch:
                published_ids.append(event.id)
                key = fingerprint(event, timezone)
                state = states.get(event.id)
                if state is None:
                    additions.append(
                        Entry._prepare_values(event, key, bounds(event), zone, change_stamp=change_stamp())
                    )
                elif state[0] != key or state[3]:
                    _key, sequence, modified_at, _removed_at = state
                    changed = replace(event, sequence=sequence + 1, updated=after(modified_at))
                    changes.append(
                        Entry._prepare_values(
                            changed, key, bounds(changed), zone, change_stamp=change_stamp()
                        )
                    )
            Entry._insert(additions)
            Entry._upsert(changes)

        tombstones = []
        for key, last in Entry._get_departed(published_ids, among=event_ids):
            gone = replace(last, status=CANCELLED, sequence=last.sequence + 1, updated=after(last.updated))
            removed_at = now.replace(tzinfo=None)
            tombstones.append(
                Entry._prepare_values(
                    gone, key, bounds(gone), zone, removed_at=removed_at, change_stamp=change_stamp()
                )
            )
        Entry._upsert(tombstones)

        # Sync tokens from before a forgotten tombstone could miss its deletion.
        forgotten = Entry._prune(now.replace(tzinfo=None) - timedelta(days=settings["retention_days"]))
        self.sync_floor = max(self.sync_floor, forgotten)
        if stamp:
            self.change_stamp = stamp[0]

    def _render_ics(self, settings, blocks, name=None):
        return render_calendar(
            blocks,
            name=name or settings["name"],
            timezone=settings["timezone"],
            description=settings["description"],
            refresh_interval=REFRESH_INTERVAL,
        )

    @staticmethod
    def _json_head(settings, start, end, last_modified, **extra):
        return document_head(
            timezone=settings["timezone"],
            updated_at=last_modified.replace(tzinfo=UTC),
            window_start=start,
            window_end=end,
            **extra,
        )

    def _assemble(self, settings, window, now):
        """Store the ICS and JSON bodies, assembled in PostgreSQL from the entries' blocks.

        The bodies never pass through Python here; only their digests and
        counters come back. Returns the values to write on the feed.
        """
        head, tail = calendar_envelope(
            name=settings["name"], timezone=settings["timezone"], description=settings["description"],
            refresh_interval=REFRESH_INTERVAL,
        )  # fmt: skip
        in_window = {"start": window.start.replace(tzinfo=None), "end": window.end.replace(tzinfo=None)}
        self.env.cr.execute(
            """
            UPDATE calendar_feed SET ics_body = %(head)s || COALESCE((
                   SELECT string_agg(ics_block, '' ORDER BY start_at, event_id) FROM calendar_feed_entry
                    WHERE stop_at > %(start)s AND start_at < %(end)s), '') || %(tail)s
             WHERE id = %(id)s
            RETURNING left(encode(sha256(convert_to(ics_body, 'UTF8')), 'hex'), 32), octet_length(ics_body)
            """,
            {"head": head.decode(), "tail": tail.decode(), "id": self.id, **in_window},
        )
        ics_etag, ics_size = self.env.cr.fetchone()
        content_key = hashlib.sha256(f"{ics_etag} {window}".encode()).hexdigest()
        last_modified = self.last_modified
        if content_key != self.content_key:
            # Strictly later than before, so If-Modified-Since never hides a change.
            floor = (last_modified or datetime.min) + timedelta(seconds=1)
            last_modified = max(now.replace(tzinfo=None, microsecond=0), floor)
        sync_token = encode_sync_token(self.change_stamp, filter_signature([]))
        head = self._json_head(
            settings, window.start, window.end, last_modified, nextCursor=None, syncToken=sync_token
        )
        opening, closing = document_envelope(head)
        self.env.cr.execute(
            """
            WITH live AS (
                SELECT json_object, start_at, event_id FROM calendar_feed_entry
                 WHERE removed_at IS NULL AND stop_at > %(start)s AND start_at < %(end)s)
            UPDATE calendar_feed SET json_body = %(opening)s
                   || COALESCE((SELECT string_agg(json_object, ',' ORDER BY start_at, event_id)
                                  FROM live), '')
                   || %(closing)s
             WHERE id = %(id)s
            RETURNING left(encode(sha256(convert_to(json_body, 'UTF8')), 'hex'), 32),
                      (SELECT count(*) FROM live)
            """,
            {"opening": opening, "closing": closing, "id": self.id, **in_window},
        )
        json_etag, event_count = self.env.cr.fetchone()
        self.invalidate_recordset(["ics_body", "json_body"])
        return {
            "ics_etag": ics_etag,
            "json_etag": json_etag,
            "ics_size": ics_size,
            "event_count": event_count,
            "content_key": content_key,
            "last_modified": last_modified,
        }

    def _rebuild(self, now=None, full=False):
        """Build the feed now; on failure keep the last good feed and log why.

        Only the bookings journaled since the last build are read again,
        unless ``full``, the day changed, or a room or setting changed.
        Returns whether the build succeeded.
        """
        self.ensure_one()
        now = now or datetime.now(UTC)
        # One build at a time: another waits here for this one's commit, then Odoo retries it
        # on a fresh snapshot (the serialization failure is not a build error).
        self._lock_for_rebuild(wait=True)
        started = monotonic()
        try:
            with self.env.cr.savepoint():
                settings = self._get_settings()
                window = self._window(settings, now)
                today = local_today(now, settings["timezone"])
                changed_ids = self.env["calendar.feed.change"]._consume()
                if full or not self.built_at or self.built_for_day != today:
                    changed_ids = None
                self.env.flush_all()
                self._sync_entries(settings, window, now, changed_ids)
                values = self._assemble(settings, window, now)
        except Exception as error:
            _logger.exception(
                "External calendar feed %s: rebuild failed, serving the last good feed", self.id
            )
            self.write({"last_error": str(error), "last_error_at": now.replace(tzinfo=None)})
            return False
        self.write(
            {
                **values,
                "built_at": now.replace(tzinfo=None),
                "built_for_day": today,
                "built_timezone": settings["timezone"],
                "last_error": False,
                "last_error_at": False,
            }
        )
        kind = "full" if changed_ids is None else "incremental"
        elapsed = monotonic() - started
        _logger.info(
            "External calendar feed %s: %s build, %d events, %.2f s",
            self.id,
            kind,
            values["event_count"],
            elapsed,
        )
        return True

    def _lock_for_rebuild(self, wait=False):
        """Lock the feed row; without ``wait``, give up if another build holds it.

        Also give up if another build committed since this transaction
        began (another server or worker, say): the feed it stored is newer
        than what this transaction can see, and the next request serves it.
        """
        if wait:
            # A serialization failure here makes Odoo retry the whole request on a fresh
            # snapshot, which it logs itself: not a "bad query" for the server's error log.
            self.env.cr.execute(
                "SELECT id FROM calendar_feed WHERE id = %s FOR UPDATE", [self.id], log_exceptions=False
            )
            return True
        try:
            with self.env.cr.savepoint(flush=False):
                # An expected outcome, not a "bad query" for the server's error log.
                lock = "SELECT id FROM calendar_feed WHERE id = %s FOR UPDATE NOWAIT"
                self.env.cr.execute(lock, [self.id], log_exceptions=False)
        except (errors.LockNotAvailable, errors.SerializationFailure):
            return False
        return True

    @api.model
    def _get_fresh(self, now=None):
        """The feed to serve: rebuilt first if stale, unless a rebuild is under way."""
        feed = self._get_singleton()
        if feed._is_stale(now) and feed._lock_for_rebuild():
            feed._rebuild(now)
        return feed

    @api.model
    def _refresh_rendering(self):
        """After an install or update: render every entry again with the new code.

        What was published does not change (same record, same SEQUENCE); only
        its rendering and fingerprint may, so the next request rebuilds the
        feed from fresh blocks instead of serving the previous version's
        output, and a new way of fingerprinting is no change for subscribers.
        """
        Entry = self.env["calendar.feed.entry"].sudo()
        timezone = self._get_settings()["timezone"]
        zone = ZoneInfo(timezone)
        # Every entry, on purpose; in batches so memory stays bounded.
        all_entries = Entry.search([])  # pylint: disable=no-search-all
        for batch in split_every(1000, all_entries.ids, Entry.browse):
            values = []
            for entry in batch:
                event = entry._get_feed_event()
                bounds = (entry.start_at.replace(tzinfo=UTC), entry.stop_at.replace(tzinfo=UTC))
                values.append(Entry._prepare_values(
                    event, fingerprint(event, timezone), bounds, zone, removed_at=entry.removed_at,
                    change_stamp=entry.change_stamp,
                ))  # fmt: skip
            Entry._upsert(values)
        self.env["calendar.feed.change"]._record_change()

    @api.model
    def _cron_rebuild(self):
        """Hourly: a full rebuild, which also catches changes made outside the ORM.

        Odoo runs a cron job on one server at a time. Should a build started
        by a request hold the feed, the cron does not queue behind it (two
        builds in a row), but comes back in a few minutes, so the full build
        of the hour is not lost.
        """
        feed = self._get_singleton()
        if feed._lock_for_rebuild():
            feed._rebuild(full=True)
            return
        _logger.info("External calendar feed %s: another build is under way; full build again soon", feed.id)
        self.env.ref("external_calendar_api.ir_cron_external_calendar_refresh")._trigger(
            fields.Datetime.now() + CRON_RETRY_DELAY
        )

    def _get_ics(self, query):
        """``(body, etag)`` of the ICS feed narrowed by ``query``, from the entries' blocks."""
        self.ensure_one()
        settings = self._get_settings()
        start, end = query.narrow(self._window(settings))
        blocks = []
        if start < end:
            domain = self._match_domain(query, start, end)
            entries = self.env["calendar.feed.entry"].sudo().search_fetch(domain, ["ics_block"])
            blocks = [block.encode() for block in entries.mapped("ics_block")]
        rooms = self.env["calendar.room"].sudo().search([("code", "in", query.room_codes)])
        name = " - ".join([settings["name"], *rooms.mapped("name")]) if rooms else None
        body = self._render_ics(settings, blocks, name=name)
        return body, body_etag(body)

    # -- JSON API answers: params are name -> list of values, token excluded --

    def _parse_json_query(self, params):
        query = parse_feed_query(params, timezone=self._get_settings()["timezone"], statuses=JSON_STATUSES)
        if unknown := self._check_room_codes(query.room_codes):
            raise QueryError(f"room: no published room with code {', '.join(unknown)}")
        return query

    def _answer_events(self, params):
        """The events answer (bytes) for ``params``; raises QueryError or SyncTokenExpired."""
        query = self._parse_json_query(params)
        signature = filter_signature(
            (name, values) for name, values in params.items() if name in FILTER_PARAMETERS
        )
        paging = parse_paging(params, signature, default_limit=0, max_limit=PAGE_LIMIT_MAX)
        return self._get_json_events(query, paging, signature)

    def _answer_room_counts(self, params):
        return self._get_room_counts(self._parse_json_query(params))

    def _answer_next(self, params):
        query = self._parse_json_query(params)
        limit_param = {"limit": params.get("limit", [str(NEXT_LIMIT_DEFAULT)])}
        limit = parse_paging(
            limit_param, "", default_limit=NEXT_LIMIT_DEFAULT, max_limit=NEXT_LIMIT_MAX
        ).limit
        return self._get_next_events(query, limit)

    @staticmethod
    def _match_domain(query, start, end):
        """Entries overlapping ``[start, end)`` that match ``query``'s rooms, words and statuses."""
        domain = [("stop_at", ">", start.replace(tzinfo=None)), ("start_at", "<", end.replace(tzinfo=None))]
        # Room codes may hold "_" and titles anything: LIKE wildcards are matched literally.
        if query.room_codes:
            domain += ["|"] * (len(query.room_codes) - 1)
            domain += [("room_codes", "=like", f"%,{escape_psql(code)},%") for code in query.room_codes]
        domain += [("title", "=ilike", f"%{escape_psql(word)}%") for word in query.text.split()]
        if query.statuses:
            domain.append(("status", "in", list(query.statuses)))
        return domain

    def _get_json_events(self, query, paging, signature):
        """A filtered, paged or incremental answer of the JSON feed, as bytes.

        Without ``since``: the live bookings matching ``query``. With it:
        the bookings changed since that sync token that match (``events``)
        and those that were deleted, cancelled or no longer match
        (``deleted``). Pages follow (start, id) and read the snapshot of the
        first page, so the last page's ``syncToken`` misses nothing.
        """
        self.ensure_one()
        if paging.since is not None and paging.since < self.sync_floor:
            raise SyncTokenExpired()
        settings = self._get_settings()
        start, end = query.narrow(self._window(settings))
        Entry = self.env["calendar.feed.entry"].sudo()
        snapshot = paging.cursor.stamp if paging.cursor else self.change_stamp
        domain = [("change_stamp", "<=", snapshot)]
        if paging.cursor:
            after_start = paging.cursor.after_start
            domain += ["|", ("start_at", ">", after_start), "&", ("start_at", "=", after_start),
                       ("event_id", ">", paging.cursor.after_id)]  # fmt: skip
        matching = [*self._match_domain(query, start, end), ("removed_at", "=", False)]
        if paging.since is None:
            domain += matching
        else:
            domain.append(("change_stamp", ">", paging.since))
        page = Entry.search(
            domain, order="start_at, event_id", limit=paging.limit + 1 if paging.limit else None
        )
        has_more = bool(paging.limit) and len(page) > paging.limit
        page = page[: paging.limit] if has_more else page
        events = page if paging.since is None else Entry.search([*matching, ("id", "in", page.ids)])
        head = {
            "nextCursor": Cursor(
                snapshot, fields.Datetime.to_string(page[-1].start_at), page[-1].event_id, paging.since
            ).encode(signature)
            if has_more
            else None,
            "syncToken": None if has_more else encode_sync_token(snapshot, signature),
        }
        if paging.since is not None:
            head["deleted"] = [{"id": entry.event_id, "uid": entry.uid} for entry in page - events]
        events = page & events  # keep the page's order
        return assemble_document(
            events.mapped("json_object"), self._json_head(settings, start, end, self.last_modified, **head)
        )

    def _get_room_counts(self, query):
        """Published rooms with the number of their live bookings in the (narrowed) window."""
        self.ensure_one()
        settings = self._get_settings()
        start, end = query.narrow(self._window(settings))
        # One read of the window's live entries, counted per room (not one query per room).
        domain = [*self._match_domain(query, start, end), ("removed_at", "=", False)]
        entries = self.env["calendar.feed.entry"].sudo().search_fetch(domain, ["room_codes"])
        counts = Counter(
            code for codes in entries.mapped("room_codes") for code in codes.strip(",").split(",")
        )
        rooms = self.env["calendar.room"].sudo().search([("is_published", "=", True)])
        counted = [room_to_json(room._to_feed_room(), eventCount=counts[room.code]) for room in rooms]
        head = self._json_head(settings, start, end, self.last_modified, rooms=counted)
        return json.dumps(head, ensure_ascii=False, separators=(",", ":")).encode()

    def _get_next_events(self, query, limit, now=None):
        """The next ``limit`` live bookings starting from ``now`` that match ``query``.

        ``now`` is taken at the start of its minute: for a whole minute the
        answer is the same bytes and ETag, so a display polling more often
        than that gets 304s.
        """
        self.ensure_one()
        settings = self._get_settings()
        now = (now or datetime.now(UTC)).replace(second=0, microsecond=0)
        window = self._window(settings, now)
        start = max(now, window.start)
        domain = [
            *self._match_domain(query, start, window.end),
            ("removed_at", "=", False),
            ("start_at", ">=", start.replace(tzinfo=None)),
        ]
        entries = (
            self.env["calendar.feed.entry"].sudo().search(domain, order="start_at, event_id", limit=limit)
        )
        head = self._json_head(settings, start, window.end, self.last_modified)
        return assemble_document(entries.mapped("json_object"), head)

    @api.model
    def _check_room_codes(self, codes):
        """The codes among ``codes`` that are not published rooms."""
        published = (
            self.env["calendar.room"].sudo().search([("code", "in", codes), ("is_published", "=", True)])
        )
        return sorted(set(codes) - set(published.mapped("code")))


def body_etag(body):
    return hashlib.sha256(body).hexdigest()[:32]
