from odoo import api, fields, models

BOOKING_STATUSES = [
    ("tentative", "Tentative"),
    ("confirmed", "Confirmed"),
    ("cancelled", "Cancelled"),
]


class CalendarEvent(models.Model):
    _inherit = "calendar.event"

    room_ids = fields.Many2many(
        "calendar.room",
        "calendar_event_calendar_room_rel",
        "event_id",
        "room_id",
        string="Rooms",
        help="Rooms this event books.",
    )
    booking_status = fields.Selection(
        BOOKING_STATUSES,
        default="confirmed",
        required=True,
        index=True,
        tracking=True,
        help="Tentative bookings are only published if the administrator allows it; "
        "cancelled bookings free their rooms.",
    )
    room_conflict_warning = fields.Char(
        "Room Conflict",
        compute="_compute_room_conflict_warning",
        help="Other bookings that use one of this event's rooms at the same time.",
    )

    @api.depends("room_ids", "start", "stop", "booking_status")
    def _compute_room_conflict_warning(self):
        """Warn, without blocking, when a room is double-booked.

        Overlaps are legitimate in practice (a debriefing spilling over, a
        shared skills lab), so the booking is saved and the form says why it
        may be a problem.
        """
        for event in self:
            if not (event.room_ids and event.start and event.stop) or event.booking_status == "cancelled":
                event.room_conflict_warning = False
                continue
            conflicts = self.search(
                [
                    ("id", "!=", event._origin.id),
                    ("room_ids", "in", event.room_ids.ids),
                    ("booking_status", "!=", "cancelled"),
                    ("start", "<", event.stop),
                    ("stop", ">", event.start),
                ],
                limit=3,
            )
            if conflicts:
                rooms = (conflicts.room_ids & event.room_ids).mapped("name")
                event.room_conflict_warning = self.env._(
                    "%(rooms)s already booked at this time by: %(events)s",
                    rooms=", ".join(rooms),
                    events=", ".join(conflicts.mapped("name")),
                )
            else:
                event.room_conflict_warning = False
