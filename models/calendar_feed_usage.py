from datetime import timedelta

from odoo import api, fields, models
from odoo.tools import SQL

#: Requests are kept this long, then forgotten by the daily autovacuum.
RETENTION_DAYS = 90
#: ``request_count`` counts the requests of this many days.
COUNTED_DAYS = 30


class CalendarFeedUsage(models.Model):
    """One request to a feed, by the main link or by a named key: an append-only log.

    Each request adds a row instead of updating a counter, so hundreds of
    pollers never wait for one another; keys compute their last use and
    request count from it.
    """

    _name = "calendar.feed.usage"
    _description = "External Calendar Feed Request"
    _log_access = False
    _order = "used_at desc, id desc"

    key_id = fields.Many2one(
        "calendar.feed.key", readonly=True, ondelete="cascade", help="Empty for the main link."
    )
    used_at = fields.Datetime("Time", required=True, readonly=True, index=True)
    route = fields.Char(readonly=True, help="Which feed: ics, events, rooms, next, display or caldav.")
    status = fields.Integer(readonly=True, help="HTTP status of the answer.")

    _key_used_at_index = models.Index("(key_id, used_at)")

    @api.model
    def _record(self, key_id, route, status):
        """Log one answered request (``key_id`` None for the main link).

        When the request wrote nothing else (no rebuild), its commit does not
        wait for the disk: losing the last fraction of a second of usage in a
        crash is a fair price for not slowing every poll; a rebuild stays durable.
        """
        self.env.cr.execute(
            "SELECT set_config('synchronous_commit', 'off', true) WHERE txid_current_if_assigned() IS NULL"
        )
        self.env.execute_query(
            SQL(
                "INSERT INTO calendar_feed_usage (key_id, used_at, route, status) "
                "VALUES (%s, now() AT TIME ZONE 'UTC', %s, %s)",
                key_id,
                route,
                status,
            )
        )

    @api.model
    def _get_usage(self, key_ids, main_link=False):
        """``{key id or None: (last use, requests in the last 30 days)}``."""
        self.flush_model()
        since = fields.Datetime.now() - timedelta(days=COUNTED_DAYS)
        rows = self.env.execute_query(
            SQL(
                """
            SELECT key_id, max(used_at), count(*) FILTER (WHERE used_at >= %(since)s)
              FROM calendar_feed_usage
             WHERE key_id = ANY(%(ids)s) OR (%(main)s AND key_id IS NULL)
             GROUP BY key_id
            """,
                since=since,
                ids=list(key_ids),
                main=main_link,
            )
        )
        return {key_id: (last_used, count) for key_id, last_used, count in rows}

    @api.autovacuum
    def _gc_old_requests(self):
        expiry = fields.Datetime.now() - timedelta(days=RETENTION_DAYS)
        self.env.execute_query(SQL("DELETE FROM calendar_feed_usage WHERE used_at < %s", expiry))
