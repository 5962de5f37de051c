from datetime import UTC, timedelta

from lxml import html as lxml_html

from odoo import api, fields, models
from odoo.tools import html2plaintext, is_html_empty

from ..booking_feed import FeedEvent

BOOKING_STATUSES = [
    ("tentative", "Tentative"),
    ("confirmed", "Confirmed"),
    ("cancelled", "Cancelled"),
]
# Odoo's colour indexes (tags, rooms) as the web client draws them; 0 is "no colour".
ODOO_COLORS = [None, "#ee2d2d", "#dc8534", "#e8bb1d", "#5794dd", "#9f628f",
               "#db8865", "#41a9a2", "#304be0", "#ee2f8a", "#61c36e", "#9872e6"]  # fmt: skip
# "Only internal users" is as closed to the outside world as "Private".
HIDDEN_PRIVACIES = ("private", "confidential")


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
                    ("room_ids", "in", event.room_ids._origin.ids),
                    ("booking_status", "!=", "cancelled"),
                    ("start", "<", event.stop),
                    ("stop", ">", event.start),
                ],
                limit=3,
            )
            if conflicts:
                rooms = (conflicts.room_ids & event.room_ids._origin).mapped("name")
                event.room_conflict_warning = self.env._(
                    "%(rooms)s already booked at this time by: %(events)s",
                    rooms=", ".join(rooms),
                    events=", ".join(conflicts.mapped("name")),
                )
            else:
                event.room_conflict_warning = False

    # -- change journal ------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        events = super().create(vals_list)
        if events.room_ids:
            self.env["calendar.feed.change"]._record_change()
        return events

    def write(self, vals):
        was_booking = bool(self.room_ids)
        result = super().write(vals)
        if was_booking or self.room_ids:
            self.env["calendar.feed.change"]._record_change()
        return result

    def unlink(self):
        if self.room_ids:
            self.env["calendar.feed.change"]._record_change()
        return super().unlink()

    # -- publication ---------------------------------------------------------

    @api.model
    def _get_published_bookings(self, window, settings):
        """Bookings of published rooms overlapping ``window``, ordered by start.

        Timed events are compared in UTC; all-day events by their local dates
        (Odoo stores their last day inclusively).
        """
        statuses = ["confirmed", "tentative"] if settings["publish_tentative"] else ["confirmed"]
        naive = {"start": window.start.replace(tzinfo=None), "end": window.end.replace(tzinfo=None)}
        domain = [
            ("room_ids.is_published", "=", True),
            ("booking_status", "in", statuses),
            "|",
            "&", "&", ("allday", "=", False), ("start", "<", naive["end"]), ("stop", ">", naive["start"]),
            "&", "&", ("allday", "=", True), ("start_date", "<=", window.last_day),
            ("stop_date", ">=", window.first_day),
        ]  # fmt: skip
        return self.search(domain, order="start, id")

    def _get_feed_uid(self, database_uuid):
        """A UID that never changes for this booking and is unique across databases."""
        self.ensure_one()
        return f"calendar-event-{self.id}-{database_uuid}@odoo"

    def _get_feed_description(self):
        """The description as published text, without contact links.

        Odoo writes the organizer's and attendees' contact details into
        descriptions as mailto:/tel: links; those never leave Odoo.
        """
        self.ensure_one()
        if is_html_empty(self.description):
            return ""
        tree = lxml_html.fragment_fromstring(str(self.description), create_parent="div")
        for link in tree.xpath("//a[starts-with(@href, 'mailto:') or starts-with(@href, 'tel:')]"):
            link.drop_tree()
        return html2plaintext(lxml_html.tostring(tree, encoding="unicode"), include_references=False).strip()

    def _get_feed_color(self):
        indexes = [tag.color for tag in self.categ_ids] + [room.color for room in self.room_ids]
        return next((ODOO_COLORS[i] for i in indexes if 0 < (i or 0) < len(ODOO_COLORS)), "")

    def _to_feed_events(self, settings):
        """Plain records of these bookings, with only what the admin publishes."""
        database_uuid = self.env["ir.config_parameter"].sudo().get_param("database.uuid")
        feed_events = []
        for event in self:
            if event.allday:
                start, end = event.start_date, event.stop_date + timedelta(days=1)
            else:
                start, end = event.start.replace(tzinfo=UTC), event.stop.replace(tzinfo=UTC)
            feed_events.append(
                FeedEvent(
                    id=event.id,
                    uid=event._get_feed_uid(database_uuid),
                    title=event.name,
                    start=start,
                    end=end,
                    all_day=event.allday,
                    created=event.create_date.replace(tzinfo=UTC),
                    updated=event.write_date.replace(tzinfo=UTC),
                    status=event.booking_status,
                    rooms=tuple(room._to_feed_room() for room in event.room_ids if room.is_published),
                    description=event._get_feed_description() if settings["publish_description"] else "",
                    private=event.effective_privacy in HIDDEN_PRIVACIES,
                    busy=event.show_as == "busy",
                    color=event._get_feed_color(),
                    is_recurring_series=event.recurrence_id.base_event_id == event,
                    is_part_of_recurring_series=bool(event.recurrence_id),
                    organizer_name=settings["organizer_name"],
                    organizer_email=settings["organizer_email"],
                )
            )
        return feed_events
