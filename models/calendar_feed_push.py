import logging
import time
from datetime import datetime, timedelta, timezone

from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.fields import Domain

from ..booking_feed.caldav_client import CalDavCalendar
from ..booking_feed.oauth import NOT_CONNECTED, TOKEN_REFUSED, google_calendar_url
from ..booking_feed.push import CREDENTIALS_RETRY, Verdict, backoff, judge, retry_after, send
from ..booking_feed.remote import check_url
from .calendar_feed_change import PUSH_CRON_XMLID
from .calendar_feed_push_oauth_mixin import SECRET

_logger = logging.getLogger(__name__)
#: Bookings read and pushed per step; each step's outcome is committed before the next.
BATCH_SIZE = 50
#: A target pushes this long per turn, then lets the others have theirs.
TURN_SECONDS = 30
#: A run of the push job gives turns for this long, then comes back at once (a worker's time
#: limit is 120 s by default; a request may take its whole deadline).
RUN_SECONDS = 60
#: When a build was under way elsewhere, push this much later.
RETRY_STALE = timedelta(minutes=1)
#: Fields whose change may cure a target failing on its credentials or address.
CONNECTION_FIELDS = frozenset(
    {
        "url",
        "auth",
        "username",
        "password",
        "oauth_client_id",
        "oauth_client_secret",
        "oauth_refresh_token",
        "oauth_token_url",
    }
)


