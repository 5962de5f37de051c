from odoo import api, fields, models

WEBHOOK_CRON_XMLID = "external_calendar_api.ir_cron_external_calendar_webhooks"
PUSH_CRON_XMLID = "external_calendar_api.ir_cron_external_calendar_push"
#: Who tells the outside world of changes, and the cron job that does it.
SENDER_CRONS = (("calendar.feed.webhook", WEBHOOK_CRON_XMLID), ("calendar.feed.push", PUSH_CRON_XMLID))


class CalendarFeedChange(models.Model):
    """Append-only journal of changes that affect the published feed.

    Bookings add one row per changed booking; rooms, feed settings and
    upgrades add a row without a booking, meaning "anything may have
    changed". Rows are only ever inserted, so concurrent editors never
    contend for a shared "stale" flag. The feed is stale while rows exist; a
    build deletes the rows it can see, and rows of transactions still open
    stay for the next request (see ``calendar.feed._rebuild``).
    """

    _name = "calendar.feed.change"
    _description = "External Calendar Change Journal"
    _log_access = False
    _order = "id"

    changed_at = fields.Datetime(required=True, readonly=True)
    event_id = fields.Integer("Booking ID", readonly=True, help="Empty when anything may have changed.")

    def _record_change(self, event_ids=None):
        """Journal a change of these bookings, or of anything when ``event_ids`` is None.

        Webhooks and push targets are told once the transaction commits.
        """
        if event_ids is not None and not event_ids:
            return
        self._wake_up_senders()
        if event_ids is None:
            self.env.cr.execute(
                "INSERT INTO calendar_feed_change (changed_at) VALUES (NOW() AT TIME ZONE 'UTC')"
            )
        else:
            self.env.cr.execute(
                "INSERT INTO calendar_feed_change (changed_at, event_id) "
                "SELECT NOW() AT TIME ZONE 'UTC', unnest(%s::int[])",
                [list(event_ids)],
            )

    def _consume(self):
        """Delete the journal rows this transaction sees; return their booking ids.

        ``None`` stands for "anything may have changed" (a full sync).
        """
        self.env.cr.execute("DELETE FROM calendar_feed_change RETURNING event_id")
        event_ids = {row[0] for row in self.env.cr.fetchall()}
        return None if None in event_ids else event_ids

    def _has_changes(self):
        self.env.cr.execute("SELECT EXISTS (SELECT 1 FROM calendar_feed_change)")
        return self.env.cr.fetchone()[0]

    @api.model
    def _wake_up_senders(self):
        """Have the webhook and push crons run soon after this transaction commits (once, whatever it
        changed), those that have someone to tell."""
        data = self.env.cr.precommit.data
        if data.get("external_calendar_senders"):
            return
        data["external_calendar_senders"] = True
        # At commit, for what survived: a trigger rolled back with a savepoint is not lost.
        self.env.cr.precommit.add(self._trigger_senders)

    @api.model
    def _trigger_senders(self):
        for model, cron_xmlid in SENDER_CRONS:
            if self.env[model].sudo().search_count([], limit=1):
                self._trigger_cron(cron_xmlid)

    @api.model
    def _trigger_cron(self, cron_xmlid, at=None):
        """Run the cron job ``cron_xmlid`` at ``at`` (now if None)."""
        if cron := self.env.ref(cron_xmlid, raise_if_not_found=False):
            cron.sudo()._trigger(at)
