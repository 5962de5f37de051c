from urllib.parse import parse_qs, urlsplit

import requests

from odoo import fields
from odoo.tests import HttpCase, TransactionCase, tagged

from .common import FeedCase, require
from .test_feed_push import PASSWORD, caldav, oauth_server, radicale, servers, xandikos


@tagged("post_install", "-at_install")
class TestFeedPushXandikos(FeedCase, TransactionCase):
    """The same pushes into Xandikos, a stricter server without authentication."""

    def test_bookings_are_written_changed_and_deleted_there_too(self):
        require(self, caldav=caldav, servers=servers, xandikos=xandikos)
        self.enable_endpoint()
        with servers.Xandikos() as server:
            target = self.env["calendar.feed.push"].create(
                {"name": "Sim", "url": server.make_calendar("sim"), "room_ids": [(6, 0, self.sim_room.ids)]}
            )
            kept = self.book(self.sim_room, self.local_time(1, 9), self.local_time(1, 10), name="Kept")
            gone = self.book(self.sim_room, self.local_time(1, 11), self.local_time(1, 12), name="Gone")
            self.env.flush_all()
            target._cron_push()
            kept.name = "Kept, renamed"
            gone.unlink()
            self.env.flush_all()
            target._cron_push()
            with caldav.DAVClient(target.url) as client:
                events = client.calendar(url=target.url).events()
                titles = [str(event.icalendar_component["SUMMARY"]) for event in events]
        self.assertEqual((target.state, titles), ("in_sync", ["Kept, renamed"]))


@tagged("post_install", "-at_install")
class TestFeedPushGoogle(FeedCase, HttpCase):
    """Google's profile: a Bearer token from an OAuth 2.0 token endpoint, no If-None-Match, no MKCALENDAR."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        if not (servers and oauth_server and radicale and caldav):
            return
        cls.server = servers.Radicale(users={"rooms": PASSWORD})
        cls.server.start()
        cls.addClassCleanup(cls.server.__exit__)
        cls.tokens = oauth_server.TokenEndpoint("odoo-client", "client-secret", lifetime=3600)
        cls.tokens.__enter__()
        cls.addClassCleanup(cls.tokens.__exit__)
        cls.google = servers.GoogleProfile(cls.server.url, ("rooms", PASSWORD), cls.tokens)
        cls.google.start()
        cls.addClassCleanup(cls.google.stop)
        cls.enable_endpoint()

    def setUp(self):
        super().setUp()
        require(self, caldav=caldav, servers=servers, radicale=radicale, oauth_server=oauth_server)
        upstream = self.server.make_calendar("rooms", f"google-{self._testMethodName[-40:]}")
        self.target = self.env["calendar.feed.push"].create(
            {
                "name": "Sim Room 1 in Google",
                "provider": "google",
                "url": self.google.calendar_url(upstream),
                "auth": "oauth2",
                "oauth_client_id": "odoo-client",
                "oauth_client_secret": "client-secret",
                "oauth_token_url": self.tokens.token_url,
                "oauth_authorize_url": self.tokens.authorize_url,
                "room_ids": [(6, 0, self.sim_room.ids)],
                "max_rate": 0,
            }
        )
        self.google.requests_by_method.clear()

    def push(self):
        self.env.flush_all()
        self.env["calendar.feed.push"]._cron_push()

    def test_a_pasted_refresh_token_pushes_and_expired_tokens_are_refreshed(self):
        self.target.oauth_refresh_token = self.tokens.issue_refresh_token()
        self.book(self.sim_room, self.local_time(1, 9), self.local_time(1, 10), name="First")
        self.push()
        self.assertEqual(self.target.state, "in_sync", self.target.last_error)
        self.tokens.expire_access_tokens()
        self.target.oauth_expires_at = fields.Datetime.now()  # as the clock would have it by now
        self.book(self.sim_room, self.local_time(1, 11), self.local_time(1, 12), name="Second")
        self.push()
        self.assertEqual(self.target.state, "in_sync", self.target.last_error)
        self.assertEqual(self.google.requests_by_method["PUT"], 2)
        self.assertEqual(self.tokens.token_requests, 2)

    def test_the_consent_screen_gives_the_refresh_token_once(self):
        self.env["ir.config_parameter"].sudo().set_param("web.base.url", self.base_url())
        action = self.target.action_connect()
        consent = requests.get(action["url"], allow_redirects=False, timeout=10)
        back = urlsplit(consent.headers["Location"])
        self.assertEqual(back.path, "/external_calendar_api/push/consent")
        params = {name: values[0] for name, values in parse_qs(back.query).items()}
        forged = f"{back.path}?state={self.target.id}.forged&code={params['code']}"
        self.authenticate("room_admin", "room_admin")
        self.assertEqual(self.url_open(forged, allow_redirects=False).status_code, 404)
        answer = self.url_open(f"{back.path}?{back.query}", allow_redirects=False)
        self.assertEqual(answer.status_code, 303)
        self.assertIn(f"/{self.target.id}", answer.headers["Location"])
        self.assertTrue(self.target.oauth_refresh_token)
        again = self.url_open(f"{back.path}?{back.query}", allow_redirects=False)
        self.assertEqual(again.status_code, 404, "a state is used once")
        self.authenticate("room_employee", "room_employee")
        self.assertNotEqual(
            self.url_open(f"{back.path}?{back.query}", allow_redirects=False).status_code, 303
        )

    def test_a_refused_refresh_token_fails_the_target_with_the_reason(self):
        self.target.oauth_refresh_token = "not-a-token"
        self.book(self.sim_room, self.local_time(1, 9), self.local_time(1, 10))
        self.push()
        self.assertEqual(self.target.state, "failing")
        self.assertIn("token endpoint refused", self.target.last_error)
