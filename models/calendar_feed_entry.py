import json

from odoo import fields, models

from ..booking_feed import FeedEvent, dump_event, render_vevent


class CalendarFeedEntry(models.Model):
    """One booking as the feed last published it, rendered once.

    An entry outlives its booking: when a booking leaves the feed (deleted,
    cancelled, moved, unpublished) its entry becomes a CANCELLED tombstone,
    so subscribers and importers learn it is gone, until the retention
    period ends. The rendered VEVENT and JSON are kept so that feeds are
    assembled from blocks instead of being rendered again.
    """

    _name = "calendar.feed.entry"
    _description = "External Calendar Published Booking"
    _log_access = False
    _order = "start_at, event_id"

    event_id = fields.Integer("Booking ID", required=True, index=True, readonly=True)
    uid = fields.Char("UID", required=True, readonly=True)
    sequence = fields.Integer(readonly=True)
    fingerprint = fields.Char(readonly=True, help="Digest of what subscribers see of the booking.")
    start_at = fields.Datetime(readonly=True, index=True)
    stop_at = fields.Datetime(readonly=True)
    room_codes = fields.Char(readonly=True, help="Codes of the published rooms, as ',A,B,'.")
    title = fields.Char(readonly=True, help="The title as published (Busy for private bookings).")
    status = fields.Char(readonly=True, help="Booking status as published; tombstones keep their last one.")
    change_stamp = fields.Integer(
        readonly=True, index=True, help="Stamp of the build that last changed the entry (sync tokens)."
    )
    removed_at = fields.Datetime(readonly=True, index=True, help="When the booking left the feed.")
    record = fields.Text(readonly=True, help="The published event, as plain data.")
    ics_block = fields.Text("VEVENT", readonly=True)
    json_object = fields.Text("JSON", readonly=True)

    _event_unique = models.Constraint("UNIQUE(event_id)", "A booking has one feed entry.")

    def init(self):
        self.env.cr.execute("CREATE SEQUENCE IF NOT EXISTS calendar_feed_entry_stamp_seq")

    def _next_change_stamp(self):
        """A stamp greater than any before; builds are serialized, so stamps follow commits."""
        self.env.cr.execute("SELECT nextval('calendar_feed_entry_stamp_seq')")
        return self.env.cr.fetchone()[0]

    def _get_feed_event(self):
        self.ensure_one()
        return FeedEvent.from_dict(json.loads(self.record))

    @staticmethod
    def _prepare_values(event, event_fingerprint, bounds, zone, *, removed_at=False, change_stamp=0):
        """Column values of the entry publishing ``event``.

        ``bounds`` are the event's UTC start and end, which all-day bookings
        only have once placed in the calendar's zone.
        """
        return {
            "event_id": event.id,
            "uid": event.uid,
            "sequence": event.sequence,
            "fingerprint": event_fingerprint,
            "start_at": bounds[0].replace(tzinfo=None),
            "stop_at": bounds[1].replace(tzinfo=None),
            "room_codes": "," + ",".join(room.code for room in event.rooms) + ",",
            "title": event.public_title,
            "status": event.status,
            "change_stamp": change_stamp,
            "removed_at": removed_at,
            "record": json.dumps(event.to_dict()),
            "ics_block": render_vevent(event).decode(),
            "json_object": dump_event(event, zone),
        }
