from odoo import api, models


class CalendarFeedChangeMixin(models.AbstractModel):
    """Journal the changes that may change what the feed publishes, for any model.

    A model that the feed is published from inherits this and says, in
    :meth:`_get_feed_changes`, which bookings a change of its records may
    affect; creating, writing and deleting them then journal that (see
    ``calendar.feed.change``), before and after a write, so a booking that
    leaves the feed is noticed as well as one that joins it.
    """

    _name = "calendar.feed.change.mixin"
    _description = "External Calendar Change Recording"

    def _get_feed_changes(self):
        """Ids of the bookings these records may change in the feed; None for "anything may have"."""
        return None

    @api.model_create_multi
    def create(self, vals_list):
        records = super().create(vals_list)
        records._record_feed_changes()
        return records

    def write(self, vals):
        # The models that inherit the mixin return ids.
        before = self._get_feed_changes()  # pylint: disable=assignment-from-none
        result = super().write(vals)
        self._record_feed_changes(before)
        return result

    def unlink(self):
        self._record_feed_changes()
        return super().unlink()

    def _record_feed_changes(self, before=()):
        after = self._get_feed_changes()  # pylint: disable=assignment-from-none
        Change = self.env["calendar.feed.change"]
        if before is None or after is None:
            Change._record_change()
        else:
            Change._record_change(set(before) | set(after))
