import hashlib
import json
import logging
from datetime import datetime, timedelta, timezone

from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..booking_feed import assemble_document
from ..booking_feed.query import FeedQuery
from ..booking_feed.sync import (
    Paging,
    SyncTokenExpired,
    check_sync_token,
    encode_sync_token,
    filter_signature,
)
from ..booking_feed.webhooks import (
    MAX_CHANGES,
    RETRY_DELAYS,
    TIMEOUT_SECONDS,
    check_url,
    deliver,
    generate_secret,
    message_body,
    secret_key,
)
from .calendar_feed_change import WEBHOOK_CRON_XMLID

_logger = logging.getLogger(__name__)
#: When a build was under way elsewhere, deliver its changes this much later.
RETRY_STALE = timedelta(minutes=1)
#: A cron run stops sending with less time than this left (a POST may take the timeout twice).
CRON_TIME_LEFT_MIN = 3 * TIMEOUT_SECONDS


class CalendarFeedWebhook(models.Model):
    """An integrator's URL told of every change of the published feed (Standard Webhooks).

    Changes are not queued: a webhook remembers the last sync token it
    delivered (``sync_stamp``), and each message is the JSON feed's ``since``
    answer from there, for its rooms. Changes that come while a message is
    pending or being retried merge into the next one; a message keeps its
    ``webhook-id`` while it is retried unchanged. Deliveries run in a cron job
    woken by changes, never on the request of the user who made the change.
    Delivery is at least once: a message whose outcome could not be saved is
    sent again, and applying the same delta twice changes nothing.
    """

    _name = "calendar.feed.webhook"
    _description = "External Calendar Webhook"
    _order = "name, id"

    name = fields.Char(required=True, help="Who receives it, e.g. Room panels or Data warehouse.")
    url = fields.Char("URL", required=True, help="Where changes are POSTed (http or https).")
    room_ids = fields.Many2many(
        "calendar.room",
        string="Rooms",
        help="Only changes of these rooms are sent. Empty: every published room.",
    )
    active = fields.Boolean(default=True, help="Receivers that answer 410 Gone are archived.")
    secret = fields.Char(
        readonly=True,
        copy=False,
        default=lambda self: generate_secret(),
        help="Receivers verify each message's signature with it (Standard Webhooks).",
    )
    sync_stamp = fields.Integer(readonly=True, copy=False, help="Change stamp of the last delivered message.")
    attempt = fields.Integer(readonly=True, copy=False, help="Failed attempts of the pending message.")
    next_attempt_at = fields.Datetime("Next Attempt", readonly=True, copy=False)
    failing = fields.Boolean(readonly=True, copy=False, help="Retries gave up; the next change tries again.")
    failed_stamp = fields.Integer(
        readonly=True, copy=False, help="Change stamp of the message retries gave up on."
    )
    last_error = fields.Char(readonly=True, copy=False)
    delivery_ids = fields.One2many("calendar.feed.webhook.delivery", "webhook_id", string="Deliveries")

    @api.constrains("secret")
    def _check_secret(self):
        for webhook in self:
            try:
                secret_key(webhook.secret or "")
            except ValueError as error:
                raise ValidationError(self.env._("The secret: %(reason)s.", reason=str(error))) from None

    @api.constrains("url")
    def _check_url(self):
        for webhook in self:
            if reason := check_url(webhook.url or ""):
                # Marked with _lt() in booking_feed.webhooks.
                reason = self.env._(reason)  # pylint: disable=translation-required
                raise ValidationError(self.env._("%(url)s: %(reason)s.", url=webhook.url, reason=reason))

    @api.model_create_multi
    def create(self, vals_list):
        webhooks = super().create(vals_list)
        # Only what changes from now on: the receiver pulls the current feed once by itself.
        webhooks.sudo().write({"sync_stamp": self.env["calendar.feed"]._get_up_to_date().change_stamp})
        return webhooks

    def action_rotate_secret(self):
        """A new secret: receivers must use it from the next message on."""
        for webhook in self:
            webhook.secret = generate_secret()

    def write(self, vals):
        if vals.get("active"):  # brought back (after a 410, say): a fresh start of its retries
            vals = {**vals, "attempt": 0, "next_attempt_at": False, "failing": False, "last_error": False}
        return super().write(vals)

    def action_send_test(self):
        """Send a ``ping`` now and say how the receiver answered (its status, not its text)."""
        self.ensure_one()
        now = datetime.now(timezone.utc)
        body = message_body("ping", {"webhook": self.name}, now)
        result = self._attempt(f"msg_ping_{self.id}_{int(now.timestamp())}", body)
        if result.succeeded:
            message, kind = (
                self.env._("The receiver answered %(status)s.", status=result.status_code),
                "success",
            )
        else:
            answer = f"HTTP {result.status_code}" if result.status_code else result.describe(self.env._)
            message, kind = (
                self.env._("The test failed: %(answer)s (see Deliveries).", answer=answer),
                "danger",
            )
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {"message": message, "type": kind, "sticky": False},
        }

    # -- delivering -------------------------------------------------------------

    @api.model
    def _trigger_delivery(self, at=None):
        self.env["calendar.feed.change"]._trigger_cron(WEBHOOK_CRON_XMLID, at)

    @api.model
    def _cron_deliver(self):
        """Deliver to every active webhook whose rooms changed and whose retry is due.

        Nothing leaves while the API endpoint is off; what changed meanwhile
        goes out with the first change after it is on again. Run by the cron,
        the rebuild is committed before anything is sent (the feed row is not
        held locked during HTTP), each webhook's attempt is committed before
        its POST (a run killed meanwhile leaves it waiting for its backoff,
        not first in line again) and the run stops when its time is nearly
        up, to be continued at once.
        """
        Feed = self.env["calendar.feed"]
        settings = Feed._get_settings()
        if not settings.enabled:
            return
        feed, fresh = Feed._build_if_stale()
        if not fresh:  # another worker's build was under way (or builds fail): later
            self._trigger_delivery(
                fields.Datetime.now() + (RETRY_STALE * 10 if feed.last_error else RETRY_STALE)
            )
        stamp = feed.change_stamp
        Feed._commit_in_cron()
        # Behind the feed, due, and not given up on (a failing webhook waits for the next change).
        behind = ["&", ("sync_stamp", "<", stamp), "|", ("failing", "=", False), ("failed_stamp", "<", stamp)]
        due = ["|", ("next_attempt_at", "=", False), ("next_attempt_at", "<=", fields.Datetime.now())]
        for webhook in self.search([*behind, *due], order="next_attempt_at asc nulls first, id"):
            # One broken webhook must not stop the others; no commit inside a savepoint.
            try:
                with self.env.cr.savepoint():
                    delta = webhook._claim(feed, settings)
            except Exception:
                _logger.exception("External calendar webhook %s: delivery failed", webhook.id)
                continue
            # Claimed: if the run dies during the POST, it waits for its backoff.
            Feed._commit_in_cron()
            if delta:
                try:
                    with self.env.cr.savepoint():
                        webhook._deliver(*delta)
                except Exception:
                    _logger.exception("External calendar webhook %s: delivery failed", webhook.id)
            if Feed._commit_in_cron() < CRON_TIME_LEFT_MIN:
                self._trigger_delivery()
                return
        if waiting := self.search(behind, order="next_attempt_at", limit=1).next_attempt_at:
            self._trigger_delivery(max(waiting, fields.Datetime.now()))

    def _claim(self, feed, settings):
        """What to send this webhook, ``(until, data)``, claimed for this run; None if nothing.

        The claim (a next attempt after the backoff) is what stays if the run
        dies during the POST.
        """
        self.ensure_one()
        until = feed.change_stamp
        data = self._get_delta(feed, settings)
        if data is None:  # nothing of its rooms changed
            self.write({"sync_stamp": until, "attempt": 0, "next_attempt_at": False, "failing": False})
            return None
        retry_in = RETRY_DELAYS[min(self.attempt, len(RETRY_DELAYS) - 1)]
        self.write(
            {"next_attempt_at": fields.Datetime.now() + retry_in + timedelta(seconds=TIMEOUT_SECONDS * 2)}
        )
        return until, data

    def _deliver(self, until, data):
        """POST ``data`` (changes up to the stamp ``until``, JSON bytes) and record how it went."""
        self.ensure_one()
        # The id follows the content: a retry of the same delta has the same id, a merged one another.
        digest = hashlib.sha256(b"%d %d " % (self.id, self.sync_stamp) + data).hexdigest()
        result = self._attempt(
            f"msg_{digest[:32]}", message_body("calendar.changed", data, datetime.now(timezone.utc))
        )
        # In the language of whoever delivers (the cron's, or the admin's for Send test).
        error = result.describe(self.env._)
        if result.succeeded:
            self.write(
                {
                    "sync_stamp": until,
                    "attempt": 0,
                    "next_attempt_at": False,
                    "failing": False,
                    "last_error": False,
                }
            )
        elif result.gone:
            _logger.warning("External calendar webhook %s answered 410 Gone: deactivated", self.id)
            self.write({"active": False, "next_attempt_at": False, "last_error": error})
        elif self.attempt < len(RETRY_DELAYS):
            next_at = fields.Datetime.now() + RETRY_DELAYS[self.attempt]
            self.write({"attempt": self.attempt + 1, "next_attempt_at": next_at, "last_error": error})
        else:
            _logger.warning(
                "External calendar webhook %s: retries exhausted, failing until the next change", self.id
            )
            self.write(
                {
                    "attempt": 0,
                    "next_attempt_at": False,
                    "failing": True,
                    "failed_stamp": until,
                    "last_error": error,
                }
            )

    def _get_delta(self, feed, settings):
        """The JSON feed's ``since`` answer for this webhook's rooms, as JSON bytes; None if empty.

        Its ``syncToken`` works with the JSON feed (main link) and ``room=``
        for these rooms. Over MAX_CHANGES changed bookings, only ``truncated``
        and the token to resume from (null when too old: sync from scratch).
        """
        audience = self._get_audience()
        # Its token is the JSON feed's for these rooms: the main link's, with room= for each.
        signature = filter_signature([("room", list(audience.rooms))] if audience.is_limited else [])
        try:
            check_sync_token(self.sync_stamp, feed.sync_floor, feed.change_stamp)
        except SyncTokenExpired:
            return _compact_json({"truncated": True, "syncToken": None})
        paging = Paging(limit=MAX_CHANGES, since=self.sync_stamp)
        page = self.env["calendar.feed.reader"]._events_page(
            feed, settings, audience, FeedQuery(), paging=paging, signature=signature
        )
        if page.head["nextCursor"]:
            return _compact_json(
                {"truncated": True, "syncToken": encode_sync_token(self.sync_stamp, signature)}
            )
        if not (page.objects or page.head["deleted"]):
            return None
        return assemble_document(*page)

    def _get_audience(self):
        """Who the webhook is told about: its rooms; departures among all of them, archived or
        unpublished ones too (every published room if it has none)."""
        self.ensure_one()
        return self.sudo().with_context(active_test=False).room_ids._get_feed_audience()

    def _attempt(self, message_id, body):
        """One POST, logged as a delivery; returns its booking_feed.webhooks.Delivery."""
        self.ensure_one()
        result = deliver(self.url, self.secret, message_id, body)
        self.env["calendar.feed.webhook.delivery"].sudo().create(
            {
                "webhook_id": self.id,
                "message_id": message_id,
                "attempt": self.attempt + 1,
                "status_code": result.status_code or 0,
                "duration": result.duration,
                "error": result.describe(self.env._),
            }
        )
        return result


def _compact_json(data):
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
