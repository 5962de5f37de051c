import json

from odoo import api, fields, models

from ..models.calendar_feed_key import ACCESS_LEVELS

#: The context key that carries the new key's links (JSON text) to the dialog that shows them.
LINKS_CONTEXT_KEY = "external_calendar_key_links"
LINK_FIELDS = (
    "ics_url",
    "json_url",
    "board_url",
    "webcal_url",
    "google_url",
    "outlook_com_url",
    "outlook_365_url",
)


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
    access = fields.Selection(
        ACCESS_LEVELS,
        required=True,
        default="full",
        help="Busy only: free/busy time and the room finder, and every booking as Busy elsewhere,"
        " with no description nor organizer.",
    )
    # Not stored: they are computed from the action's context only, so no save of this dialog
    # (not even the web client's save when the page is left) can write the secret anywhere.
    ics_url = fields.Char("ICS Link", compute="_compute_links")
    json_url = fields.Char("JSON Link", compute="_compute_links")
    board_url = fields.Char("Board Link", compute="_compute_links")
    webcal_url = fields.Char("webcal Link", compute="_compute_links")
    google_url = fields.Char("Add to Google", compute="_compute_links")
    outlook_com_url = fields.Char("Add to Outlook.com", compute="_compute_links")
    outlook_365_url = fields.Char("Add to Outlook (Microsoft 365)", compute="_compute_links")

    @api.depends_context(LINKS_CONTEXT_KEY)
    def _compute_links(self):
        links = json.loads(self.env.context.get(LINKS_CONTEXT_KEY) or "{}")
        for wizard in self:
            for name in LINK_FIELDS:
                wizard[name] = links.get(name, False)

    def action_generate(self):
        """Make the key and open the dialog with its links."""
        self.ensure_one()
        key = self.env["calendar.feed.key"].generate(
            {"name": self.name, "room_ids": [(6, 0, self.room_ids.ids)], "access": self.access}
        )
        Feed, token = self.env["calendar.feed"], key["token"]
        links = {
            "ics_url": key["ics_url"],
            "json_url": key["json_url"],
            "board_url": Feed._get_display_url(token=token),
        }
        subscribe = self.env["res.config.settings"]._get_external_calendar_subscribe_links(token=token)
        links |= {f"{kind}_url": url for kind, url in subscribe.items()}
        links_view = self.env.ref("external_calendar_api.calendar_feed_key_wizard_view_form_links")
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Links of the new key"),
            "res_model": self._name,
            "view_mode": "form",
            "views": [(links_view.id, "form")],
            "target": "new",
            "context": {"default_name": self.name, LINKS_CONTEXT_KEY: json.dumps(links)},
        }
