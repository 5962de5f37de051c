import json

from odoo.tests import HttpCase, tagged

from ..booking_feed.conformance import check_ics
from .common import FeedCase, at

ICS = "/w/api/v2/public_calendar.ics"
JSON = "/w/api/v2/public_calendar.json"


@tagged("post_install", "-at_install")
class TestFeedRoutes(FeedCase, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.token = cls.env["calendar.feed"]._get_token()
        cls.set_feed_param("enabled", True)

    def get(self, path, **kwargs):
        return self.url_open(path, allow_redirects=False, **kwargs)

    def assertSameAsUnknownPath(self, response):
        unknown = self.get("/w/api/v2/no_such_route.ics")
        self.assertEqual(response.status_code, 404)
        self.assertEqual(response.text, unknown.text)
        self.assertEqual(response.headers.get("Content-Type"), unknown.headers.get("Content-Type"))

    def test_ics_feed_answers_with_a_valid_calendar(self):
        self.book(self.sim_room, at(25, 9), at(25, 10), name="OSCE, station 1; day 2")
        self.set_feed_param("past_days", 730)
        self.set_feed_param("future_days", 730)
        response = self.get(f"{ICS}?token={self.token}")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.headers["Content-Type"], "text/calendar; charset=utf-8")
        calendar = check_ics(response.content)
        self.assertIn("OSCE, station 1; day 2", [str(e["SUMMARY"]) for e in calendar.walk("VEVENT")])

    def test_json_feed_answers_on_both_spellings_and_with_a_bearer_token(self):
        self.book(self.sim_room, at(25, 9), at(25, 10), name="OSCE")
        self.set_feed_param("past_days", 730)
        self.set_feed_param("future_days", 730)
        for response in (
            self.get(f"{JSON}?token={self.token}"),
            self.get(f"/w/api/v2/public-calendar.json?token={self.token}"),
            self.get(JSON, headers={"Authorization": f"Bearer {self.token}"}),
        ):
            self.assertEqual(response.status_code, 200)
            self.assertEqual(response.headers["Content-Type"], "application/json; charset=utf-8")
            titles = [event["activity"]["title"] for event in json.loads(response.content)["events"]]
            self.assertIn("OSCE", titles)

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

    def test_feed_responses_set_no_session_cookie(self):
        response = self.get(f"{ICS}?token={self.token}")
        self.assertEqual(response.status_code, 200)
        self.assertNotIn("Set-Cookie", response.headers)

    def test_change_is_served_at_the_next_request(self):
        self.set_feed_param("future_days", 730)
        self.set_feed_param("past_days", 730)
        self.get(f"{ICS}?token={self.token}")
        self.book(self.debriefing, at(25, 9), at(25, 10), name="just booked")
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
