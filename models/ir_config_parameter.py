from odoo import api, models

from .calendar_feed import PARAM_PREFIX, TOKEN_PARAM


class IrConfigParameter(models.Model):
    _inherit = "ir.config_parameter"

    @api.model_create_multi
    def create(self, vals_list):
        params = super().create(vals_list)
        params._record_feed_change()
        return params

    def write(self, vals):
        result = super().write(vals)
        self._record_feed_change()
        return result

    def unlink(self):
        self._record_feed_change()
        return super().unlink()

    def _record_feed_change(self):
        """Feed settings change what is published, wherever they are edited (not the token)."""
        if any(param.key.startswith(PARAM_PREFIX) and param.key != TOKEN_PARAM for param in self):
            self.env["calendar.feed.change"]._record_change()
