from datetime import timedelta, timezone

from lxml import html as lxml_html

from odoo import api, fields, models
from odoo.tools import SQL, html2plaintext, is_html_empty

from ..booking_feed import CANCELLED, CONFIRMED, TENTATIVE, FeedEvent
from ..booking_feed.records import booking_uid

BOOKING_STATUSES = [
    (TENTATIVE, "Tentative"),
    (CONFIRMED, "Confirmed"),
    (CANCELLED, "Cancelled"),
]
# Odoo's colour indexes (tags, rooms) as the web client draws them; 0 is "no colour".
ODOO_COLORS = [
    None,
    "#ee2d2d",
    "#dc8534",
    "#e8bb1d",
    "#5794dd",
    "#9f628f",
    "#db8865",
    "#41a9a2",
    "#304be0",
    "#ee2f8a",
    "#61c36e",
    "#9872e6",
]
# "Only internal users" is as closed to the outside world as "Private".
HIDDEN_PRIVACIES = ("private", "confidential")


def _as_published(moment):
    """A stored UTC datetime as the feeds publish it: aware, to the second."""
    return moment.replace(tzinfo=timezone.utc, microsecond=0)


class CalendarEvent(models.Model):
    _name = "calendar.event"
    _inherit = ["calendar.event", "calendar.feed.change.mixin"]

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
        default=CONFIRMED,
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
            if not (event.room_ids and event.start and event.stop) or event.booking_status == CANCELLED:
                event.room_conflict_warning = False
                continue
            conflicts = self.search(
                [
                    ("id", "!=", event._origin.id),
                    ("room_ids", "in", event.room_ids._origin.ids),
                    ("booking_status", "!=", CANCELLED),
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

    def _get_feed_changes(self):
        """Only bookings (events with rooms) are published."""
        return self.filtered("room_ids").ids

    # -- publication ---------------------------------------------------------

    @api.model
    def _read_feed_events(self, window, settings, event_ids=None, batch_size=2000):
        """Published bookings overlapping ``window`` as batches of FeedEvent records.

        Read with one SQL query per batch (keyset on id), so a feed of 100k
        bookings never holds 100k ORM records. A booking is published when it
        is active, has a published status and books a published room; timed
        bookings are compared in UTC, all-day ones by their local dates (Odoo
        stores their last day inclusively). ``event_ids`` restricts the read.
        """
        rooms = self.env["calendar.room"].sudo().search([("is_published", "=", True)])
        if not rooms:
            return
        published_rooms = {
            "feed_rooms": {room.id: room._to_feed_room() for room in rooms},
            "order": {room_id: index for index, room_id in enumerate(rooms.ids)},
            "colors": {room.id: room.color for room in rooms},
        }
        database_uuid = self.env["ir.config_parameter"].sudo().get_param("database.uuid")
        after = 0
        while rows := self.env.execute_query_dict(
            self._published_bookings_query(
                window, settings, rooms=rooms, event_ids=event_ids, after=after, limit=batch_size
            )
        ):
            privacy = self._get_effective_privacies(rows)
            yield [
                self._row_to_feed_event(row, privacy[row["id"]], settings, published_rooms, database_uuid)
                for row in rows
            ]
            after = rows[-1]["id"]

    @api.model
    def _published_bookings_query(self, window, settings, *, rooms, event_ids, after, limit):
        """One batch of published bookings, by id after ``after``, with their rooms and tag colours.

        The room condition repeats ``after``: without it PostgreSQL merge-joins
        the room relation from its first row at every batch (2.5M rows read for
        the 50 batches of 100k bookings).
        """
        room_rel, tag_rel = self._fields["room_ids"], self._fields["categ_ids"]
        return SQL(
            """
            SELECT e.id, e.name, e.start, e.stop, e.start_date, e.stop_date, e.allday, e.booking_status,
                   e.create_date, e.write_date, e.show_as, e.description, e.recurrence_id, e.privacy,
                   e.user_id, recurrence.base_event_id = e.id AS is_series_base,
                   ARRAY(SELECT rel.%(room)s FROM %(room_rel)s rel
                          WHERE rel.%(room_event)s = e.id) AS room_ids,
                   ARRAY(SELECT tag.color FROM %(tag_rel)s tags
                           JOIN %(tag_table)s tag ON tag.id = tags.%(tag)s
                          WHERE tags.%(tag_event)s = e.id ORDER BY tag.id) AS tag_colors
              FROM calendar_event e
              LEFT JOIN calendar_recurrence recurrence ON recurrence.id = e.recurrence_id
             WHERE e.active AND e.booking_status = ANY(%(statuses)s) AND e.id > %(after)s
               AND (%(ids)s::int[] IS NULL OR e.id = ANY(%(ids)s::int[]))
               AND EXISTS (SELECT 1 FROM %(room_rel)s rel
                            WHERE rel.%(room_event)s = e.id AND rel.%(room)s = ANY(%(rooms)s)
                              AND rel.%(room_event)s > %(after)s)
               AND ((NOT e.allday AND e.start < %(end)s AND e.stop > %(start)s)
                    OR (e.allday AND e.start_date <= %(last_day)s AND e.stop_date >= %(first_day)s))
             ORDER BY e.id
             LIMIT %(limit)s
            """,
            room_rel=SQL.identifier(room_rel.relation),
            room_event=SQL.identifier(room_rel.column1),
            room=SQL.identifier(room_rel.column2),
            tag_rel=SQL.identifier(tag_rel.relation),
            tag_event=SQL.identifier(tag_rel.column1),
            tag=SQL.identifier(tag_rel.column2),
            tag_table=SQL.identifier(self.env[tag_rel.comodel_name]._table),
            statuses=list(settings.published_statuses),
            after=after,
            rooms=rooms.ids,
            limit=limit,
            ids=list(event_ids) if event_ids is not None else None,
            start=window.start.replace(tzinfo=None),
            end=window.end.replace(tzinfo=None),
            first_day=window.first_day,
            last_day=window.last_day,
        )

    @api.model
    def _get_effective_privacies(self, rows):
        """``{event id: privacy}`` by Odoo's rule for ``effective_privacy``: the event's own, else its
        organizer's default (read once per organizer, not per event); without an organizer, the
        default of new users (``calendar.default_privacy``), so that no booking is more public
        than the calendar's default."""
        Users = self.env["res.users"].sudo()
        organizers = Users.browse({row["user_id"] for row in rows if row["user_id"]})
        defaults = {user.id: user.calendar_default_privacy for user in organizers}
        fallback = Users._default_user_calendar_default_privacy()
        return {row["id"]: row["privacy"] or defaults.get(row["user_id"]) or fallback for row in rows}

    @api.model
    def _row_to_feed_event(self, row, privacy, settings, published_rooms, database_uuid):
        """One row of the published-bookings query as the plain record the feeds render."""
        feed_rooms, room_order = published_rooms["feed_rooms"], published_rooms["order"]
        if row["allday"]:
            start, end = row["start_date"], row["stop_date"] + timedelta(days=1)
        else:
            start, end = _as_published(row["start"]), _as_published(row["stop"])
        room_ids = sorted((rid for rid in row["room_ids"] if rid in feed_rooms), key=room_order.__getitem__)
        colors = [*(row["tag_colors"] or []), *(published_rooms["colors"][rid] for rid in room_ids)]
        description = settings.publish_description and self._html_to_feed_text(row["description"])
        return FeedEvent(
            id=row["id"],
            uid=booking_uid(row["id"], database_uuid),
            title=row["name"],
            start=start,
            end=end,
            all_day=row["allday"],
            created=_as_published(row["create_date"]),
            updated=_as_published(row["write_date"]),
            status=row["booking_status"],
            rooms=tuple(feed_rooms[rid] for rid in room_ids),
            description=description or "",
            private=privacy in HIDDEN_PRIVACIES,
            busy=row["show_as"] == "busy",
            color=next((ODOO_COLORS[i] for i in colors if 0 < (i or 0) < len(ODOO_COLORS)), ""),
            is_recurring_series=bool(row["is_series_base"]),
            is_part_of_recurring_series=row["recurrence_id"] is not None,
            organizer_name=settings.organizer_name,
            organizer_email=settings.organizer_email,
        )

    @staticmethod
    def _html_to_feed_text(description):
        """A description as published text, without contact links.

        Odoo writes the organizer's and attendees' contact details into
        descriptions as mailto:/tel: links; those never leave Odoo.
        """
        if is_html_empty(description):
            return ""
        tree = lxml_html.fragment_fromstring(str(description), create_parent="div")
        for link in tree.xpath("//a[starts-with(@href, 'mailto:') or starts-with(@href, 'tel:')]"):
            link.drop_tree()
        return html2plaintext(lxml_html.tostring(tree, encoding="unicode"), include_references=False).strip()
