from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError

from ..booking_feed import FeedRoom
from ..booking_feed.audience import Audience
from ..booking_feed.records import ROOM_CODE_PATTERN


class CalendarRoom(models.Model):
    _name = "calendar.room"
    _inherit = ["calendar.feed.change.mixin"]
    _description = "Bookable Room"
    _order = "sequence, name, id"

    name = fields.Char("Room", required=True)
    code = fields.Char(
        required=True,
        help="Short unique code, e.g. SIM1. Feed links use it to select a room, "
        "so it may only contain letters, digits, '-' and '_'.",
    )
    sequence = fields.Integer(default=10)
    location = fields.Char("Building / Location")
    capacity = fields.Integer(help="How many people the room holds.")
    opening_hours_id = fields.Many2one(
        "resource.calendar",
        help="Working hours (in their own time zone, with their leaves) during which the room is open."
        " Outside them it is busy for free/busy time and never offered by the room finder."
        " Empty: open all the time.",
    )
    color = fields.Integer()
    active = fields.Boolean(default=True)
    is_published = fields.Boolean(
        "Published",
        default=True,
        help="Bookings of published rooms appear in the external calendar feeds.",
    )
    notes = fields.Html(help="Internal notes; never published.")
    event_ids = fields.Many2many(
        "calendar.event", "calendar_event_calendar_room_rel", "room_id", "event_id", string="Bookings"
    )
    event_count = fields.Integer("Booking Count", compute="_compute_event_count")
    feed_ics_url = fields.Char(
        "Room Feed",
        compute="_compute_secret_urls",
        groups="base.group_system",
        help="Secret ICS link of this room's bookings alone.",
    )
    feed_import_url = fields.Char(
        "Room Download",
        compute="_compute_secret_urls",
        groups="base.group_system",
        help="Secret link of this room's ICS file to import by hand; it also carries cancellations.",
    )
    display_url = fields.Char(
        "Door Sign",
        compute="_compute_secret_urls",
        groups="base.group_system",
        help="Secret link of a page showing what is on in the room now and next, for a screen at its door.",
    )

    _code_unique = models.Constraint("UNIQUE(code)", "Another room already uses this code.")
    _capacity_positive = models.Constraint("CHECK(capacity >= 0)", "The capacity cannot be negative.")

    @api.constrains("code")
    def _check_code(self):
        for room in self:
            if not ROOM_CODE_PATTERN.fullmatch(room.code):
                raise ValidationError(
                    self.env._(
                        "The room code %(code)s may only contain letters, digits, '-' and '_' "
                        "(at most 32 characters).",
                        code=room.code,
                    )
                )

    @api.depends("event_ids")
    def _compute_event_count(self):
        counts = dict(
            self.env["calendar.event"]._read_group([("room_ids", "in", self.ids)], ["room_ids"], ["__count"])
        )
        for room in self:
            room.event_count = counts.get(room._origin, 0)

    @api.depends("code")
    def _compute_secret_urls(self):
        Feed = self.env["calendar.feed"]
        for room in self:
            room.feed_ics_url = Feed._get_feed_url("ics", room_code=room.code) if room.code else False
            room.feed_import_url = Feed._get_import_url(room_code=room.code) if room.code else False
            room.display_url = Feed._get_display_url(room_code=room.code) if room.code else False

    @api.ondelete(at_uninstall=False)
    def _unlink_except_last_room_of_a_key(self):
        """A feed key, webhook or push target without rooms sees every room: deleting its last room
        must not widen it (archived ones count: they can be brought back)."""
        for model in ("calendar.feed.key", "calendar.feed.webhook", "calendar.feed.push"):
            Limited = self.env[model].sudo().with_context(active_test=False)
            for limited in Limited.search([("room_ids", "in", self.ids)]):
                if not limited.with_context(active_test=False).room_ids - self:
                    raise UserError(
                        self.env._(
                            "%(what)s %(name)s is limited to these rooms: archive the rooms instead of "
                            "deleting them, or delete it first.",
                            what=Limited._description,
                            name=limited.name,
                        )
                    )

    def action_open_bookings(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("calendar.action_calendar_event")
        action["domain"] = [("room_ids", "in", self.ids)]
        action["context"] = {"default_room_ids": self.ids}
        return action

    def _get_feed_audience(self, key_id=None, busy_only=False):
        """The audience of a key, webhook or push target limited to these rooms: it reads those that
        are published, and learns of departures from all of them, archived or unpublished too. No
        rooms: every published room. Archived rooms are passed too: they narrow, never widen."""
        if not self:
            return Audience(key_id=key_id, busy_only=busy_only)
        published = self.filtered(lambda room: room.active and room.is_published).sorted()
        return Audience(
            rooms=tuple(published.mapped("code")),
            seen_rooms=tuple(self.mapped("code")),
            key_id=key_id,
            busy_only=busy_only,
        )

    def _to_feed_room(self):
        self.ensure_one()
        return FeedRoom(id=self.id, code=self.code, name=self.name, location=self.location or "")
