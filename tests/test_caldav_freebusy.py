"""CalDAV's free-busy-query (RFC 4791, 7.10): by the ``caldav`` client and raw."""

from datetime import timedelta, timezone

from odoo.tests import HttpCase, tagged

from ..booking_feed.dav_request import CALDAV
from ..booking_feed.tests.conformance import check_ics
from .common import FeedCase
from .test_caldav import ALL, DEBRIEF, SIM, CalDavRequests


def free_busy_query(start, end):
    return (
        f'<c:free-busy-query xmlns:c="{CALDAV}"><c:time-range start="{start:%Y%m%dT%H%M%SZ}"'
        f' end="{end:%Y%m%dT%H%M%SZ}"/></c:free-busy-query>'
    )


def periods_of(calendar):
    """``[(start, end, FBTYPE)]`` of the only VFREEBUSY of ``calendar``."""
    [component] = calendar.walk("VFREEBUSY")
    lines = component.get("FREEBUSY", [])
    return [(*line.dt, line.params["FBTYPE"]) for line in (lines if isinstance(lines, list) else [lines])]


@tagged("post_install", "-at_install")
class TestCalDavFreeBusy(CalDavRequests, FeedCase, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.token = cls.enable_endpoint()
        cls.set_feed_param("publish_tentative", True)
        cls.book(cls.sim_room, cls.local_time(1, 9), cls.local_time(1, 10))
        cls.book(cls.sim_room, cls.local_time(1, 9, 30), cls.local_time(1, 11), booking_status="tentative")
        cls.book(cls.debriefing, cls.local_time(1, 12), cls.local_time(1, 13))
        cls.book(cls.debriefing, cls.local_time(1, 14), cls.local_time(1, 15), show_as="free")

    def utc(self, days, hour, minute=0):
        return self.local_time(days, hour, minute).replace(tzinfo=timezone.utc)

    def test_the_caldav_client_reads_each_calendars_busy_periods(self):
        start, end = self.utc(1, 0), self.utc(2, 0)
        with self.calendars() as calendars:
            # The client's copy, as it parsed it (its data is no longer the server's bytes).
            answers = {
                str(calendar.url).removeprefix(self.base_url()): calendar.freebusy_request(
                    start, end
                ).icalendar_instance
                for calendar in calendars
            }
        self.assertEqual(
            periods_of(answers[SIM]),
            [(self.utc(1, 9), self.utc(1, 10), "BUSY"), (self.utc(1, 10), self.utc(1, 11), "BUSY-TENTATIVE")],
        )
        self.assertEqual(periods_of(answers[DEBRIEF]), [(self.utc(1, 12), self.utc(1, 13), "BUSY")])
        self.assertEqual(
            periods_of(answers[ALL]),
            [
                (self.utc(1, 9), self.utc(1, 10), "BUSY"),
                (self.utc(1, 10), self.utc(1, 11), "BUSY-TENTATIVE"),
                (self.utc(1, 12), self.utc(1, 13), "BUSY"),
            ],
        )
        [component] = answers[SIM].walk("VFREEBUSY")
        self.assertEqual((component["DTSTART"].dt, component["DTEND"].dt), (start, end))
        self.assertNotIn("METHOD", answers[SIM])

    def test_the_answer_is_the_same_as_freebusy_ics(self):
        start, end = self.utc(1, 0), self.utc(2, 0)
        response = self.dav("REPORT", SIM, free_busy_query(start, end), depth=1)
        self.assertEqual(
            (response.status_code, response.headers["Content-Type"]), (200, "text/calendar; charset=utf-8")
        )
        query = f"token={self.token}&room=TSIM1&from={start:%Y-%m-%dT%H:%M:%SZ}&to={end:%Y-%m-%dT%H:%M:%SZ}"
        published = check_ics(self.url_open(f"/w/api/v2/public_calendar/freebusy.ics?{query}").content)
        self.assertEqual(periods_of(check_ics(response.content)), periods_of(published))

    def test_a_key_reads_free_busy_of_its_rooms_only(self):
        key = self.env["calendar.feed.key"].generate({"name": "Sim", "room_ids": [(6, 0, self.sim_room.ids)]})
        start, end = self.utc(1, 0), self.utc(2, 0)
        self.assertEqual(
            self.dav("REPORT", DEBRIEF, free_busy_query(start, end), token=key["token"]).status_code, 404
        )
        together = self.dav("REPORT", ALL, free_busy_query(start, end), token=key["token"])
        self.assertEqual(
            [period[2] for period in periods_of(check_ics(together.content))], ["BUSY", "BUSY-TENTATIVE"]
        )

    def test_a_range_over_366_days_is_refused_with_its_reason(self):
        start = self.utc(1, 0)
        response = self.dav("REPORT", SIM, free_busy_query(start, start + timedelta(days=367)))
        self.assertEqual(response.status_code, 400)
        self.assertIn("367 days asked for, at most 366", response.text)
