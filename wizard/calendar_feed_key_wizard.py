from odoo import fields, models


class CalendarFeedKeyWizard(models.TransientModel):
    """Make a named feed key, then show its links once.

    The first dialog asks who the key is for and its rooms; the second shows
    the links of the new key. The second is never saved: its links travel
    only in the action that opens it, so the secret is stored nowhere in
    plain, not even in this wizard's table.
    """

    _name = "calendar.feed.key.wizard"
    _description = "New External Calendar Feed Key"

    name = fields.Char(required=True, help="Who or what the key is for, e.g. Reception display or IT sync.")
    room_ids = fields.Many2many("calendar.room", string="Rooms", help="Empty: every published room.")
    ics_url = fields.Char("ICS Link", readonly=True)
    json_url = fields.Char("JSON Link", readonly=True)
    webcal_url = fields.Char("webcal Link", readonly=True)
    google_url = fields.Char("Add to Google", readonly=True)
    outlook_com_url = fields.Char("Add to Outlook.com", readonly=True)
    outlook_365_url = fields.Char("Add to Outlook (Microsoft 365)", readonly=True)

    def action_generate(self):
        """Make the key and open the dialog with its links."""
        self.ensure_one()
        key = self.env["calendar.feed.key"].generate(
            {"name": self.name, "room_ids": [(6, 0, self.room_ids.ids)]}
        )
        links = self.env["res.config.settings"]._get_external_calendar_subscribe_links(token=key["token"])
        defaults = {"name": self.name, "ics_url": key["ics_url"], "json_url": key["json_url"]}
        defaults |= {f"{kind}_url": url for kind, url in links.items()}
        links_view = self.env.ref("external_calendar_api.calendar_feed_key_wizard_view_form_links")
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Links of the new key"),
            "res_model": self._name,
            "view_mode": "form",
            "views": [(links_view.id, "form")],
            "target": "new",
            "context": {f"default_{name}": value for name, value in defaults.items()},
        }