class CalendarFeedPush(models.Model):
    """A remote calendar that every change of some rooms' bookings is written into, within a minute.

    Subscribed feeds are refreshed when the calendar app likes (Google: every
    12 to 48 hours); a push target is written to as changes happen. Each
    booking is one object named after its UID, with the same VEVENT as the
    CalDAV object a key limited to these rooms reads (``calendar.feed.reader``).
    What was written is kept per booking (``calendar.feed.push.object``), so
    pushing is idempotent, resumable, and quiet when nothing changed. Odoo
    wins: an object edited or deleted remotely is put back at the next change
    of its booking and at every Resync. Pushing runs in a cron job woken by
    changes; no transaction is open while a request is under way.
    """

    _name = "calendar.feed.push"
    _inherit = ["calendar.feed.push.oauth.mixin"]
    _description = "External Calendar Push Target"
    _order = "name, id"

    name = fields.Char(required=True)
    provider = fields.Selection(
        [("caldav", "CalDAV server"), ("google", "Google Calendar")],
        default="caldav",
        required=True,
        help="Google Calendar: its CalDAV API, with OAuth 2.0. Microsoft 365 has no CalDAV.",
    )
    google_calendar_id = fields.Char(
        "Google Calendar ID", help="Google Calendar > Settings > Integrate calendar > Calendar ID."
    )
    url = fields.Char(
        "Calendar URL", required=True, help="The remote calendar collection; it must exist already."
    )
    auth = fields.Selection(
        [("basic", "User and password"), ("oauth2", "OAuth 2.0")],
        string="Authentication",
        default="basic",
        required=True,
    )
    username = fields.Char()
    password = fields.Char(help="The account's password, or better an app password.", **SECRET)
    room_ids = fields.Many2many(
        "calendar.room",
        string="Rooms",
        help="The rooms whose bookings go there. Empty: every published room.",
    )
    active = fields.Boolean(default=True)
    max_rate = fields.Float(
        "Requests per Second", default=5.0, help="At most this many requests a second (0: no limit)."
    )
    state = fields.Selection(
        [("in_sync", "In sync"), ("catching_up", "Catching up"), ("failing", "Failing")],
        default="catching_up",
        required=True,
        readonly=True,
        copy=False,
    )
    last_error = fields.Char(readonly=True, copy=False)
    last_push_at = fields.Datetime("Last Push", readonly=True, copy=False)
    failures = fields.Integer("Failures in a Row", readonly=True, copy=False)
    next_attempt_at = fields.Datetime("Next Attempt", readonly=True, copy=False)
    resync_requested = fields.Boolean(readonly=True, copy=False)
    object_ids = fields.One2many("calendar.feed.push.object", "push_id", string="Pushed Bookings")
    waiting_count = fields.Integer("Changes Waiting", compute="_compute_progress")
    progress = fields.Char(compute="_compute_progress")

    @api.constrains("url", "oauth_token_url", "oauth_authorize_url")
    def _check_url(self):
        for push in self:
            for url in filter(None, (push.url, push.oauth_token_url, push.oauth_authorize_url)):
                if reason := check_url(url):
                    # Marked with _lt() in booking_feed.remote.
                    reason = self.env._(reason)  # pylint: disable=translation-required
                    raise ValidationError(self.env._("%(url)s: %(reason)s.", url=url, reason=reason))

    @api.onchange("provider", "google_calendar_id")
    def _onchange_google_calendar(self):
        if self.provider == "google":
            self.auth = "oauth2"
            if self.google_calendar_id:
                self.url = google_calendar_url(self.google_calendar_id)

    @api.depends("state", "last_push_at", "room_ids")
    def _compute_progress(self):
        settings = self.env["calendar.feed"]._get_settings()
        now = datetime.now(timezone.utc)
        Pushed = self.env["calendar.feed.push.object"]
        for push in self:
            if not push.id:
                push.waiting_count, push.progress = 0, False
                continue
            waiting, published = Pushed._count_work(push, settings, push._get_audience(), now)
            push.waiting_count = waiting
            push.progress = self.env._(
                "%(done)s of %(total)s", done=f"{max(published - waiting, 0):,}", total=f"{published:,}"
            )

    @api.model_create_multi
    def create(self, vals_list):
        pushes = super().create(vals_list)
        pushes._trigger_push()
        return pushes

    def write(self, vals):
        if CONNECTION_FIELDS & set(vals) or vals.get("active"):
            vals = {
                **vals,
                "failures": 0,
                "next_attempt_at": False,
                "state": "catching_up",
                "last_error": False,
            }
        if CONNECTION_FIELDS & set(vals):  # another account may hold another token
            vals = {"oauth_access_token": False, "oauth_expires_at": False, **vals}
        result = super().write(vals)
        if "url" in vals:  # another calendar: what was written into the old one is not there
            self.object_ids.sudo().unlink()
        elif "room_ids" in vals:  # what each booking shows of the other rooms changes: write again
            self.object_ids.sudo().write({"pushed_etag": False, "rejected_etag": False, "error": False})
        if {"room_ids", "active", "max_rate"} & set(vals) or CONNECTION_FIELDS & set(vals):
            self._trigger_push()
        return result

    # -- buttons ---------------------------------------------------------------

    def action_test_connection(self):
        """Find the calendar and say, in plain words, its name, its size and whether we may write."""
        self.ensure_one()
        authorization, problem = self._authorization()
        probe = None if problem else self._remote(authorization).probe()
        problem = problem or (
            probe.answer.problem or judge(probe.answer)[1] if not probe.answer.succeeded else None
        )
        if problem:
            message = self.env._("The test failed: %(reason)s.", reason=problem.describe(self.env._))
            return self._notification(message, "danger")
        name = probe.name or self.env._("(no name)")
        if probe.writable is False:
            message = self.env._(
                "Found “%(name)s” (%(count)s events), but this account may not write there.",
                name=name,
                count=probe.objects,
            )
            return self._notification(message, "warning")
        message = self.env._("Connected to “%(name)s” (%(count)s events).", name=name, count=probe.objects)
        if probe.writable is None:
            message += " " + self.env._("The server does not say whether this account may write there.")
        return self._notification(message, "success")

    def action_push_now(self):
        """Push what is waiting at once (in the push job, never during the admin's request)."""
        self.write({"next_attempt_at": False})
        self._trigger_push()
        return self._notification(
            self.env._("Pushing now: the state and progress show how far it got."), "info"
        )

    def action_resync(self):
        """Compare the whole remote calendar with the published bookings and repair it."""
        self.write({"resync_requested": True, "next_attempt_at": False})
        self._trigger_push()
        return self._notification(
            self.env._("Resync started: the remote calendar is compared and repaired."), "info"
        )

    def _notification(self, message, kind):
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {"message": message, "type": kind, "sticky": kind in ("danger", "warning")},
        }

    # -- the push job ------------------------------------------------------------

    @api.model
    def _trigger_push(self, at=None):
        self.env["calendar.feed.change"]._trigger_cron(PUSH_CRON_XMLID, at)

    @api.model
    def _cron_resync(self):
        """Nightly: every target compares its whole calendar (Odoo wins over remote edits)."""
        self.search([("resync_requested", "=", False)]).write({"resync_requested": True})
        self._trigger_push()

    @api.model
    def _cron_push(self):
        """Give every due target a turn; come back at once while some have more to push.

        Nothing leaves while the API endpoint is off. The feed is brought up to
        date (and that committed) first, so a change made a moment ago goes out now.
        """
        Feed = self.env["calendar.feed"]
        settings = Feed._get_settings()
        if not settings.enabled:
            return
        _feed, fresh = Feed._build_if_stale()
        if not fresh:
            self._trigger_push(fields.Datetime.now() + RETRY_STALE)
        Feed._commit_in_cron()
        due = Domain("next_attempt_at", "=", False) | Domain("next_attempt_at", "<=", fields.Datetime.now())
        more, run_ends = False, time.monotonic() + RUN_SECONDS
        # Those that pushed least recently first: a run cut short moves on to the others next time.
        order = "next_attempt_at asc nulls first, last_push_at asc nulls first, id"
        for push in self.search(due, order=order):
            try:
                more |= push._take_turn(settings, min(time.monotonic() + TURN_SECONDS, run_ends))
            except Exception:
                _logger.exception("External calendar push target %s: push failed", push.id)
                push._rollback_in_cron()
                push._fail(Verdict.UNAVAILABLE, None)
            Feed._commit_in_cron()
            if time.monotonic() >= run_ends:
                more = True
                break
        if more:
            self._trigger_push()
        elif waiting := self.search([("next_attempt_at", "!=", False)], order="next_attempt_at", limit=1):
            self._trigger_push(max(waiting.next_attempt_at, fields.Datetime.now()))

    def _rollback_in_cron(self):
        if self.env.context.get("ir_cron_progress_id"):
            self.env.cr.rollback()

    def _get_audience(self):
        """Who the target's calendar is for: as a key limited to its rooms."""
        self.ensure_one()
        return self.sudo().with_context(active_test=False).room_ids._get_feed_audience()

    def _remote(self, authorization):
        return CalDavCalendar(self.url, authorization)

    def _take_turn(self, settings, until):
        """Push what is waiting until the monotonic time ``until``; whether more remains.

        Each step reads a batch, commits, makes its requests with nothing
        open in the database, then records what they did and commits: a run
        that dies mid-batch redoes only requests whose outcome was not kept,
        and rewriting an object named after its UID duplicates nothing.
        """
        self.ensure_one()
        Feed, Pushed = self.env["calendar.feed"], self.env["calendar.feed.push.object"]
        audience, now = self._get_audience(), datetime.now(timezone.utc)
        if not (self.resync_requested or Pushed._work(self, settings, audience, now, limit=1)):
            self._succeed(in_sync=True)  # nothing owed: not even a token is asked for
            return False
        authorization, problem = self._authorization()
        remote, resync = self._remote(authorization), self.resync_requested
        Feed._commit_in_cron()  # a refreshed token is kept; nothing is open during the listing
        if problem:
            # Refused by the token endpoint: until the credentials change; else it was unreachable.
            refused = problem.template in (TOKEN_REFUSED, NOT_CONNECTED)
            return self._fail(Verdict.UNAUTHORIZED if refused else Verdict.UNAVAILABLE, problem)
        if resync and not self._resync(remote):
            return False
        pace = 1 / self.max_rate if self.max_rate > 0 else 0
        while True:
            work = Pushed._work(self, settings, audience, datetime.now(timezone.utc), limit=BATCH_SIZE)
            if not work:
                self._succeed(in_sync=True)
                return False
            bodies = self._bodies(work, settings, audience)
            Feed._commit_in_cron()
            done, stopped = send(remote, work, bodies, pace, until)
            Pushed._record(self, [(item, self._translated(values)) for item, values in done])
            Feed._commit_in_cron()  # what was done is kept before a probe of the calendar
            if stopped and not self._refused_one(remote, *stopped):
                return False
            self._succeed(in_sync=False)
            Feed._commit_in_cron()
            if time.monotonic() >= until:
                return True

    def _refused_one(self, remote, item, outcome):
        """A request stopped its batch: fail the target (False), or, when the calendar is there and
        refused only this booking, record that and go on (True; a refused deletion is forgotten)."""
        verdict, problem, answer = outcome
        if verdict is Verdict.MISSING:
            verdict, problem = self._calendar_verdict(remote, answer)
        if verdict.stops_the_target:
            return self._fail(verdict, problem, answer)
        refused = None if item.entry_id is None else {"href": item.href or remote.href_for(item.uid)}
        self.env["calendar.feed.push.object"]._record(
            self, [(item, self._translated(refused and {**refused, "problem": problem}))]
        )
        return True

    def _resync(self, remote):
        """Compare with the remote calendar's listing; False when the target failed meanwhile.

        A listing the calendar answered but that cannot be used (too large, not
        CalDAV) skips this Resync: pushing goes on.
        """
        answer, objects = remote.objects()
        if answer.succeeded:
            database_uuid = self.env["ir.config_parameter"].sudo().get_param("database.uuid")
            self.env["calendar.feed.push.object"]._forget_versions(self, objects, database_uuid)
        else:
            verdict, problem = self._calendar_verdict(remote, answer)
            if verdict.stops_the_target and not (answer.status and answer.status < 300):
                return self._fail(verdict, problem, answer)
            _logger.warning("External calendar push target %s: Resync skipped: %s", self.id, problem)
        self.resync_requested = False
        self.env["calendar.feed"]._commit_in_cron()
        return True

    def _bodies(self, work, settings, audience):
        """``{entry id: calendar object bytes}`` of the bookings to write, as the audience reads them."""
        ids = [item.entry_id for item in work if item.entry_id]
        objects = self.env["calendar.feed.reader"]._calendar_objects(
            settings, audience, Domain("id", "in", ids), with_data=True
        )
        return {row.entry_id: row.data for row in objects}

    def _calendar_verdict(self, remote, answer):
        """A write or listing failed: is the calendar itself missing (the target fails), or not?"""
        verdict, problem = judge(answer)
        if verdict is Verdict.MISSING:
            collection, _etag = remote.etag(remote.url)
            if collection.status in (404, 410):
                return Verdict.NOT_FOUND, problem
            return (Verdict.REJECTED, problem) if collection.succeeded else judge(collection)
        return verdict, problem

    def _translated(self, values):
        """``values`` with their problem, if any, as an error in the job's language."""
        if not (values and values.get("problem")):
            return values
        return {"href": values["href"], "error": values["problem"].describe(self.env._)}

    def _fail(self, verdict, problem, answer=None):
        """Stop the target's turn after a failure of the whole target; it tries again later."""
        now = fields.Datetime.now()
        failures = self.failures + 1
        if verdict in (Verdict.UNAUTHORIZED, Verdict.NOT_FOUND):
            wait, state = CREDENTIALS_RETRY, "failing"
        elif verdict is Verdict.THROTTLED:
            asked = answer and retry_after(answer.headers.get("retry-after"), datetime.now(timezone.utc))
            wait, state = asked or backoff(failures), "catching_up"
        else:
            wait, state = backoff(failures), "failing"
        error = (
            problem.describe(self.env._)
            if problem
            else self.env._("an unexpected error (see the server log)")
        )
        _logger.warning("External calendar push target %s: %s; next attempt in %s", self.id, error, wait)
        self.write({"state": state, "failures": failures, "next_attempt_at": now + wait, "last_error": error})
        return False

    def _succeed(self, in_sync):
        values = {"state": "in_sync" if in_sync else "catching_up", "failures": 0, "last_error": False}
        if any(self[name] != value for name, value in values.items()):
            self.write(values | {"next_attempt_at": False})
        if not in_sync:
            self.last_push_at = fields.Datetime.now()
