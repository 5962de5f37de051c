"""Busy-only keys: free/busy time in full, every booking as "Busy" on every other route."""

import json

from lxml import etree

from odoo.tests import HttpCase, tagged

from ..booking_feed.dav_request import CALDAV
from ..booking_feed.tests.conformance import check_ics
from .common import FeedCase
from .test_caldav import ALL, NS, SIM, CalDavRequests, calendar_query, propfind, sync_collection

FEED = "/w/api/v2/public_calendar"
#: What a busy-only key must never read.
SECRETS = ("Confidential merger", "Board room plans", "Dr. Organizer", "organizer@example.com")
MULTIGET = (
    '<c:calendar-multiget xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav">'
    "<d:prop><d:getetag/><c:calendar-data/></d:prop><d:href>{href}</d:href></c:calendar-multiget>"
)


@tagged("post_install", "-at_install")
class TestBusyOnlyKeys(CalDavRequests, FeedCase, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.main_token = cls.enable_endpoint()
        cls.set_feed_param("publish_description", True)
        cls.set_feed_param("organizer_name", "Dr. Organizer")
        cls.set_feed_param("organizer_email", "organizer@example.com")
        cls.booking = cls.book(
            cls.sim_room,
            cls.local_time(1, 9),
            cls.local_time(1, 10),
            name="Confidential merger",
            description="<p>Board room plans</p>",
        )
        Key = cls.env["calendar.feed.key"]
        cls.token = Key.generate({"name": "Website", "access": "busy"})["token"]
        cls.limited_token = Key.generate(
            {"name": "Partner", "access": "busy", "room_ids": [(6, 0, cls.sim_room.ids)]}
        )["token"]

    def get(self, path, token=None):
        separator = "&" if "?" in path else "?"
        return self.url_open(f"{path}{separator}token={token or self.token}", allow_redirects=False)

    def assertBusyOnly(self, where, response):
        self.assertIn(response.status_code, (200, 207), where)
        for secret in SECRETS:
            self.assertNotIn(secret, response.text, where)
        self.assertIn("Busy", response.text, where)

    def test_the_main_link_still_reads_everything(self):
        response = self.get(f"{FEED}.ics", self.main_token)
        for secret in SECRETS:
            self.assertIn(secret, response.text)

    def test_every_feed_route_shows_bookings_as_busy(self):
        since = {
            token: self.get(f"{FEED}.json?room=TSIM1", token).json()["syncToken"] for token in self.tokens()
        }
        self.booking.write({"name": "Confidential merger (moved)"})
        for token in self.tokens():
            for path in (
                f"{FEED}.ics",
                f"{FEED}.ics?room=TSIM1",
                f"{FEED}/import.ics",
                f"{FEED}.json",
                f"{FEED}.json?limit=1",
                f"{FEED}.json?since={since[token]}&room=TSIM1",
                "/w/api/v2/public-calendar.json",
                f"{FEED}/next.json?limit=5",
                f"{FEED}/next.json?q=bus",
            ):
                with self.subTest(path=path, limited=token == self.limited_token):
                    response = self.get(path, token)
                    self.assertBusyOnly(path, response)
                    if path.endswith(".ics") or ".ics?" in path:
                        event = check_ics(response.content).walk("VEVENT")[0]
                        self.assertEqual((str(event["SUMMARY"]), str(event["CLASS"])), ("Busy", "PRIVATE"))
                        self.assertNotIn("DESCRIPTION", event)
                        self.assertNotIn("ORGANIZER", event)

    def tokens(self):
        return (self.token, self.limited_token)

    def test_rooms_and_displays_name_no_booking(self):
        for path in (f"{FEED}/rooms.json", "/w/display", "/w/display?room=TSIM1"):
            with self.subTest(path=path):
                response = self.get(path)
                self.assertEqual(response.status_code, 200)
                for secret in SECRETS:
                    self.assertNotIn(secret, response.text)

    def test_a_title_search_finds_nothing_a_real_title_would(self):
        for path in (f"{FEED}.json?q=Confidential", f"{FEED}/next.json?q=merger"):
            with self.subTest(path=path):
                self.assertEqual(self.get(path).json()["events"], [])
        self.assertEqual(len(self.get(f"{FEED}.json?q=BUSY").json()["events"]), 1)

    def test_free_busy_and_the_finder_are_read_in_full(self):
        day = self.local_date(1).isoformat()
        for path in (f"{FEED}/freebusy.ics?from={day}&to={day}", f"{FEED}/free.json?from={day}&to={day}"):
            with self.subTest(path=path):
                self.assertEqual(self.get(path).content, self.get(path, self.main_token).content)

    def test_caldav_objects_are_busy(self):
        href = f"{SIM}{self.booking.id}.ics"
        listed = etree.fromstring(self.dav("PROPFIND", SIM, propfind("d:getetag"), depth=1).content)
        etag = listed.findtext(f".//d:response[d:href='{href}']//d:getetag", namespaces=NS)
        got = self.dav("GET", href)
        self.assertBusyOnly("GET object", got)
        self.assertEqual(got.headers["ETag"], etag, "the listed ETag is that of the busy object")
        with_data = f'<d:getetag/><c:calendar-data xmlns:c="{CALDAV}"/>'
        for where, response in (
            ("GET all", self.dav("GET", ALL)),
            ("GET room", self.dav("GET", SIM)),
            ("query", self.dav("REPORT", SIM, calendar_query().replace("<d:getetag/>", with_data), depth=1)),
            ("multiget", self.dav("REPORT", SIM, MULTIGET.format(href=href), depth=1)),
            ("sync", self.dav("REPORT", ALL, sync_collection().replace("<d:getetag/>", with_data))),
        ):
            self.assertBusyOnly(where, response)

    def test_the_new_key_dialog_makes_busy_only_keys(self):
        wizard = self.env["calendar.feed.key.wizard"].create({"name": "Public website", "access": "busy"})
        links = json.loads(wizard.action_generate()["context"]["external_calendar_key_links"])
        key = self.env["calendar.feed.key"].search([("name", "=", "Public website")])
        self.assertEqual(key.access, "busy")
        self.assertTrue(key._get_audience().busy_only)
        self.assertIn("token=", links["ics_url"])
        self.assertEqual(self.env["calendar.feed.key"].search([("name", "=", "Website")]).access, "busy")
        self.assertEqual(self.env["calendar.feed.key.wizard"].create({"name": "x"}).access, "full")
