import gzip
import json
import logging
import time
from email.utils import parsedate_to_datetime

from odoo.tests import HttpCase, tagged
from odoo.tools import mute_logger

from ..booking_feed.tests.conformance import check_ics
from .common import FeedCase

FEED = "/w/api/v2/public_calendar"
ICS = f"{FEED}.ics"
JSON = f"{FEED}.json"
IMPORT = f"{FEED}/import.ics"
OPENAPI = "/w/api/v2/openapi.yml"


@tagged("post_install", "-at_install")
class TestFeedRoutes(FeedCase, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.token = cls.enable_endpoint()

    def get(self, path, **kwargs):
        return self.url_open(path, allow_redirects=False, **kwargs)

    def assertSameAsUnknownPath(self, response):
        unknown = self.get("/w/api/v2/no_such_route.ics")
        self.assertEqual(response.status_code, 404)
        self.assertEqual(response.text, unknown.text)
        self.assertEqual(response.headers.get("Content-Type"), unknown.headers.get("Content-Type"))

    def test_ics_feed_answers_with_a_valid_calendar(self):
        self.book(self.sim_room, self.local_time(1, 9), self.local_time(1, 10), name="OSCE, station 1; day 2")
        response = self.get(f"{ICS}?token={self.token}")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.headers["Content-Type"], "text/calendar; charset=utf-8")
        calendar = check_ics(response.content)
        self.assertIn("OSCE, station 1; day 2", [str(e["SUMMARY"]) for e in calendar.walk("VEVENT")])

    def test_json_feed_answers_on_both_spellings_and_with_a_bearer_token(self):
        self.book(self.sim_room, self.local_time(1, 9), self.local_time(1, 10), name="OSCE")
        for response in (
            self.get(f"{JSON}?token={self.token}"),
            self.get(f"/w/api/v2/public-calendar.json?token={self.token}"),
            self.get(JSON, headers={"Authorization": f"Bearer {self.token}"}),
        ):
            self.assertEqual(response.status_code, 200)
            self.assertEqual(response.headers["Content-Type"], "application/json; charset=utf-8")
            titles = [event["activity"]["title"] for event in json.loads(response.content)["events"]]
            self.assertIn("OSCE", titles)

    def test_no_subscription_shows_a_cancellation_and_the_download_for_import_does(self):
        key = self.env["calendar.feed.key"].generate(
            {"name": "Desk", "room_ids": [(6, 0, self.sim_room.ids)]}
        )
        gone = self.book(self.sim_room, self.local_time(1, 9), self.local_time(1, 10), name="gone")
        called_off = self.book(
            self.sim_room, self.local_time(1, 11), self.local_time(1, 12), name="called off"
        )
        self.get(f"{ICS}?token={self.token}")  # published once, so both leave the feed
        gone.unlink()
        called_off.booking_status = "cancelled"
        subscriptions = [
            f"{ICS}?token={self.token}",
            f"{ICS}?token={self.token}&room=TSIM1",
            f"{ICS}?token={key['token']}",
            f"{ICS}?token={self.token}&from={self.local_date(1)}",
        ]
        for path in subscriptions:
            with self.subTest(path=path):
                response = self.get(path)
                self.assertEqual(response.status_code, 200)
                self.assertNotIn(b"STATUS:CANCELLED", response.content)
                titles = [str(e["SUMMARY"]) for e in check_ics(response.content).walk("VEVENT")]
                self.assertFalse({"gone", "called off"} & set(titles))
        downloads = [f"{IMPORT}?token={self.token}", f"{IMPORT}?token={self.token}&room=TSIM1"]
        for path in [*downloads, f"{IMPORT}?token={key['token']}"]:
            with self.subTest(path=path):
                response = self.get(path)
                self.assertEqual(response.status_code, 200)
                self.assertTrue(response.headers["Content-Disposition"].startswith("attachment; filename="))
                statuses = {
                    str(e["SUMMARY"]): str(e["STATUS"]) for e in check_ics(response.content).walk("VEVENT")
                }
                self.assertEqual((statuses["gone"], statuses["called off"]), ("CANCELLED", "CANCELLED"))
        self.assertSameAsUnknownPath(self.get(f"{IMPORT}?token=wrong"))
        self.assertEqual(self.get(f"{IMPORT}?token={self.token}&room=NOPE").status_code, 400)

    def test_wrong_missing_or_malformed_tokens_get_the_unknown_path_404(self):
        for path, headers in [
            (ICS, {}),
            (f"{ICS}?token=", {}),
            (f"{ICS}?token=not-the-token", {}),
            (f"{JSON}?token={self.token[:-2]}", {}),
            (JSON, {"Authorization": "Bearer wrong"}),
            (JSON, {"Authorization": f"Basic {self.token}"}),
        ]:
            with self.subTest(path=path, headers=headers):
                self.assertSameAsUnknownPath(self.get(path, headers=headers))

    def test_disabled_endpoint_gets_the_unknown_path_404(self):
        self.set_feed_param("enabled", False)
        self.assertSameAsUnknownPath(self.get(f"{ICS}?token={self.token}"))
        self.assertSameAsUnknownPath(self.get(f"{JSON}?token={self.token}"))

    def test_old_token_stops_working_after_rotation(self):
        old = self.token
        self.assertEqual(self.get(f"{ICS}?token={old}").status_code, 200)
        new = self.env["calendar.feed"]._rotate_token()
        self.assertSameAsUnknownPath(self.get(f"{ICS}?token={old}"))
        self.assertEqual(self.get(f"{ICS}?token={new}").status_code, 200)

    def test_request_log_never_holds_a_secret(self):
        key_token = self.env["calendar.feed.key"].generate({"name": "Desk"})["token"]
        requests = [
            (f"{ICS}?token={self.token}", 200),
            (f"/w/api/v2/public-calendar.json?room=TSIM1&token={key_token}", 200),
            (f"/w/display?token={self.token}&room=TSIM1", 200),
            (f"{ICS}?token={self.token[:-2]}", 404),  # almost the secret is almost a leak
        ]
        # The level as a number: Odoo names its RUNBOT level (25) "INFO" too.
        with self.assertLogs("werkzeug", logging.INFO) as logged:
            for path, status in requests:
                self.assertEqual(self.get(path).status_code, status, path)
            # Without a session the consent redirects to the login page, its query URL-encoded in
            # the redirect's (followed here, so both lines are logged).
            consent_path = f"/external_calendar_api/push/consent?code={key_token}&state={self.token}"
            consent = self.url_open(consent_path)
            self.assertIn("/web/login", consent.url)
        lines = "\n".join(logged.output)
        for secret in (self.token, self.token[:-2], key_token):
            self.assertNotIn(secret, lines)
        self.assertEqual(lines.count("token=[redacted]"), len(requests))
        self.assertIn("code=[redacted]&state=[redacted]", lines)
        self.assertIn("code%3D[redacted]%26state%3D[redacted]", lines)

    def test_options_answer_what_a_route_allows_and_are_not_uses(self):
        Usage = self.env["calendar.feed.usage"]
        logged = Usage.search_count([])
        for path in (ICS, IMPORT, "/w/display"):
            with self.subTest(path=path):
                response = self.url_open(f"{path}?token={self.token}", method="OPTIONS")
                self.assertEqual(response.status_code, 204, response.text)
                self.assertEqual(response.headers["Allow"], "GET, HEAD")
                self.assertEqual(response.content, b"")
                self.assertNotIn("Content-Type", response.headers)
                wrong = self.url_open(f"{path}?token=wrong", method="OPTIONS")
                self.assertEqual(wrong.status_code, 404)
        preflight = self.url_open(JSON, method="OPTIONS", headers={"Origin": "https://example.com"})
        self.assertEqual(preflight.status_code, 204)  # JSON routes keep Odoo's CORS preflight
        self.assertEqual(preflight.headers["Access-Control-Allow-Origin"], "*")
        self.assertEqual(Usage.search_count([]), logged)

    def test_no_answer_of_any_route_sets_a_cookie(self):
        routes = [ICS, JSON, "/w/api/v2/public-calendar.json", f"{FEED}/rooms.json", f"{FEED}/next.json"]
        bad_parameter = {ICS: "room=NOPE"}
        answers = []
        self.break_builds()  # the first build fails: 503
        with mute_logger("odoo.addons.external_calendar_api.models.calendar_feed", "odoo.sql_db"):
            answers += [(route, 503, self.get(f"{route}?token={self.token}")) for route in routes]
        self.mend_builds()
        for route in routes:
            # next.json changes with each minute: a pair that straddles one is taken again, once.
            for _attempt in range(2):
                ok = self.get(f"{route}?token={self.token}")
                again = self.get(f"{route}?token={self.token}", headers={"If-None-Match": ok.headers["ETag"]})
                if again.status_code != 200 or again.headers["ETag"] == ok.headers["ETag"]:
                    break
            answers += [
                (route, 200, ok),
                (route, 304, again),
                (route, 400, self.get(f"{route}?token={self.token}&{bad_parameter.get(route, 'unknown=1')}")),
                (route, 404, self.get(f"{route}?token=wrong")),
            ]
        answers += [(OPENAPI, 200, self.get(OPENAPI)), (OPENAPI, 404, self.get(f"{OPENAPI}x"))]
        for route, status, response in answers:
            with self.subTest(route=route, status=status):
                self.assertEqual(response.status_code, status, response.text)
                self.assertNotIn("Set-Cookie", response.headers)

    def test_change_is_served_at_the_next_request(self):
        self.get(f"{ICS}?token={self.token}")
        self.book(self.debriefing, self.local_time(1, 9), self.local_time(1, 10), name="just booked")
        self.assertIn("just booked", self.get(f"{ICS}?token={self.token}").text)


