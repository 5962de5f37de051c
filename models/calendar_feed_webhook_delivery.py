from datetime import timedelta

from odoo import api, fields, models
from odoo.tools import SQL

#: Delivery attempts are kept this long, then forgotten by the daily autovacuum.
RETENTION_DAYS = 30


class CalendarFeedWebhookDelivery(models.Model):
    """One attempt to deliver a webhook message, with how the receiver answered."""

    _name = "calendar.feed.webhook.delivery"
    _description = "External Calendar Webhook Delivery"
    _order = "create_date desc, id desc"

    webhook_id = fields.Many2one(
        "calendar.feed.webhook", required=True, readonly=True, ondelete="cascade", index=True
    )
    message_id = fields.Char(
        "Message ID", readonly=True, help="The webhook-id header: the same on every retry."
    )
    attempt = fields.Integer(readonly=True)
    status_code = fields.Integer("Status", readonly=True, help="0: no answer (timeout, connection refused).")
    duration = fields.Float("Duration (s)", readonly=True, digits=(16, 3))
    error = fields.Char(readonly=True)

    @api.autovacuum
    def _gc_old_deliveries(self):
        expiry = fields.Datetime.now() - timedelta(days=RETENTION_DAYS)
        self.env.execute_query(
            SQL("DELETE FROM calendar_feed_webhook_delivery WHERE create_date < %s", expiry)
        )
