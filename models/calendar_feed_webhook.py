import json
import logging
from datetime import UTC, datetime, timedelta

from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..booking_feed.sync import Paging, encode_sync_token, filter_signature
from ..booking_feed.webhooks import (
    MAX_CHANGES,
    RETRY_DELAYS,
    check_url,
    deliver,
    generate_secret,
    message_body,
)

_logger = logging.getLogger(__name__)
CRON_XMLID = "external_calendar_api.ir_cron_external_calendar_webhooks"


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
        readonly=True, copy=False, default=lambda self: generate_secret(),
        help="Receivers verify each message's signature with it (Standard Webhooks).",
    )  # fmt: skip
    sync_stamp = fields.Integer(readonly=True, copy=False, help="Change stamp of the last delivered message.")
    attempt = fields.Integer(readonly=True, copy=False, help="Failed attempts of the pending message.")
    next_attempt_at = fields.Datetime("Next Attempt", readonly=True, copy=False)
    failing = fields.Boolean(readonly=True, copy=False, help="Retries gave up; the next change tries again.")
    failed_stamp = fields.Integer(
        readonly=True, copy=False, help="Change stamp of the message retries gave up on."
    )
    last_error = fields.Char(readonly=True, copy=False)
    delivery_ids = fields.One2many("calendar.feed.webhook.delivery", "webhook_id", string="Deliveries")

    @api.constrains("url")
    def _check_url(self):
        for webhook in self:
            if reason := check_url(webhook.url or ""):
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

    def action_send_test(self):
        """Send a ``ping`` now and say how the receiver answered."""
        self.ensure_one()
        now = datetime.now(UTC)
        body = message_body("ping", {"webhook": self.name}, now)
        result = self._attempt(f"msg_ping_{self.id}_{int(now.timestamp())}", body, now)
        if result.succeeded:
            message, kind = (
                self.env._("The receiver answered %(status)s.", status=result.status_code),
                "success",
            )
        else:
            message, kind = self.env._("The test failed: %(error)s", error=result.error), "danger"
        return {"type": "ir.actions.client", "tag": "display_notification",
                "params": {"message": message, "type": kind, "sticky": False}}  # fmt: skip

    # -- delivering -------------------------------------------------------------

    @api.model
    def _wake_up(self):
        """After this transaction commits, deliver soon (once per transaction, whatever it changed)."""
        if self.env.cr.precommit.data.get("external_calendar_webhooks") or not self.sudo().search_count([]):
            return
        self.env.cr.precommit.data["external_calendar_webhooks"] = True
        if cron := self.env.ref(CRON_XMLID, raise_if_not_found=False):
            cron.sudo()._trigger()

    @api.model
    def _cron_deliver(self):
        """Deliver to every active webhook whose rooms changed and whose retry is due.

        Nothing leaves while the API endpoint is off; what changed meanwhile
        goes out with the first change after it is on again.
        """
        Feed = self.env["calendar.feed"]
        if not Feed._get_settings().enabled:
            return
        feed = Feed._get_up_to_date()
        now = datetime.now(UTC)
        stamp = feed.change_stamp
        # Behind the feed, and not given up on (a failing webhook waits for the next change).
        behind = ["&", ("sync_stamp", "<", stamp), "|", ("failing", "=", False), ("failed_stamp", "<", stamp)]
        for webhook in self.search(behind):
            if webhook.next_attempt_at and webhook.next_attempt_at > now.replace(tzinfo=None):
                continue
            webhook._deliver_changes(feed, now)
            if self.env.context.get("ir_cron_progress_id"):  # run by the cron: keep each outcome as it comes
                self.env["ir.cron"]._commit_progress(1)
        cron = self.env.ref(CRON_XMLID)
        if feed._is_stale():  # another worker's build was under way: its changes go out next time
            cron._trigger(now.replace(tzinfo=None) + timedelta(minutes=1))
        due = self.search([("next_attempt_at", "!=", False)], order="next_attempt_at", limit=1)
        if due:
            cron._trigger(due.next_attempt_at)

    def _deliver_changes(self, feed, now):
        """Send this webhook what changed in its rooms since its last delivered message."""
        self.ensure_one()
        until = feed.change_stamp
        data = self._get_delta(feed, until)
        if data is None:  # nothing of its rooms changed
            self.write({"sync_stamp": until, "attempt": 0, "next_attempt_at": False, "failing": False})
            return
        result = self._attempt(
            f"msg_{self.id}_{self.sync_stamp}_{until}", message_body("calendar.changed", data, now), now
        )
        if result.succeeded:
            self.write({"sync_stamp": until, "attempt": 0, "next_attempt_at": False, "failing": False,
                        "last_error": False})  # fmt: skip
        elif result.gone:
            _logger.info("External calendar webhook %s answered 410 Gone: deactivated", self.id)
            self.write({"active": False, "next_attempt_at": False, "last_error": result.error})
        elif self.attempt < len(RETRY_DELAYS):
            next_at = (now + RETRY_DELAYS[self.attempt]).replace(tzinfo=None, microsecond=0)
            self.write({"attempt": self.attempt + 1, "next_attempt_at": next_at, "last_error": result.error})
        else:
            _logger.warning(
                "External calendar webhook %s: retries exhausted, failing until the next change", self.id
            )
            self.write({"attempt": 0, "next_attempt_at": False, "failing": True, "failed_stamp": until,
                        "last_error": result.error})  # fmt: skip

    def _get_delta(self, feed, until):
        """The ``since`` answer of the JSON feed for this webhook's rooms, as a dict; None if empty.

        Its ``syncToken`` works with the JSON feed and ``room=`` for these
        rooms. Over MAX_CHANGES changed bookings, only ``truncated`` and the
        token to resume from (null when too old: sync from scratch).
        """
        Query = self.env["calendar.feed.query"]
        settings = feed._get_settings()
        scope = self._get_scope()
        signature = filter_signature([("room", list(scope))] if scope is not None else [])
        if self.sync_stamp < feed.sync_floor:
            return {"truncated": True, "syncToken": None}
        query = Query._parse_query({}, settings, scope, statuses=("confirmed", "tentative"))
        paging = Paging(limit=MAX_CHANGES, since=self.sync_stamp)
        document = json.loads(Query._events_document(feed, settings, query, paging, signature, scope=scope))
        if document["nextCursor"]:
            return {"truncated": True, "syncToken": encode_sync_token(self.sync_stamp, signature)}
        if not (document["events"] or document["deleted"]):
            return None
        return {
            "events": document["events"],
            "deleted": document["deleted"],
            "syncToken": document["syncToken"],
        }

    def _get_scope(self):
        """The codes of the published rooms of this webhook, or None for every published room."""
        return self.sudo().with_context(active_test=False).room_ids._get_feed_scope()

    def _attempt(self, message_id, body, now):
        """One POST, logged as a delivery; returns its booking_feed.webhooks.Delivery."""
        self.ensure_one()
        result = deliver(self.url, self.secret, message_id, body, now=now)
        self.env["calendar.feed.webhook.delivery"].sudo().create({
            "webhook_id": self.id, "message_id": message_id, "attempt": self.attempt + 1,
            "status_code": result.status_code or 0, "duration": result.duration, "error": result.error,
        })  # fmt: skip
        return result
