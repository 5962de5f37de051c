import importlib
import json
from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from odoo.tests import new_test_user

from ..booking_feed.tests.conformance import check_ics


def optional_test_dependency(name):
    """The test-only package ``name`` (test-requirements.txt), or None where it is missing.

    Imported when Odoo loads the registry, so a missing one must not stop the
    server: the tests that need it skip instead (see :func:`require`).
    """
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def require(test, **modules):
    """Skip ``test`` unless every module given by name (from :func:`optional_test_dependency`) is there."""
    if missing := sorted(name for name, module in modules.items() if module is None):
        test.skipTest(f"needs {', '.join(missing)}: pip install -r test-requirements.txt")


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
        return moment.astimezone(timezone.utc).replace(tzinfo=None)

    @classmethod
    def book_one_of_each(cls):
        """Tomorrow, a booking of the Sim room and one of Debriefing; the day after, one of both."""
        cls.sim_only = cls.book(cls.sim_room, cls.local_time(1, 9), cls.local_time(1, 10), name="Sim only")
        cls.debrief_only = cls.book(
            cls.debriefing, cls.local_time(1, 11), cls.local_time(1, 12), name="Debrief only"
        )
        cls.both = cls.book(
            cls.sim_room | cls.debriefing, cls.local_time(2, 9), cls.local_time(2, 10), name="Both"
        )

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
            CREATE TRIGGER test_refuse_feed_bodies BEFORE INSERT OR UPDATE ON calendar_feed_segment
               FOR EACH ROW EXECUTE FUNCTION test_refuse_feed_bodies();
        """)

    def mend_builds(self):
        self.env.cr.execute("DROP TRIGGER test_refuse_feed_bodies ON calendar_feed_segment")

    def build(self, now):
        """Rebuild the feed as of ``now`` and return (parsed ICS, parsed JSON)."""
        self.assertTrue(self.feed._rebuild(now), self.feed.last_error)
        return check_ics(self.feed.ics_body.encode()), json.loads(self.feed.json_body)

    @staticmethod
    def titles(calendar):
        return sorted(str(event["SUMMARY"]) for event in calendar.walk("VEVENT"))


class RandomChanges:
    """Seeded random changes to bookings, for tests that follow deltas (mixed in before FeedCase)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.set_feed_param("future_days", 14)
        cls.set_feed_param("publish_tentative", True)
        cls.hidden_room = cls.env["calendar.room"].create(
            {"name": "Hidden", "code": "THIDDEN", "is_published": False}
        )
        cls.today = datetime.now(timezone.utc).replace(tzinfo=None, minute=0, second=0, microsecond=0)

    def random_change(self, rng, bookings):
        rooms = [self.sim_room, self.debriefing, self.hidden_room]
        live = bookings.exists()
        kind = rng.choice(
            [
                "create",
                "create",
                "rename",
                "move",
                "move_out",
                "room",
                "cancel",
                "tentative",
                "delete",
                "exception",
                "restore",
            ]
        )
        if kind == "create" or not live:
            start = self.today + timedelta(days=rng.randint(0, 10), hours=rng.randint(-5, 8))
            name = rng.choice(["OSCE", "Debrief", "BLS course", "ICU sim"])
            room, stop = rng.choice(rooms[:2]), start + timedelta(hours=1)
            if rng.random() < 0.2:
                return bookings | self.book_series(room, start, stop, 3, name=name)
            return bookings | self.book(room, start, stop, name=name)
        booking = rng.choice(live)
        if kind == "rename":
            booking.name = f"{booking.name} v{rng.randint(2, 9)}"
        elif kind == "move":
            shift = timedelta(days=rng.randint(-2, 3), hours=rng.randint(-3, 3))
            booking.write({"start": booking.start + shift, "stop": booking.stop + shift})
        elif kind == "move_out":
            booking.write(
                {"start": booking.start + timedelta(days=40), "stop": booking.stop + timedelta(days=40)}
            )
        elif kind == "room":
            booking.room_ids = rng.choice(rooms)
        elif kind in ("cancel", "tentative"):
            booking.booking_status = "cancelled" if kind == "cancel" else "tentative"
        elif kind == "restore":
            booking.booking_status = "confirmed"
        elif kind == "delete":
            booking.unlink()
        elif kind == "exception" and booking.recurrence_id:
            booking.with_context(recurrence_update="self_only").write(
                {
                    "name": "Moved occurrence",
                    "start": booking.start + timedelta(hours=2),
                    "stop": booking.stop + timedelta(hours=2),
                }
            )
        return bookings
