from odoo import api, models


class CalendarFeedDisplay(models.AbstractModel):
    """What room displays (door signs and the board) say, and in which language.

    The page itself is made by ``booking_feed.display``; its texts are
    translated here, in the display language of the settings.
    """

    _name = "calendar.feed.display"
    _description = "External Calendar Room Displays"

    @api.model
    def _get_lang(self, settings):
        """The language of displays: the one chosen in the settings, else the main company's, if installed."""
        installed = dict(self.env["res.lang"].sudo().get_installed())
        main_company = self.env["res.company"]._get_main_company().sudo()
        for lang in (settings.lang, main_company.partner_id.lang):
            if lang in installed:
                return lang
        return "en_US"

    @api.model
    def _get_labels(self):
        """The texts of the display page in the environment's language (the page fills ``%(name)s`` in)."""
        return {
            "inUseUntil": self.env._("In use until %(time)s"),
            "freeUntil": self.env._("Free until %(time)s"),
            "freeRestOfDay": self.env._("Free for the rest of the day"),
            "laterToday": self.env._("Later today"),
            "nothingLater": self.env._("No more bookings today"),
            "next": self.env._("Next: %(time)s %(title)s"),
            "bookingsToday": self.env._("Bookings today: %(count)s"),
            "stale": self.env._("Not updated since %(time)s: the calendar cannot be reached"),
            "noData": self.env._("Connecting to the calendar..."),
            "page": self.env._("Page %(page)s of %(pages)s"),
        }
