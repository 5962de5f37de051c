import hashlib
import hmac
import logging
import secrets
from datetime import UTC, datetime, timedelta

from psycopg2 import errors

from odoo import api, fields, models

from ..booking_feed import dump, render_calendar, render_document, render_vevent
from ..booking_feed.window import local_today, publication_window

_logger = logging.getLogger(__name__)

PARAM_PREFIX = "external_calendar_api."
TOKEN_PARAM = PARAM_PREFIX + "token"
REFRESH_INTERVAL = timedelta(hours=1)
FEED_FORMATS = {
    "ics": ("ics_body", "text/calendar; charset=utf-8"),
    "json": ("json_body", "application/json; charset=utf-8"),
}


class CalendarFeed(models.Model):
    """The published feed, built ahead of requests and stored.

    Calendar servers poll often and in bursts; serving a stored body costs one
    small query. The feed is rebuilt by the Refresh button, by an hourly cron,
    and by the first request after a change (see ``_get_fresh``).
    """

    _name = "calendar.feed"
    _description = "External Calendar Feed"

    ics_body = fields.Text("ICS", readonly=True)
    json_body = fields.Text("JSON", readonly=True)
    ics_etag = fields.Char(readonly=True)
    json_etag = fields.Char(readonly=True)
    built_at = fields.Datetime("Last Built", readonly=True)
    built_for_day = fields.Date(
        readonly=True, help="Local day the window was computed for; the window moves at midnight."
    )
    event_count = fields.Integer("Published Events", readonly=True)
    ics_size = fields.Integer("ICS Size (bytes)", readonly=True)
    journal_size = fields.Integer(readonly=True, help="Rows of the change journal seen by the last build.")
    last_error = fields.Text(readonly=True)
    last_error_at = fields.Datetime(readonly=True)

    # -- settings ------------------------------------------------------------

    @api.model
    def _get_settings(self):
        """The feed settings, read once per build (defaults as on the settings page)."""
        params = self.env["ir.config_parameter"].sudo()

        def get(key, default):
            return params.get_param(PARAM_PREFIX + key, default)

        return {
            "enabled": bool(get("enabled", False)),
            "past_days": int(get("past_days", 0)),
            "future_days": int(get("future_days", 7)),
            "timezone": get("tz", False) or self._default_timezone(),
            "publish_tentative": bool(get("publish_tentative", False)),
            "publish_description": bool(get("publish_description", False)),
            "name": get("name", False) or self.env._("Room bookings"),
        }

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
        feed = self.sudo().search([], limit=1)
        return feed or self.sudo().create({})

    @api.model
    def _journal_size(self):
        self.env.cr.execute("SELECT COUNT(*) FROM calendar_feed_change")
        return self.env.cr.fetchone()[0]

    def _is_stale(self, now=None):
        """A change was journaled since the last build, or the calendar's day changed."""
        self.ensure_one()
        if not self.built_at:
            return True
        today = local_today(now or datetime.now(UTC), self._get_settings()["timezone"])
        return self.journal_size != self._journal_size() or self.built_for_day != today

    @api.model
    def _window(self, settings, now=None):
        now = now or datetime.now(UTC)
        return publication_window(now, settings["timezone"], settings["past_days"], settings["future_days"])

    def _render(self, settings, now):
        """Bodies and counters of the feed as of ``now``."""
        window = self._window(settings, now)
        events = self.env["calendar.event"].sudo()._get_published_bookings(window, settings)
        feed_events = events._to_feed_events(settings)
        ics = render_calendar(
            [render_vevent(event) for event in feed_events],
            name=settings["name"],
            timezone=settings["timezone"],
            refresh_interval=REFRESH_INTERVAL,
        )
        document = render_document(
            feed_events,
            timezone=settings["timezone"],
            generated_at=now,
            window_start=window.first_day,
            window_end=window.last_day + timedelta(days=1),
        )
        json_bytes = dump(document)
        return {
            "ics_body": ics.decode(),
            "json_body": json_bytes.decode(),
            "ics_etag": hashlib.sha256(ics).hexdigest()[:32],
            "json_etag": hashlib.sha256(json_bytes).hexdigest()[:32],
            "ics_size": len(ics),
            "event_count": len(feed_events),
            "built_for_day": local_today(now, settings["timezone"]),
        }

    def _rebuild(self, now=None):
        """Build the feed now; on failure keep the last good feed and log why.

        Returns whether the build succeeded.
        """
        self.ensure_one()
        now = now or datetime.now(UTC)
        journal_size = self._journal_size()
        try:
            with self.env.cr.savepoint():
                values = self._render(self._get_settings(), now)
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
                "journal_size": journal_size,
                "last_error": False,
                "last_error_at": False,
            }
        )
        return True

    def _lock_for_rebuild(self):
        """Lock the feed row unless another request is already rebuilding it."""
        try:
            with self.env.cr.savepoint(flush=False):
                self.env.cr.execute("SELECT id FROM calendar_feed WHERE id = %s FOR UPDATE NOWAIT", [self.id])
        except errors.LockNotAvailable:
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
    def _cron_rebuild(self):
        self._get_singleton()._rebuild()

    def _get_body(self, feed_format):
        """``(body bytes, content type, etag)`` of one format of the stored feed."""
        field_name, content_type = FEED_FORMATS[feed_format]
        body = (self[field_name] or "").encode()
        return body, content_type, self[f"{feed_format}_etag"]
