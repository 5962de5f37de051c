from urllib.parse import quote

from odoo.exceptions import AccessError, ValidationError
from odoo.tests import TransactionCase, new_test_user, tagged

from .. import _post_init_hook, _uninstall_hook
from ..booking_feed.tests.conformance import check_ics
from .common import FeedCase, at


@tagged("post_install", "-at_install")
class TestFeedSettings(FeedCase, TransactionCase):
    def settings(self, user=None, **values):
        return self.env["res.config.settings"].with_user(user or self.admin).create(values)

    def test_defaults_publish_today_and_seven_days_ahead(self):
        self.env["ir.config_parameter"].search(
            [("key", "in", ["external_calendar_api.past_days", "external_calendar_api.future_days"])]
        ).unlink()
        settings = self.settings()
        self.assertEqual(
            (settings.external_calendar_past_days, settings.external_calendar_future_days), (0, 7)
        )
        self.assertFalse(settings.external_calendar_enabled)

    def test_links_hold_the_base_url_and_the_token(self):
        self.env["ir.config_parameter"].set_param("web.base.url", "https://odoo.example.com")
        token = self.env["calendar.feed"]._get_token()
        settings = self.settings()
        self.assertEqual(
            settings.external_calendar_ics_url,
            f"https://odoo.example.com/w/api/v2/public_calendar.ics?token={token}",
        )
        self.assertEqual(
            settings.external_calendar_json_url,
            f"https://odoo.example.com/w/api/v2/public_calendar.json?token={token}",
        )

    def test_caldav_account_is_the_address_and_the_token(self):
        self.env["ir.config_parameter"].set_param("web.base.url", "https://odoo.example.com/")
        settings = self.settings()
        self.assertEqual(settings.external_calendar_caldav_url, "https://odoo.example.com/w/caldav/")
        self.assertEqual(settings.external_calendar_caldav_password, self.env["calendar.feed"]._get_token())

    def test_token_is_long_random_and_rotates(self):
        Feed = self.env["calendar.feed"]
        old = Feed._get_token()
        self.assertGreaterEqual(len(old), 43)  # 32 random bytes, URL-safe base64
        self.settings().action_external_calendar_rotate_token()
        new = Feed._get_token()
        self.assertNotEqual(new, old)
        self.set_feed_param("enabled", True)
        self.assertIsNotNone(Feed._authenticate(new, Feed._get_settings()))
        self.assertIsNone(Feed._authenticate(old, Feed._get_settings()))

    def test_token_only_opens_an_enabled_endpoint(self):
        Feed = self.env["calendar.feed"]
        token = Feed._get_token()
        self.set_feed_param("enabled", False)
        self.assertIsNone(Feed._authenticate(token, Feed._get_settings()))
        self.set_feed_param("enabled", True)
        self.assertIsNotNone(Feed._authenticate(token, Feed._get_settings()))
        for wrong in (None, "", token[:-1], token + "x", token.upper()):
            self.assertIsNone(Feed._authenticate(wrong, Feed._get_settings()))

    def test_refresh_button_rebuilds_now(self):
        self.book(self.sim_room, at(5, 9), at(5, 10))
        settings = self.settings()
        settings.action_external_calendar_refresh()
        self.assertTrue(self.feed.built_at)
        refreshed = self.settings()
        self.assertEqual(refreshed.external_calendar_built_at, self.feed.built_at)
        self.assertEqual(refreshed.external_calendar_event_count, self.feed.event_count)
        self.assertEqual(refreshed.external_calendar_ics_size, len(self.feed.ics_body.encode()))

    def test_refresh_rebuilds_everything_even_changes_made_outside_the_orm(self):
        # Refresh uses today's window, on the real clock.
        booking = self.book(self.sim_room, self.local_time(1, 9), self.local_time(1, 10), name="OSCE")
        self.settings().action_external_calendar_refresh()
        self.env.flush_all()
        self.env.cr.execute("UPDATE calendar_event SET name = 'OSCE (imported)' WHERE id = %s", [booking.id])
        self.env.invalidate_all()
        self.settings().action_external_calendar_refresh()
        self.assertIn("OSCE (imported)", self.feed.ics_body)

    def test_toggle_is_saved_as_a_system_parameter(self):
        self.settings(external_calendar_enabled=True).execute()
        self.assertTrue(self.env["ir.config_parameter"].get_param("external_calendar_api.enabled"))
        self.settings(external_calendar_enabled=False).execute()
        self.assertFalse(self.env["ir.config_parameter"].get_param("external_calendar_api.enabled"))

    def test_published_rooms_setting_writes_the_room_flags(self):
        settings = self.settings()
        self.assertEqual(settings.external_calendar_room_ids, self.sim_room | self.debriefing)
        self.settings(external_calendar_room_ids=[(6, 0, self.sim_room.ids)]).execute()
        self.assertTrue(self.sim_room.is_published)
        self.assertFalse(self.debriefing.is_published)

    def test_window_days_are_bounded(self):
        for values in ({"external_calendar_future_days": 731}, {"external_calendar_past_days": -1}):
            with self.subTest(values=values), self.assertRaises(ValidationError):
                self.settings(**values)
        self.settings(external_calendar_future_days=730).execute()

    def test_time_zone_defaults_to_the_company(self):
        self.env["ir.config_parameter"].search([("key", "=", "external_calendar_api.tz")]).unlink()
        self.env.company.partner_id.tz = "America/New_York"
        self.assertEqual(self.settings().external_calendar_tz, "America/New_York")

    def test_time_zone_defaults_to_the_administrators_then_utc_in_one_query(self):
        """Read at every request when no zone is set, so in one query (Odoo's caches warm)."""
        self.env["ir.config_parameter"].search([("key", "=", "external_calendar_api.tz")]).unlink()
        self.env.ref("base.main_company").partner_id.tz = False
        self.env.ref("base.user_admin").tz = "Europe/Lisbon"
        Feed = self.env["calendar.feed"]
        self.assertEqual(Feed._default_timezone(), "Europe/Lisbon")
        self.env.ref("base.user_admin").tz = False
        self.env.flush_all()
        Feed._default_timezone()
        self.env.invalidate_all()
        with self.assertQueryCount(1):
            self.assertEqual(Feed._default_timezone(), "UTC")

    def test_only_system_administrators_reach_the_settings(self):
        with self.assertRaises(AccessError):
            self.settings(user=self.employee)
        with self.assertRaises(AccessError):
            self.env["calendar.feed"].with_user(self.employee).search([])
        with self.assertRaises(AccessError):
            self.env["ir.config_parameter"].with_user(self.employee).get_param("external_calendar_api.token")

    def test_each_published_room_has_its_own_feed_link(self):
        settings = self.settings()
        self.assertEqual(settings.external_calendar_room_link_ids, self.sim_room | self.debriefing)
        token = self.env["calendar.feed"]._get_token()
        self.assertTrue(
            self.sim_room.feed_ics_url.endswith(f"/w/api/v2/public_calendar.ics?token={token}&room=TSIM1")
        )

    def test_room_feed_links_are_hidden_from_non_admins(self):
        with self.assertRaises(AccessError):
            self.sim_room.with_user(self.employee).read(["feed_ics_url"])

    def test_one_click_subscription_links(self):
        self.env["ir.config_parameter"].set_param("web.base.url", "https://odoo.example.com")
        self.set_feed_param("name", "Sim Centre")
        token = self.env["calendar.feed"]._get_token()
        settings = self.settings()
        webcal = f"webcal://odoo.example.com/w/api/v2/public_calendar.ics?token={token}"
        self.assertEqual(settings.external_calendar_webcal_url, webcal)
        self.assertEqual(
            settings.external_calendar_google_url,
            f"https://calendar.google.com/calendar/render?cid={quote(webcal, safe='')}",
        )
        https_url = quote(settings.external_calendar_ics_url, safe="")
        for field, host in (
            ("external_calendar_outlook_com_url", "outlook.live.com"),
            ("external_calendar_outlook_365_url", "outlook.office.com"),
        ):
            self.assertEqual(
                settings[field], f"https://{host}/calendar/0/addfromweb?url={https_url}&name=Sim%20Centre"
            )

    def test_large_feed_is_flagged(self):
        self.feed.write({"ics_size": 999_000})
        self.assertFalse(self.settings().external_calendar_is_large)
        self.feed.write({"ics_size": 1_200_000})
        self.assertTrue(self.settings().external_calendar_is_large)

    def test_retention_is_bounded(self):
        for days in (0, 731):
            with self.subTest(days=days), self.assertRaises(ValidationError):
                self.settings(external_calendar_retention_days=days)

    def test_organizer_email_must_be_an_address(self):
        with self.assertRaises(ValidationError):
            self.settings(external_calendar_organizer_email="booking desk")
        self.settings(external_calendar_organizer_email="desk@hospital.example").execute()

    def test_default_time_zone_is_the_main_companys_whoever_rebuilds(self):
        self.env["ir.config_parameter"].search([("key", "=", "external_calendar_api.tz")]).unlink()
        self.env.ref("base.main_company").partner_id.tz = "Asia/Tokyo"
        branch = self.env["res.company"].create({"name": "New York branch"})
        branch.partner_id.tz = "America/New_York"
        new_yorker = new_test_user(
            self.env,
            login="ny_admin",
            groups="base.group_user,base.group_system",
            tz="America/New_York",
            company_id=branch.id,
            company_ids=[(6, 0, branch.ids)],
        )
        feed = self.env["calendar.feed"]._get_singleton()
        for env in (self.env(user=new_yorker), self.env(user=self.env.ref("base.user_root"))):
            feed.with_env(env).sudo()._rebuild()  # as the Refresh button and the routes do
            self.assertEqual(str(check_ics(feed.ics_body.encode())["X-WR-TIMEZONE"]), "Asia/Tokyo")

    def test_uninstall_revokes_every_link_and_a_reinstall_starts_disabled_with_a_new_token(self):
        old_token = self.enable_endpoint()
        self.env.flush_all()
        _uninstall_hook(self.env)
        self.assertFalse(
            self.env["ir.config_parameter"].search([("key", "=like", "external_calendar_api.%")])
        )
        self.env.cr.execute("SELECT 1 FROM pg_class WHERE relname = 'calendar_feed_entry_stamp_seq'")
        self.assertFalse(self.env.cr.fetchall())
        _post_init_hook(self.env)
        self.assertFalse(self.env["calendar.feed"]._get_settings().enabled)
        self.assertNotEqual(self.env["calendar.feed"]._get_token(), old_token)
        self.assertIsNone(
            self.env["calendar.feed"]._authenticate(old_token, self.env["calendar.feed"]._get_settings())
        )
