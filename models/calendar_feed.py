import hmac
import logging
import secrets
from datetime import datetime, timedelta, timezone
from time import monotonic
from urllib.parse import urlencode

from psycopg2 import errors

from odoo import api, fields, models
from odoo.tools import SQL

from ..booking_feed.api import (
    DISPLAY_PATH,
    FEED_PATH,
    IMPORT_PATH,
)
from ..booking_feed.audience import EVERY_ROOM
from ..booking_feed.dav_paths import (
    DAV_ROOT,
)
from ..booking_feed.settings import (
    FeedSettings,
)
from ..booking_feed.window import local_today

_logger = logging.getLogger(__name__)

PARAM_PREFIX = "external_calendar_api."
TOKEN_PARAM = PARAM_PREFIX + "token"
CRON_RETRY_DELAY = timedelta(minutes=5)
#: A request finding a build under way waits for it this long at most (seconds), then serves the
#: last build; a build of a change takes a fraction of that.
READER_WAIT = 30
#: A request reads again on a fresh snapshot at most this many times (builds committed meanwhile).
READER_ATTEMPTS = 3


class CalendarFeed(models.Model):
    """The published feed, built ahead of requests and stored.

    Calendar servers poll often and in bursts; serving a stored body costs one
    small query. The feed is rebuilt by the Refresh button, by an hourly cron,
    and by the first request after a change (see ``_get_up_to_date``). Its one
    record is created at install (``calendar_feed_main``). Front ends open
    each request with :meth:`_open_for`.
    """

    _name = "calendar.feed"
    _inherit = ["calendar.feed.body.mixin"]
    _description = "External Calendar Feed"

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

    # -- settings ------------------------------------------------------------

    @api.model
    def _get_settings(self):
        """The feed settings, as a FeedSettings (defaults as on the settings page)."""
        params = self.env["ir.config_parameter"].sudo()
        return FeedSettings.from_parameters(
            lambda key: params.get_param(PARAM_PREFIX + key),
            default_timezone=self._default_timezone,
            default_name=self.env._("Room bookings"),
        )

    @api.model
    def _default_timezone(self):
        """The main company's zone (else its administrator's, else UTC): the same whoever or
        whatever rebuilds, never the zone of the user who happens to trigger it."""
        # Read on every request when no zone is set: one query, where records would take six.
        ids = self.env["ir.model.data"]
        company_id = ids._xmlid_to_res_id("base.main_company", raise_if_not_found=False)
        admin_id = ids._xmlid_to_res_id("base.user_admin", raise_if_not_found=False)
        self.env.flush_all()
        query = SQL(
            """SELECT COALESCE(
                   (SELECT NULLIF(p.tz, '') FROM res_company c JOIN res_partner p ON p.id = c.partner_id
                     WHERE c.id = COALESCE(%s, (SELECT min(id) FROM res_company))),
                   (SELECT NULLIF(p.tz, '') FROM res_users u JOIN res_partner p ON p.id = u.partner_id
                     WHERE u.id = %s))""",
            company_id or None,
            admin_id or None,
        )
        [(zone,)] = self.env.execute_query(query)
        return zone or "UTC"

    # -- token and links -----------------------------------------------------

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
    def _get_feed_url(self, feed_format, room_code=None, scheme=None, token=None):
        """The secret link of the ``ics`` or ``json`` feed, optionally of one room or of a key's ``token``."""
        url = self._get_secret_url(f"{FEED_PATH}.{feed_format}", room_code, token)
        return f"{scheme}://{url.split('://', 1)[1]}" if scheme else url

    @api.model
    def _get_import_url(self, room_code=None, token=None):
        """The secret link of the ICS file to import by hand (cancellations included), or of one room's."""
        return self._get_secret_url(IMPORT_PATH, room_code, token)

    @api.model
    def _get_display_url(self, room_code=None, token=None):
        """The secret link of the board of every room, or of one room's door sign."""
        return self._get_secret_url(DISPLAY_PATH, room_code, token)

    @api.model
    def _get_caldav_url(self):
        """The address CalDAV clients are given (the password is a token, not in the URL)."""
        return self.env["ir.config_parameter"].sudo().get_param("web.base.url", "").rstrip("/") + DAV_ROOT

    @api.model
    def _get_secret_url(self, path, room_code, token):
        base_url = self.env["ir.config_parameter"].sudo().get_param("web.base.url", "").rstrip("/")
        query = {"token": token or self._get_token()} | ({"room": room_code} if room_code else {})
        return f"{base_url}{path}?{urlencode(query)}"

    @api.model
    def _authenticate(self, token, settings):
        """Who ``token`` opens the feeds to while the endpoint is enabled: the
        :class:`~..booking_feed.audience.Audience` of the main link or of the named key it belongs
        to, else None.

        Secrets are compared in constant time; a missing, wrong, rotated or
        revoked token and a disabled endpoint are indistinguishable to the caller.
        """
        if not (token and settings.enabled):
            return None
        main_token = self.env["ir.config_parameter"].sudo().get_param(TOKEN_PARAM)
        if main_token and hmac.compare_digest(token.encode(), main_token.encode()):
            return EVERY_ROOM
        return self.env["calendar.feed.key"].sudo()._find_audience(token)

    @api.model
    def _open_for(self, token, build=True):
        """What a request with ``token`` reads: ``(settings, audience, feed)``, the settings read
        once for the whole request. Without an audience (the token opens nothing, or the
        endpoint is off) the feed is None; else it is brought up to date first, unless not
        ``build`` (the caller does it once it knows the request reads bookings)."""
        settings = self._get_settings()
        audience = self._authenticate(token, settings)
        if audience is None:
            return settings, None, None
        return settings, audience, self._get_for_request() if build else self._get_singleton()

    # -- the feed and when to build it ----------------------------------------

    @api.model
    def _get_singleton(self):
        """The feed, read with what a request needs to decide its answer (staleness, validators)."""
        # Not env.ref(), which checks the record exists with one more query per request.
        xmlid = "external_calendar_api.calendar_feed_main"
        feed = self.sudo().browse(self.env["ir.model.data"]._xmlid_to_res_id(xmlid, raise_if_not_found=False))
        answering = ["built_at", "built_for_day", "built_timezone", "ics_etag", "json_etag", "last_modified"]
        if not feed:  # deleted by hand: the feed is made again, as on install
            feed = self.sudo().search([], limit=1, order="id") or self.sudo().create({})
            self.env["ir.model.data"]._update_xmlids([{"xml_id": xmlid, "record": feed, "noupdate": True}])
        feed.fetch(answering)
        return feed

    @api.model
    def _get_up_to_date(self, now=None):
        """The feed, rebuilt first if stale, unless a rebuild is under way."""
        return self._build_if_stale(now)[0]

    @api.model
    def _get_for_request(self, now=None):
        """The feed a request that writes nothing serves: with every change committed before the
        request began (read-your-writes), even when requests arrive in parallel.

        A build under way elsewhere is waited for (at most READER_WAIT seconds),
        and a build committed since this transaction's snapshot is read on a
        fresh one: never the build from before a committed change.
        """
        for _attempt in range(READER_ATTEMPTS - 1):
            try:
                return self._build_if_stale(now, wait=READER_WAIT)[0]
            except errors.SerializationFailure:
                self._read_again()
        return self._build_if_stale(now)[0]

    def _read_again(self):
        """Start this request's transaction again, on a snapshot that sees what committed since.

        Only for requests that have written nothing: they have read settings, a
        token and the feed, nothing else.
        """
        self.env.cr.rollback()
        self.env.invalidate_all()

    @api.model
    def _build_if_stale(self, now=None, wait=False):
        """``(feed, fresh)``: the feed, rebuilt first if stale, and whether it is up to date now
        (not when another build holds it, or when the build failed). With ``wait`` seconds, a
        build under way elsewhere is waited for that long (see :meth:`_lock_for_rebuild`)."""
        feed = self._get_singleton()
        if not feed._is_stale(now):
            return feed, True
        return feed, feed._lock_for_rebuild(wait) and feed._rebuild(now)

    def _is_stale(self, now=None):
        """A change was journaled since the last build, or the calendar's day changed.

        Checked on every request, so it reads no settings: a new time zone is
        journaled like any other setting.
        """
        self.ensure_one()
        if not self.built_at:
            return True
        today = local_today(now or datetime.now(timezone.utc), self.built_timezone or "UTC")
        return self.built_for_day != today or self.env["calendar.feed.change"]._has_changes()

    def _lock_for_rebuild(self, wait=False):
        """Lock the feed row; without ``wait``, give up at once if another build holds it, with a
        number of seconds, after that long; with True, wait as long as it takes.

        A build that committed since this transaction began (another request,
        server or worker) makes the lock fail with a serialization failure:
        without ``wait`` that is giving up too (the feed it stored is newer than
        what this transaction sees, and the next request serves it); with
        ``wait`` it is raised, for the caller to read again on a fresh snapshot.
        """
        lock = SQL("SELECT id FROM calendar_feed WHERE id = %s FOR UPDATE", self.id)
        if wait is True:
            # A serialization failure here makes Odoo retry the whole request on a fresh
            # snapshot, which it logs itself: not a "bad query" for the server's error log.
            self.env.cr.execute(lock, log_exceptions=False)
            return True
        try:
            with self.env.cr.savepoint(flush=False):
                # An expected outcome, not a "bad query" for the server's error log.
                if not wait:
                    self.env.cr.execute(SQL("%s NOWAIT", lock), log_exceptions=False)
                else:  # a transaction-local lock_timeout, put back once the lock is held
                    self.env.cr.execute("SHOW lock_timeout")
                    previous = self.env.cr.fetchone()[0]
                    self.env.cr.execute(
                        "SELECT set_config('lock_timeout', %s, true)", [f"{wait * 1000:.0f}ms"]
                    )
                    self.env.cr.execute(lock, log_exceptions=False)
                    self.env.cr.execute("SELECT set_config('lock_timeout', %s, true)", [previous])
        except errors.LockNotAvailable:
            if wait:
                _logger.warning(
                    "External calendar feed %s: a build took over %s s; serving the last one", self.id, wait
                )
            return False
        except errors.SerializationFailure:
            if wait:
                raise
            return False
        return True

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
            _logger.info("External calendar feed %s: hourly full build", feed.id)
            feed._rebuild(full=True)
            return
        _logger.info("External calendar feed %s: another build is under way; full build again soon", feed.id)
        self.env.ref("external_calendar_api.ir_cron_external_calendar_refresh")._trigger(
            fields.Datetime.now() + CRON_RETRY_DELAY
        )

    # -- building ------------------------------------------------------------

    def _rebuild(self, now=None, full=False):
        """Build the feed now; on failure keep the last good feed and log why.

        Only the bookings journaled since the last build are read again,
        unless ``full``, the day changed, or a room or setting changed.
        Returns whether the build succeeded.
        """
        self.ensure_one()
        now = now or datetime.now(timezone.utc)
        # One build at a time: another waits here for this one's commit, then Odoo retries it
        # on a fresh snapshot (the serialization failure is not a build error).
        self._lock_for_rebuild(wait=True)
        started = monotonic()
        try:
            with self.env.cr.savepoint():
                settings = self._get_settings()
                window = settings.window(now)
                today = local_today(now, settings.timezone)
                changed_ids = self.env["calendar.feed.change"]._consume()
                if full or not self.built_at or self.built_for_day != today:
                    changed_ids = None
                self.env.flush_all()
                hours = self._sync_entries(settings, window, now, changed_ids)
                values = self._assemble(settings, window, now, hours)
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
                "built_timezone": settings.timezone,
                "last_error": False,
                "last_error_at": False,
            }
        )
        kind = "full" if changed_ids is None else "incremental"
        _logger.info(
            "External calendar feed %s: %s build, %d events, %.2f s",
            self.id,
            kind,
            values["event_count"],
            monotonic() - started,
        )
        return True

    def _sync_entries(self, settings, window, now, event_ids):
        """Bring the entries in line with the bookings; keep the stamps sync tokens rely on.

        Returns the hours whose stored segments must be rendered again: those
        ``event_ids`` start in before and after the change (None, every hour, without them).
        """
        hours = None if event_ids is None else self._hours_of(event_ids)
        Entry = self.env["calendar.feed.entry"].sudo()
        stamp = Entry._sync_published(settings, window, now, event_ids)
        # Sync tokens from before a forgotten tombstone could miss its deletion.
        forgotten = Entry._prune(now.replace(tzinfo=None) - timedelta(days=settings.retention_days))
        self.sync_floor = max(self.sync_floor, forgotten)
        if stamp:
            self.change_stamp = stamp
            # Also for changes no journal row announced (a new day, the hourly full build).
            self.env["calendar.feed.change"]._wake_up_senders()
        return hours if hours is None else hours | self._hours_of(event_ids)

    @api.model
    def _commit_in_cron(self):
        """Commit when run by a cron job (seconds it has left); elsewhere (buttons, tests) nothing:
        the senders commit their progress before each request, so none is made in a transaction."""
        if not self.env.context.get("ir_cron_progress_id"):
            return float("inf")
        return self.env["ir.cron"]._commit_progress(0)
