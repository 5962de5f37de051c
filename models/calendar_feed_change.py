from odoo import fields, models


class CalendarFeedChange(models.Model):
    """Append-only journal of changes that affect the published feed.

    Bookings, rooms and feed settings add a row when they change. Rows are
    only ever inserted, so concurrent editors never contend for a shared
    "stale" flag; the feed is stale when the journal holds rows it has not
    seen (see ``calendar.feed._is_stale``).
    """

    _name = "calendar.feed.change"
    _description = "External Calendar Change Journal"
    _log_access = False
    _order = "id"

    changed_at = fields.Datetime(required=True, readonly=True)

    def _record_change(self):
        self.env.cr.execute("INSERT INTO calendar_feed_change (changed_at) VALUES (NOW() AT TIME ZONE 'UTC')")
