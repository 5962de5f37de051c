from urllib.parse import quote

from odoo import api, fields, models
from odoo.addons.base.models.res_partner import _lang_get, _tz_get
from odoo.exceptions import ValidationError
from odoo.tools import single_email_re

from ..booking_feed.settings import DEFAULT_FUTURE_DAYS, DEFAULT_PAST_DAYS, DEFAULT_RETENTION_DAYS
from ..booking_feed.window import MAX_DAYS
from .calendar_feed import PARAM_PREFIX

#: Google Calendar stops importing feeds past about this size.
LARGE_FEED_BYTES = 1_000_000


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    external_calendar_enabled = fields.Boolean(
        "Enable the API endpoint",
        config_parameter=PARAM_PREFIX + "enabled",
        help="Serve the ICS and JSON feeds at their secret links.",
    )
    external_calendar_past_days = fields.Integer(
        "Days in the past", config_parameter=PARAM_PREFIX + "past_days", default=DEFAULT_PAST_DAYS
    )
    external_calendar_future_days = fields.Integer(
        "Days ahead", config_parameter=PARAM_PREFIX + "future_days", default=DEFAULT_FUTURE_DAYS
    )
    external_calendar_tz = fields.Selection(
        _tz_get,
        string="Calendar Time Zone",
        config_parameter=PARAM_PREFIX + "tz",
        help="Days of the publication window start at midnight in this zone; "
        "calendar apps show it as the calendar's zone.",
    )
    external_calendar_name = fields.Char(
        "Calendar Name", config_parameter=PARAM_PREFIX + "name", help="Name shown in calendar apps."
    )
    external_calendar_description = fields.Char(
        "Calendar Description",
        config_parameter=PARAM_PREFIX + "description",
        help="Shown by some calendar apps.",
    )
    external_calendar_retention_days = fields.Integer(
        "Keep cancellations (days)",
        config_parameter=PARAM_PREFIX + "retention_days",
        default=DEFAULT_RETENTION_DAYS,
        help="Deleted and cancelled bookings stay in the feed as cancelled this long, so that people "
        "who imported the file see them cancelled when they import it again.",
    )
    external_calendar_organizer_name = fields.Char(
        "Organizer Name", config_parameter=PARAM_PREFIX + "organizer_name"
    )
    external_calendar_organizer_email = fields.Char(
        "Organizer E-mail",
        config_parameter=PARAM_PREFIX + "organizer_email",
        help="A shared mailbox shown as the organizer of every published booking (e.g. the booking desk). "
        "Leave empty to publish no organizer.",
    )
    external_calendar_publish_tentative = fields.Boolean(
        "Publish tentative bookings", config_parameter=PARAM_PREFIX + "publish_tentative"
    )
    external_calendar_publish_description = fields.Boolean(
        "Publish descriptions",
        config_parameter=PARAM_PREFIX + "publish_description",
        help="Private bookings never show their description.",
    )
    external_calendar_room_ids = fields.Many2many(
        "calendar.room",
        string="Published Rooms",
        compute="_compute_external_calendar_room_ids",
        inverse="_inverse_external_calendar_room_ids",
        readonly=False,
    )
    external_calendar_room_link_ids = fields.Many2many(
        "calendar.room", string="Room Feeds", compute="_compute_external_calendar_room_ids"
    )
    external_calendar_ics_url = fields.Char("ICS Link", compute="_compute_external_calendar_urls")
    external_calendar_json_url = fields.Char("JSON Link", compute="_compute_external_calendar_urls")
    external_calendar_import_url = fields.Char(
        "Download for Import", compute="_compute_external_calendar_urls"
    )
    external_calendar_webcal_url = fields.Char("webcal Link", compute="_compute_external_calendar_urls")
    external_calendar_google_url = fields.Char("Add to Google", compute="_compute_external_calendar_urls")
    external_calendar_outlook_com_url = fields.Char(
        "Add to Outlook.com", compute="_compute_external_calendar_urls"
    )
    external_calendar_outlook_365_url = fields.Char(
        "Add to Outlook (Microsoft 365)", compute="_compute_external_calendar_urls"
    )
    external_calendar_built_at = fields.Datetime("Last Built", compute="_compute_external_calendar_feed")
    external_calendar_event_count = fields.Integer(
        "Published Events", compute="_compute_external_calendar_feed"
    )
    external_calendar_ics_size = fields.Integer("Feed Size", compute="_compute_external_calendar_feed")
    external_calendar_last_error = fields.Text("Last Error", compute="_compute_external_calendar_feed")
    external_calendar_is_large = fields.Boolean(compute="_compute_external_calendar_feed")
    external_calendar_board_url = fields.Char("Board Link", compute="_compute_external_calendar_urls")
    external_calendar_caldav_url = fields.Char("CalDAV Address", compute="_compute_external_calendar_urls")
    external_calendar_caldav_password = fields.Char(
        "CalDAV Password", compute="_compute_external_calendar_urls", help="The secret of the links."
    )
    external_calendar_lang = fields.Selection(
        _lang_get,
        string="Display Language",
        config_parameter=PARAM_PREFIX + "lang",
        help="Language of the door signs and the board. Default: the company's.",
    )
    external_calendar_key_ids = fields.Many2many(
        "calendar.feed.key", string="Feed Keys", compute="_compute_external_calendar_subscribers"
    )
    external_calendar_webhook_ids = fields.Many2many(
        "calendar.feed.webhook", string="Webhooks", compute="_compute_external_calendar_subscribers"
    )
    external_calendar_main_last_used = fields.Datetime(
        "Main Link Last Used", compute="_compute_external_calendar_subscribers"
    )
    external_calendar_main_request_count = fields.Integer(
        "Main Link Requests (30 days)", compute="_compute_external_calendar_subscribers"
    )

    @api.constrains(
        "external_calendar_past_days", "external_calendar_future_days", "external_calendar_retention_days"
    )
    def _check_external_calendar_days(self):
        for settings in self:
            days = (settings.external_calendar_past_days, settings.external_calendar_future_days)
            if not all(0 <= value <= MAX_DAYS for value in days):
                raise ValidationError(
                    self.env._("The publication window takes 0 to %(max)s days each way.", max=MAX_DAYS)
                )
            if not 1 <= settings.external_calendar_retention_days <= MAX_DAYS:
                raise ValidationError(self.env._("Cancellations are kept 1 to %(max)s days.", max=MAX_DAYS))

    @api.constrains("external_calendar_organizer_email")
    def _check_external_calendar_organizer_email(self):
        for settings in self:
            email = settings.external_calendar_organizer_email
            if email and not single_email_re.fullmatch(email):
                raise ValidationError(self.env._("%(email)s is not an e-mail address.", email=email))

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        if "external_calendar_tz" in fields_list and not values.get("external_calendar_tz"):
            values["external_calendar_tz"] = self.env["calendar.feed"]._default_timezone()
        return values

    def _compute_external_calendar_room_ids(self):
        published = self.env["calendar.room"].search([("is_published", "=", True)])
        for settings in self:
            settings.external_calendar_room_ids = published
            settings.external_calendar_room_link_ids = published

    def _inverse_external_calendar_room_ids(self):
        Room = self.env["calendar.room"]
        chosen = self[:1].external_calendar_room_ids
        to_unpublish = Room.search([("is_published", "=", True), ("id", "not in", chosen.ids)])
        to_unpublish.write({"is_published": False})
        chosen.filtered(lambda room: not room.is_published).write({"is_published": True})

    def _compute_external_calendar_urls(self):
        Feed = self.env["calendar.feed"]
        urls = {"ics": Feed._get_feed_url("ics"), "json": Feed._get_feed_url("json")}
        urls |= self._get_external_calendar_subscribe_links()
        urls["board"] = Feed._get_display_url()
        urls["import"] = Feed._get_import_url()
        urls["caldav"] = Feed._get_caldav_url()
        for settings in self:
            for kind, url in urls.items():
                settings[f"external_calendar_{kind}_url"] = url
            settings.external_calendar_caldav_password = Feed._get_token()

    @api.model
    def _get_external_calendar_subscribe_links(self, token=None):
        """One-click subscription links for the ICS feed (of a key's ``token``), by calendar app."""
        Feed = self.env["calendar.feed"]
        ics_url = Feed._get_feed_url("ics", token=token)
        webcal_url = Feed._get_feed_url("ics", scheme="webcal", token=token)
        outlook_query = f"url={quote(ics_url, safe='')}&name={quote(Feed._get_settings().name, safe='')}"
        return {
            "webcal": webcal_url,
            "google": f"https://calendar.google.com/calendar/render?cid={quote(webcal_url, safe='')}",
            "outlook_com": f"https://outlook.live.com/calendar/0/addfromweb?{outlook_query}",
            "outlook_365": f"https://outlook.office.com/calendar/0/addfromweb?{outlook_query}",
        }

    def _compute_external_calendar_feed(self):
        feed = self.env["calendar.feed"]._get_singleton()
        for settings in self:
            settings.external_calendar_built_at = feed.built_at
            settings.external_calendar_event_count = feed.event_count
            settings.external_calendar_ics_size = feed.ics_size
            settings.external_calendar_last_error = feed.last_error
            settings.external_calendar_is_large = feed.ics_size > LARGE_FEED_BYTES

    def _compute_external_calendar_subscribers(self):
        # Every active key is listed: an administrator makes a handful.
        keys = self.env["calendar.feed.key"].search([])  # pylint: disable=no-search-all
        webhooks = self.env["calendar.feed.webhook"].search([])  # pylint: disable=no-search-all
        main_last_used, main_count = (
            self.env["calendar.feed.usage"]._get_usage([], main_link=True).get(None, (False, 0))
        )
        for settings in self:
            settings.external_calendar_key_ids = keys
            settings.external_calendar_webhook_ids = webhooks
            settings.external_calendar_main_last_used = main_last_used
            settings.external_calendar_main_request_count = main_count

    def action_external_calendar_new_key(self):
        """Open the dialog that makes a named key."""
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("New feed key"),
            "res_model": "calendar.feed.key.wizard",
            "view_mode": "form",
            "target": "new",
        }

    def action_external_calendar_refresh(self):
        """Rebuild everything now, including changes made outside the ORM."""
        self.ensure_one()
        self.env["calendar.feed"]._get_singleton()._rebuild(full=True)

    def action_external_calendar_rotate_token(self):
        self.ensure_one()
        self.env["calendar.feed"]._rotate_token()