@tagged("post_install", "-at_install")
class TestFeedSettingsPage(FeedCase, HttpCase):
    def test_admin_enables_the_endpoint_on_the_settings_page(self):
        self.set_feed_param("enabled", False)
        self.start_tour("/odoo", "external_calendar_settings_tour", login="room_admin")
        self.assertTrue(self.env["ir.config_parameter"].get_param("external_calendar_api.enabled"))
        settings = self.env["res.config.settings"].create({})
        path = settings.external_calendar_ics_url.removeprefix(settings.get_base_url())
        response = self.url_open(path)
        self.assertEqual(response.status_code, 200)
        check_ics(response.content)


@tagged("post_install", "-at_install")
class TestIcsHttp(FeedCase, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.token = cls.enable_endpoint()
        for key, value in (("past_days", 730), ("future_days", 730)):
            cls.set_feed_param(key, value)
        # Bookings on local days around today, since requests use the real clock.
        cls.sim_booking = cls.book(
            cls.sim_room, cls.local_time(0, 12), cls.local_time(0, 13), name="sim booking"
        )
        cls.debrief_booking = cls.book(
            cls.debriefing, cls.local_time(2, 12), cls.local_time(2, 13), name="debrief"
        )

    def get(self, query="", **headers):
        return self.url_open(f"{ICS}?token={self.token}{query}", headers=headers, allow_redirects=False)

    def titles(self, response):
        self.assertEqual(response.status_code, 200, response.text)
        return sorted(str(event["SUMMARY"]) for event in check_ics(response.content).walk("VEVENT"))

    def test_validators_and_cache_headers(self):
        response = self.get()
        self.assertRegex(response.headers["ETag"], r'^"[0-9a-f]{32}(-gzip)?"$')  # strong, per coding
        self.assertTrue(response.headers["Last-Modified"].endswith("GMT"))
        self.assertIn("max-age=3600", response.headers["Cache-Control"])
        self.assertIn("private", response.headers["Cache-Control"])

    def test_revalidation_answers_304_without_a_body(self):
        first = self.get()
        for headers in (
            {"If-None-Match": first.headers["ETag"]},
            {"If-Modified-Since": first.headers["Last-Modified"]},
        ):
            with self.subTest(headers=headers):
                response = self.get(**headers)
                self.assertEqual(response.status_code, 304)
                self.assertEqual(response.content, b"")
                self.assertEqual(response.headers["ETag"], first.headers["ETag"])
        self.assertEqual(self.get(**{"If-None-Match": '"stale"'}).status_code, 200)

    def test_deletion_changes_the_etag_and_moves_last_modified_forward(self):
        first = self.get()
        self.debrief_booking.unlink()
        time.sleep(1.1)  # HTTP dates have one-second precision
        second = self.get(
            **{"If-None-Match": first.headers["ETag"], "If-Modified-Since": first.headers["Last-Modified"]}
        )
        self.assertEqual(second.status_code, 200)
        self.assertNotEqual(second.headers["ETag"], first.headers["ETag"])
        self.assertGreater(
            parsedate_to_datetime(second.headers["Last-Modified"]),
            parsedate_to_datetime(first.headers["Last-Modified"]),
        )
        self.assertNotIn("debrief", [str(e["SUMMARY"]) for e in check_ics(second.content).walk("VEVENT")])

    def test_head_answers_headers_only(self):
        get = self.get()
        head = self.opener.head(f"{self.base_url()}{ICS}?token={self.token}", timeout=10)
        self.assertEqual(head.status_code, 200)
        self.assertEqual(head.content, b"")
        self.assertEqual(head.headers["ETag"], get.headers["ETag"])
        self.assertEqual(head.headers["Content-Type"], "text/calendar; charset=utf-8")

    def test_room_feeds_hold_only_their_rooms(self):
        self.assertEqual(self.titles(self.get("&room=TSIM1")), ["sim booking"])
        self.assertEqual(self.titles(self.get("&room=TSIM1&room=TDEBRIEF")), ["debrief", "sim booking"])
        calendar = check_ics(self.get("&room=TSIM1").content)
        self.assertIn("Sim Room 1", str(calendar["X-WR-CALNAME"]))

    def test_from_and_to_narrow_the_feed(self):
        self.assertEqual(self.titles(self.get(f"&from={self.local_date(1)}")), ["debrief"])
        self.assertEqual(self.titles(self.get(f"&to={self.local_date(0)}")), ["sim booking"])

    def test_bad_parameters_get_a_400_with_a_reason(self):
        for query, reason in (
            ("&room=NOPE", "no published room with code NOPE"),
            ("&from=yesterday", "not an ISO date"),
            ("&from=2026-03-06&to=2026-03-05", "must be after from"),
            ("&from=2026-03-05T08:00:00", "no UTC offset"),
        ):
            with self.subTest(query=query):
                response = self.get(query)
                self.assertEqual(response.status_code, 400)
                self.assertEqual(response.headers["Content-Type"], "text/plain; charset=utf-8")
                self.assertIn(reason, response.text)

    def test_unpublished_room_is_refused_like_an_unknown_one(self):
        self.debriefing.is_published = False
        self.assertIn("no published room with code TDEBRIEF", self.get("&room=TDEBRIEF").text)

    def test_calendar_apps_extra_parameters_are_ignored(self):
        self.assertEqual(self.titles(self.get("&_=1700000000")), ["debrief", "sim booking"])

    def test_feed_not_built_yet_answers_503_not_500(self):
        self.break_builds()  # the first build fails
        paths = (
            f"{ICS}?token={self.token}",
            f"{JSON}?token={self.token}",
            f"{ICS}?token={self.token}&room=TSIM1",
        )
        for path in paths:
            with (
                self.subTest(path=path),
                mute_logger("odoo.addons.external_calendar_api.models.calendar_feed", "odoo.sql_db"),
            ):
                response = self.url_open(path)
                self.assertEqual(response.status_code, 503)
                self.assertEqual(response.headers["Retry-After"], "60")
                self.assertIn("not been built yet", response.text)
        self.assertIn("no space left on device", self.env["calendar.feed"]._get_singleton().last_error)
        self.mend_builds()
        self.assertEqual(self.get().status_code, 200)

    def test_unreadable_parameters_fall_back_to_defaults(self):
        self.set_feed_param("tz", "Mars/Olympus_Mons")
        self.set_feed_param("retention_days", "a month")
        self.set_feed_param("future_days", 1000)  # out of range, as only the technical menu allows
        with mute_logger("odoo.addons.external_calendar_api.booking_feed.settings"):
            response = self.get()
            filtered = self.get(f"&from={self.local_date(0)}")
        self.assertEqual((response.status_code, filtered.status_code), (200, 200))
        default_zone = self.env["calendar.feed"]._default_timezone()
        self.assertEqual(str(check_ics(response.content)["X-WR-TIMEZONE"]), default_zone)
        self.assertEqual(self.titles(filtered), ["debrief", "sim booking"])


@tagged("post_install", "-at_install")
class TestFeedCompression(FeedCase, HttpCase):
    """Feeds in the coding a client accepts, each with its own ETag (RFC 9110)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.token = cls.enable_endpoint()
        for day in range(4):
            for hour in (8, 10, 12, 14):
                cls.book(cls.sim_room, cls.local_time(day, hour), cls.local_time(day, hour + 1),
                         name=f"OSCE station {day}-{hour}")  # fmt: skip

    def fetch(self, path, accept_encoding, method="GET", **headers):
        """(response, the bytes on the wire): requests would decompress them otherwise."""
        url = f"{self.base_url()}{path}{'&' if '?' in path else '?'}token={self.token}"
        headers = {"Accept-Encoding": accept_encoding, **headers}
        response = self.opener.request(method, url, headers=headers, stream=True, timeout=10)
        return response, response.raw.read(decode_content=False)

    def test_full_feeds_are_sent_compressed_to_clients_that_ask(self):
        for path in (ICS, JSON):
            with self.subTest(path=path):
                plain, plain_bytes = self.fetch(path, "identity")
                packed, packed_bytes = self.fetch(path, "gzip, deflate, br")
                self.assertNotIn("Content-Encoding", plain.headers)
                self.assertEqual(packed.headers["Content-Encoding"], "gzip")
                for response in (plain, packed):
                    self.assertEqual(response.headers["Vary"], "Accept-Encoding")
                self.assertEqual(gzip.decompress(packed_bytes), plain_bytes)
                # Each day is compressed alone (so a change recompresses one day): at 16 bookings
                # over 4 days that is about 4x; a day of many bookings compresses as a whole feed did.
                self.assertLess(len(packed_bytes) * 3, len(plain_bytes))
                self.assertNotEqual(packed.headers["ETag"], plain.headers["ETag"])
                self.assertEqual(plain.headers["Last-Modified"], packed.headers["Last-Modified"])

    def test_each_coding_revalidates_with_its_own_etag(self):
        plain, _bytes = self.fetch(ICS, "identity")
        packed, _bytes = self.fetch(ICS, "gzip")
        for accept_encoding, etag, status in (
            ("gzip", packed.headers["ETag"], 304),
            ("identity", plain.headers["ETag"], 304),
            ("identity", packed.headers["ETag"], 200),  # a cache must not answer gzip to this client
            ("gzip", plain.headers["ETag"], 200),
        ):
            with self.subTest(accept_encoding=accept_encoding, etag=etag):
                response, body = self.fetch(ICS, accept_encoding, **{"If-None-Match": etag})
                self.assertEqual(response.status_code, status)
                self.assertEqual(response.headers["Vary"], "Accept-Encoding")
                if status == 200:  # a 304 has no content, so no Content-Encoding (RFC 9110)
                    expected_coding = "gzip" if accept_encoding == "gzip" else None
                    self.assertEqual(response.headers.get("Content-Encoding"), expected_coding)
                    check_ics(gzip.decompress(body) if accept_encoding == "gzip" else body)

    def test_head_answers_the_headers_of_the_same_get(self):
        for accept_encoding in ("gzip", "identity"):
            get, _bytes = self.fetch(ICS, accept_encoding)
            head, body = self.fetch(ICS, accept_encoding, method="HEAD")
            self.assertEqual(body, b"")
            for name in (
                "ETag",
                "Content-Encoding",
                "Vary",
                "Content-Type",
                "Content-Length",
                "Last-Modified",
            ):
                self.assertEqual(head.headers.get(name), get.headers.get(name), name)

    def test_filtered_answers_are_compressed_only_when_it_pays(self):
        room_feed, room_bytes = self.fetch(f"{ICS}?room=TSIM1", "gzip")
        self.assertEqual(room_feed.headers["Content-Encoding"], "gzip")
        events = check_ics(gzip.decompress(room_bytes)).walk("VEVENT")
        self.assertEqual(len(events), 16)
        small, small_bytes = self.fetch(f"{FEED}/next.json?q=OSCE", "gzip")
        self.assertLess(len(small_bytes), 1400)
        self.assertNotIn("Content-Encoding", small.headers)
        self.assertEqual(small.headers["Vary"], "Accept-Encoding")
        self.assertEqual(json.loads(small_bytes)["events"][0]["activity"]["title"][:4], "OSCE")
