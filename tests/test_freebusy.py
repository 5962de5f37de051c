import gzip
from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from odoo.tests import HttpCase, tagged

from ..booking_feed.tests.conformance import check_ics
from .common import FeedCase

FEED = "/w/api/v2/public_calendar"
FREEBUSY = f"{FEED}/freebusy.ics"
FREE = f"{FEED}/free.json"


@tagged("post_install", "-at_install")
class TestFreeBusy(FeedCase, HttpCase):
    """freebusy.ics and free.json: periods from the stored entries, by the key's rooms."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.token = cls.enable_endpoint()
        cls.set_feed_param("publish_tentative", True)
        cls.sim_room.capacity = 12
        cls.debriefing.capacity = 6
        book = cls.book
        cls.confirmed = book(cls.sim_room, cls.local_time(1, 9), cls.local_time(1, 10), name="OSCE")
        book(cls.sim_room, cls.local_time(1, 9, 30), cls.local_time(1, 11), booking_status="tentative")
        book(cls.sim_room, cls.local_time(1, 13), cls.local_time(1, 14), show_as="free", name="Shown as free")
        book(cls.sim_room, cls.local_time(1, 15), cls.local_time(1, 16), booking_status="cancelled")
        book(cls.debriefing, cls.local_time(1, 10), cls.local_time(1, 12), name="Debrief")

    def get(self, path, params=(), **headers):
        query = "&".join(f"{name}={value}" for name, value in [("token", self.token), *params])
        return self.url_open(f"{path}?{query}", headers=headers, allow_redirects=False)

    def utc(self, days, hour, minute=0):
        return self.local_time(days, hour, minute).replace(tzinfo=timezone.utc)

    def tomorrow(self):
        day = self.local_date(1).isoformat()
        return [("from", day), ("to", day)]

    def freebusy_of(self, response):
        """``{room code: [(start, end, FBTYPE)]}`` of a freebusy.ics answer, checked for RFC 5545."""
        self.assertEqual(response.status_code, 200, response.text)
        self.assertEqual(response.headers["Content-Type"], "text/calendar; charset=utf-8")
        rooms = {}
        for component in check_ics(response.content).walk("VFREEBUSY"):
            lines = component.get("FREEBUSY", [])
            lines = lines if isinstance(lines, list) else [lines]
            code = str(component["UID"]).split("-")[1]
            rooms[code] = [(*line.dt, line.params["FBTYPE"]) for line in lines]
        return rooms

    def test_confirmed_wins_over_tentative_and_free_or_cancelled_bookings_are_free(self):
        rooms = self.freebusy_of(self.get(FREEBUSY, self.tomorrow()))
        self.assertEqual(
            rooms["TSIM1"],
            [
                (self.utc(1, 9), self.utc(1, 10), "BUSY"),
                (self.utc(1, 10), self.utc(1, 11), "BUSY-TENTATIVE"),
            ],
        )
        self.assertEqual(rooms["TDEBRIEF"], [(self.utc(1, 10), self.utc(1, 12), "BUSY")])

    def test_the_range_is_the_local_days_asked_and_by_default_the_window(self):
        response = self.get(FREEBUSY, self.tomorrow())
        (first, _second) = check_ics(response.content).walk("VFREEBUSY")
        zone = ZoneInfo(self.feed_zone)
        day = self.local_date(1)
        self.assertEqual(first["DTSTART"].dt, datetime.combine(day, time.min, tzinfo=zone))
        self.assertEqual(first["DTEND"].dt, datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone))
        whole = check_ics(self.get(FREEBUSY).content).walk("VFREEBUSY")[0]
        window = self.env["calendar.feed"]._get_settings().window(datetime.now(timezone.utc))
        self.assertEqual((whole["DTSTART"].dt, whole["DTEND"].dt), (window.start, window.end))

    def test_a_range_over_366_days_is_a_400_with_its_reason(self):
        response = self.get(FREEBUSY, [("from", "2026-01-01"), ("to", "2027-01-02")])
        self.assertEqual(response.status_code, 400)
        self.assertEqual(response.headers["Content-Type"], "text/plain; charset=utf-8")
        self.assertIn("367 days asked for, at most 366", response.text)
        response = self.get(FREE, [("from", "2026-01-01"), ("to", "2027-01-02")])
        self.assertEqual(
            response.json()["error"]["message"].split(";")[0], "from, to: 367 days asked for, at most 366"
        )

    def test_a_key_reads_its_rooms_only_and_unknown_tokens_get_the_404(self):
        key = self.env["calendar.feed.key"].generate({"name": "Sim", "room_ids": [(6, 0, self.sim_room.ids)]})
        self.token = key["token"]
        self.assertEqual(list(self.freebusy_of(self.get(FREEBUSY, self.tomorrow()))), ["TSIM1"])
        self.assertEqual(
            [room["code"] for room in self.get(FREE, self.tomorrow()).json()["rooms"]], ["TSIM1"]
        )
        self.assertEqual(self.get(FREEBUSY, [("room", "TDEBRIEF")]).status_code, 400)
        unknown = self.url_open("/w/api/v2/no_such_route.ics")
        for path in (FREEBUSY, FREE):
            self.token = "not-a-token"
            response = self.get(path, self.tomorrow())
            self.assertEqual((response.status_code, response.text), (404, unknown.text))

    def test_room_narrows_freebusy(self):
        rooms = self.freebusy_of(self.get(FREEBUSY, [*self.tomorrow(), ("room", "TDEBRIEF")]))
        self.assertEqual(list(rooms), ["TDEBRIEF"])

    def test_etag_answers_304_and_gzip_is_offered(self):
        for path, hour in ((FREEBUSY, 17), (FREE, 19)):
            with self.subTest(path=path):
                first = self.get(path, self.tomorrow())
                again = self.get(path, self.tomorrow(), **{"If-None-Match": first.headers["ETag"]})
                self.assertEqual((again.status_code, again.content), (304, b""))
                self.book(self.sim_room, self.local_time(1, hour), self.local_time(1, hour + 1))
                changed = self.get(path, self.tomorrow(), **{"If-None-Match": first.headers["ETag"]})
                self.assertEqual(changed.status_code, 200)
        # gzip for answers large enough to pay: a whole window of many rooms' periods.
        for hour in range(6, 20):
            self.book(self.debriefing, self.local_time(2, hour), self.local_time(2, hour, 30))
        plain = self.get(FREEBUSY, **{"Accept-Encoding": "identity"})
        url = f"{self.base_url()}{FREEBUSY}?token={self.token}"
        packed = self.opener.request("GET", url, headers={"Accept-Encoding": "gzip"}, stream=True, timeout=10)
        self.assertEqual(packed.headers["Content-Encoding"], "gzip")
        self.assertEqual(gzip.decompress(packed.raw.read(decode_content=False)), plain.content)
        self.assertNotEqual(packed.headers["ETag"], plain.headers["ETag"])

    def test_free_json_offers_rooms_with_the_capacity_and_free_time_asked(self):
        params = [("from", self.utc(1, 8).isoformat()), ("to", self.utc(1, 12).isoformat())]
        answer = self.get(FREE, [*params, ("minutes", "90")]).json()
        self.assertEqual(answer["timeZone"], self.feed_zone)
        self.assertEqual((answer["from"], answer["to"]), (self.text(1, 8), self.text(1, 12)))
        self.assertEqual(
            answer["rooms"],
            [
                {
                    "code": "TDEBRIEF", "name": "Debriefing", "location": "", "capacity": 6,
                    "freeThroughout": False, "free": [{"start": self.text(1, 8), "end": self.text(1, 10)}],
                },
                {
                    "code": "TSIM1", "name": "Sim Room 1", "location": "Building A", "capacity": 12,
                    "freeThroughout": False, "free": [],
                },
            ],
        )  # fmt: skip
        by_capacity = self.get(FREE, [*params, ("capacity", "8")]).json()["rooms"]
        self.assertEqual([(room["code"], room["free"]) for room in by_capacity], [
            ("TSIM1", [{"start": self.text(1, 8), "end": self.text(1, 9)},
                       {"start": self.text(1, 11), "end": self.text(1, 12)}])
        ])  # fmt: skip

    def test_rooms_free_throughout_come_first_then_the_longest_free_interval(self):
        params = [("from", self.utc(1, 11).isoformat()), ("to", self.utc(1, 13).isoformat())]
        rooms = self.get(FREE, params).json()["rooms"]
        self.assertEqual([(room["code"], room["freeThroughout"]) for room in rooms], [
            ("TSIM1", True), ("TDEBRIEF", False)
        ])  # fmt: skip
        self.assertEqual(rooms[0]["free"], [{"start": self.text(1, 11), "end": self.text(1, 13)}])

    def test_free_json_needs_from_and_to_and_checks_its_numbers(self):
        for params, reason in (
            ([("to", "2026-03-05")], "from: required"),
            ([*self.tomorrow(), ("minutes", "0")], "minutes: '0' is not a whole number from 1 to 527040"),
            ([*self.tomorrow(), ("capacity", "-1")], "capacity: '-1' is not a whole number from 0 to 100000"),
        ):
            with self.subTest(params=params):
                response = self.get(FREE, params)
                self.assertEqual(response.status_code, 400)
                self.assertTrue(response.json()["error"]["message"].startswith(reason), response.text)

    def text(self, days, hour):
        return self.utc(days, hour).strftime("%Y-%m-%dT%H:%M:%SZ")


@tagged("post_install", "-at_install")
class TestOpeningHours(FeedCase, HttpCase):
    """Outside its opening hours (Odoo's resource.calendar, with leaves) a room is busy and never offered."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.token = cls.enable_endpoint()
        # Open 08:00-18:00 local every day of the week, so that the test holds on any weekday.
        attendances = [
            (0, 0, {"name": f"Day {day}", "dayofweek": str(day), "hour_from": 8, "hour_to": 18})
            for day in range(7)
        ]
        cls.hours = cls.env["resource.calendar"].create(
            {"name": "Sim centre hours", "tz": cls.feed_zone, "attendance_ids": attendances}
        )
        cls.env["resource.calendar.leaves"].create(
            {
                "name": "Staff meeting",
                "calendar_id": cls.hours.id,
                "date_from": cls.local_time(1, 12),
                "date_to": cls.local_time(1, 13),
            }
        )
        cls.sim_room.write({"opening_hours_id": cls.hours.id, "capacity": 10})
        cls.debriefing.capacity = 10
        cls.book(cls.sim_room, cls.local_time(1, 9), cls.local_time(1, 10))

    def utc(self, days, hour):
        return self.local_time(days, hour).replace(tzinfo=timezone.utc)

    def text(self, days, hour):
        return self.utc(days, hour).strftime("%Y-%m-%dT%H:%M:%SZ")

    def test_outside_opening_hours_and_during_leaves_a_room_is_busy_unavailable(self):
        day = self.local_date(1).isoformat()
        response = self.url_open(f"{FREEBUSY}?token={self.token}&from={day}&to={day}")
        rooms = {}
        for component in check_ics(response.content).walk("VFREEBUSY"):
            lines = component.get("FREEBUSY", [])
            rooms[str(component["CONTACT"])] = [
                (*line.dt, line.params["FBTYPE"]) for line in (lines if isinstance(lines, list) else [lines])
            ]
        self.assertEqual(
            rooms["Sim Room 1"],
            [
                (self.utc(1, 0), self.utc(1, 8), "BUSY-UNAVAILABLE"),
                (self.utc(1, 9), self.utc(1, 10), "BUSY"),
                (self.utc(1, 12), self.utc(1, 13), "BUSY-UNAVAILABLE"),
                (self.utc(1, 18), self.utc(2, 0), "BUSY-UNAVAILABLE"),
            ],
        )
        self.assertEqual(rooms["Debriefing"], [], "without opening hours a room is open all the time")

    def test_the_finder_never_offers_closed_time(self):
        query = f"from={self.text(1, 6)}&to={self.text(1, 20)}&minutes=60"
        rooms = self.url_open(f"{FREE}?token={self.token}&{query}").json()["rooms"]
        self.assertEqual(
            [(room["code"], room["freeThroughout"], room["free"]) for room in rooms],
            [
                ("TDEBRIEF", True, [{"start": self.text(1, 6), "end": self.text(1, 20)}]),
                (
                    "TSIM1",
                    False,
                    [
                        {"start": self.text(1, 8), "end": self.text(1, 9)},
                        {"start": self.text(1, 10), "end": self.text(1, 12)},
                        {"start": self.text(1, 13), "end": self.text(1, 18)},
                    ],
                ),
            ],
        )

    def add_a_leave(self):
        self.env["resource.calendar.leaves"].create(
            {
                "name": "Closed",
                "calendar_id": self.hours.id,
                "date_from": self.local_time(1, 15),
                "date_to": self.local_time(1, 16),
            }
        )

    def remove_a_leave(self):
        self.env["resource.calendar.leaves"].search([("calendar_id", "=", self.hours.id)])[:1].unlink()

    def give_debriefing_opening_hours_or_take_them(self):
        self.debriefing.opening_hours_id = False if self.debriefing.opening_hours_id else self.hours

    def shorten_the_hours(self):
        self.hours.attendance_ids[:1].hour_to -= 1

    def test_a_change_to_opening_hours_or_rooms_is_a_new_etag(self):
        day = self.local_date(1).isoformat()
        for path in (
            f"{FREEBUSY}?token={self.token}&from={day}&to={day}",
            f"{FREE}?token={self.token}&from={day}&to={day}",
        ):
            for change in (
                self.add_a_leave,
                self.remove_a_leave,
                self.give_debriefing_opening_hours_or_take_them,
                self.shorten_the_hours,
            ):
                with self.subTest(path=path, change=change.__name__):
                    etag = self.url_open(path).headers["ETag"]
                    self.assertEqual(self.url_open(path, headers={"If-None-Match": etag}).status_code, 304)
                    change()
                    self.env.flush_all()
                    self.assertEqual(self.url_open(path, headers={"If-None-Match": etag}).status_code, 200)
