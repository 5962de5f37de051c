import json
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from odoo.tests import new_test_user

from ..booking_feed.tests.conformance import check_ics


class RoomBookingCase:
    """Rooms and users shared by the test classes (mixed into an Odoo test case)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        Room = cls.env["calendar.room"]
        cls.sim_room = Room.create({"name": "Sim Room 1", "code": "TSIM1", "location": "Building A"})
        cls.debriefing = Room.create({"name": "Debriefing", "code": "TDEBRIEF"})
        cls.employee = new_test_user(cls.env, login="room_employee", groups="base.group_user")
        cls.admin = new_test_user(cls.env, login="room_admin", groups="base.group_user,base.group_system")

    @classmethod
    def book(cls, rooms, start, stop, name="Booking", **values):
        return cls.env["calendar.event"].create(
            {"name": name, "start": start, "stop": stop, "room_ids": [(6, 0, rooms.ids)], **values}
        )

    @classmethod
    def book_series(cls, rooms, start, stop, count, *, name="Series", rrule_type="daily", **values):
        """A recurring booking of ``count`` occurrences (weekly ones need a weekday in ``values``)."""
        return cls.book(
            rooms,
            start,
            stop,
            name=name,
            recurrency=True,
            rrule_type=rrule_type,
            interval=1,
            end_type="count",
            count=count,
            **values,
        )


def at(day, hour, minute=0):
    """A UTC datetime on March 2026, which keeps the test data readable."""
    return datetime(2026, 3, day, hour, minute)


class FeedCase(RoomBookingCase):
    """Feed settings helpers on top of the shared rooms and users."""

    feed_zone = "Europe/Budapest"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Rooms of other data (demo, earlier tests) must not leak into these feeds.
        cls.env["calendar.room"].search([("id", "not in", (cls.sim_room | cls.debriefing).ids)]).write(
            {"is_published": False}
        )
        cls.set_feed_param("tz", cls.feed_zone)
        cls.feed = cls.env["calendar.feed"]._get_singleton()

    @classmethod
    def local_date(cls, days=0):
        """The feed's local day ``days`` after today, on the real clock (for tests over HTTP)."""
        return datetime.now(ZoneInfo(cls.feed_zone)).date() + timedelta(days=days)

    @classmethod
    def local_time(cls, days=0, hour=12, minute=0):
        """A wall-clock time of that local day, as Odoo stores it (naive UTC)."""
        moment = datetime.combine(cls.local_date(days), time(hour, minute), tzinfo=ZoneInfo(cls.feed_zone))
        return moment.astimezone(UTC).replace(tzinfo=None)

    @classmethod
    def enable_endpoint(cls):
        """Turn the endpoint on and return the token of its links."""
        cls.set_feed_param("enabled", True)
        return cls.env["calendar.feed"]._get_token()

    @classmethod
    def set_feed_param(cls, key, value):
        cls.env["ir.config_parameter"].sudo().set_param(f"external_calendar_api.{key}", value)

    def break_builds(self):
        """From now on PostgreSQL refuses to store feed bodies, as a full disk would."""
        self.env.flush_all()
        self.env.cr.execute("""
            CREATE FUNCTION test_refuse_feed_bodies() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION 'no space left on device'; END $$;
            CREATE TRIGGER test_refuse_feed_bodies BEFORE UPDATE OF ics_body ON calendar_feed
               FOR EACH ROW EXECUTE FUNCTION test_refuse_feed_bodies();
        """)

    def mend_builds(self):
        self.env.cr.execute("DROP TRIGGER test_refuse_feed_bodies ON calendar_feed")

    def build(self, now):
        """Rebuild the feed as of ``now`` and return (parsed ICS, parsed JSON)."""
        self.assertTrue(self.feed._rebuild(now), self.feed.last_error)
        return check_ics(self.feed.ics_body.encode()), json.loads(self.feed.json_body)

    @staticmethod
    def titles(calendar):
        return sorted(str(event["SUMMARY"]) for event in calendar.walk("VEVENT"))
