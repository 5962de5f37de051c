from odoo import models

from .calendar_feed import PARAM_PREFIX, TOKEN_PARAM


class IrConfigParameter(models.Model):
    _name = "ir.config_parameter"
    _inherit = ["ir.config_parameter", "calendar.feed.change.mixin"]

    def _get_feed_changes(self):
        """Feed settings change what is published, wherever they are edited (not the token)."""
        if any(param.key.startswith(PARAM_PREFIX) and param.key != TOKEN_PARAM for param in self):
            return None
        return []
