import hashlib
import json
from datetime import timedelta
from unittest.mock import patch

from odoo import fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tools import SQL, mute_logger

from ..booking_feed.tests.conformance import check_ics
from ..models import calendar_feed_key
from .common import FeedCase

FEED = "/w/api/v2/public_calendar"
ICS, JSON, ROOMS, NEXT = f"{FEED}.ics", f"{FEED}.json", f"{FEED}/rooms.json", f"{FEED}/next.json"


@tagged("post_install", "-at_install")
class TestFeedKeys(FeedCase, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.token = cls.enable_endpoint()
        cls.book_one_of_each()
        Key = cls.env["calendar.feed.key"]
        cls.sim_key = Key.generate({"name": "Sim display", "room_ids": [(6, 0, cls.sim_room.ids)]})
        cls.all_key = Key.generate({"name": "IT sync"})

    def get(self, path, token, **params):
        query = "&".join(f"{name}={value}" for name, value in params.items())
        return self.url_open(f"{path}?token={token}" + (f"&{query}" if query else ""), allow_redirects=False)

    def get_json(self, path, token, **params):
        response = self.get(path, token, **params)
        self.assertEqual(response.status_code, 200, response.text)
        return response.json()

    def assertSameAsUnknownPath(self, response):
        unknown = self.url_open("/w/api/v2/no_such_route.ics", allow_redirects=False)
        self.assertEqual((response.status_code, response.text), (404, unknown.text))

    @staticmethod
    def rooms_by_title(events):
        return {event["activity"]["title"]: [room["code"] for room in event["rooms"]] for event in events}

    def test_generate_returns_the_secret_once_and_stores_only_its_hash(self):
        generated = self.env["calendar.feed.key"].generate({"name": "Reception display"})
        token = generated["token"]
        self.assertEqual(set(generated), {"id", "token", "ics_url", "json_url"})
        self.assertGreaterEqual(len(token), 43)  # 32 random bytes, URL-safe base64
        self.assertTrue(generated["ics_url"].endswith(f"{ICS}?token={token}"))
        self.assertTrue(generated["json_url"].endswith(f"{JSON}?token={token}"))
        key = self.env["calendar.feed.key"].browse(generated["id"])
        self.assertEqual(key.token_hash, hashlib.sha256(token.encode()).hexdigest())
        self.assertEqual(key.prefix, token[:8])
        # Nowhere in the database, in any table, is the secret kept in plain.
        self.env.flush_all()
        self.env.cr.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        holding = []
        for (table,) in self.env.cr.fetchall():
            row_text = SQL(
                "SELECT 1 FROM %s t WHERE t::text LIKE %s LIMIT 1", SQL.identifier(table), f"%{token}%"
            )
            if self.env.execute_query(row_text):
                holding.append(table)
        self.assertEqual(holding, [])
        self.assertEqual(self.get(ICS, token).status_code, 200)

    def test_an_all_rooms_key_answers_every_route_as_the_main_link(self):
        token = self.all_key["token"]
        for path in (ICS, JSON, ROOMS, NEXT):
            self.assertEqual(self.get(path, token).content, self.get(path, self.token).content, path)
        bearer = self.url_open(JSON, headers={"Authorization": f"Bearer {token}"})
        self.assertEqual(bearer.content, self.get(JSON, self.token).content)

    def test_a_room_key_answers_only_within_its_rooms(self):
        token = self.sim_key["token"]
        calendar = check_ics(self.get(ICS, token).content)
        events = {str(event["SUMMARY"]): event for event in calendar.walk("VEVENT")}
        self.assertEqual(sorted(events), ["Both", "Sim only"])
        self.assertEqual(str(events["Both"]["LOCATION"]), "Sim Room 1 (Building A)")
        self.assertNotIn(b"Debrief", self.get(ICS, token).content)
        self.assertEqual(str(calendar["X-WR-CALNAME"]), "Room bookings - Sim Room 1")
        by_title = self.rooms_by_title(self.get_json(JSON, token)["events"])
        self.assertEqual(by_title, {"Sim only": ["TSIM1"], "Both": ["TSIM1"]})
        filtered = self.rooms_by_title(self.get_json(JSON, token, q="Both")["events"])
        self.assertEqual(filtered, {"Both": ["TSIM1"]})
        rooms = self.get_json(ROOMS, token)["rooms"]
        self.assertEqual([(room["code"], room["eventCount"]) for room in rooms], [("TSIM1", 2)])
        upcoming = self.get_json(NEXT, token, limit=10)["events"]
        self.assertEqual(self.rooms_by_title(upcoming), {"Sim only": ["TSIM1"], "Both": ["TSIM1"]})
        room_feed = check_ics(self.get(ICS, token, room="TSIM1").content)
        self.assertEqual(self.titles(room_feed), ["Both", "Sim only"])

    def test_a_room_outside_the_scope_is_answered_as_an_unknown_room(self):
        token = self.sim_key["token"]
        for path in (ICS, JSON, NEXT):
            outside = self.get(path, token, room="TDEBRIEF")
            unknown = self.get(path, token, room="NOPE")
            self.assertEqual(outside.status_code, 400)
            self.assertEqual(outside.text.replace("TDEBRIEF", "NOPE"), unknown.text, path)
            self.assertEqual(self.get(path, self.token, room="TDEBRIEF").status_code, 200)

    def test_a_room_key_syncs_changes_within_its_rooms(self):
        token = self.sim_key["token"]
        sync_token = self.get_json(JSON, token, limit=100)["syncToken"]
        self.both.room_ids = self.debriefing  # leaves the key's rooms
        self.sim_only.name = "Sim only, renamed"
        delta = self.get_json(JSON, token, since=sync_token)
        self.assertEqual(self.rooms_by_title(delta["events"]), {"Sim only, renamed": ["TSIM1"]})
        self.assertEqual([gone["id"] for gone in delta["deleted"]], [self.both.id])
        # Changes that never touched the key's rooms are not its business, not even as deletions.
        sync_token = delta["syncToken"]
        self.debrief_only.name = "Debrief only, renamed"
        self.debrief_only.unlink()
        self.assertEqual(self.get_json(JSON, token, since=sync_token)["deleted"], [])
        # A token is bound to the rooms it was issued for.
        self.assertEqual(self.get(JSON, self.token, since=sync_token).status_code, 400)

    def test_revoked_or_deleted_keys_get_the_unknown_path_404_and_nothing_else_changes(self):
        Key = self.env["calendar.feed.key"]
        self.assertEqual(self.get(ICS, self.sim_key["token"]).status_code, 200)
        Key.browse(self.sim_key["id"]).action_revoke()
        with mute_logger("werkzeug"):
            self.assertSameAsUnknownPath(self.get(ICS, self.sim_key["token"]))
        self.assertEqual(self.get(ICS, self.token).status_code, 200)
        self.assertEqual(self.get(ICS, self.all_key["token"]).status_code, 200)
        Key.browse(self.all_key["id"]).unlink()
        with mute_logger("werkzeug"):
            self.assertSameAsUnknownPath(self.get(JSON, self.all_key["token"]))
        other = Key.generate({"name": "Other"})
        self.env["calendar.feed"]._rotate_token()
        with mute_logger("werkzeug"):
            self.assertSameAsUnknownPath(self.get(ICS, self.token))
        self.assertEqual(self.get(ICS, other["token"]).status_code, 200)
        self.set_feed_param("enabled", False)
        with mute_logger("werkzeug"):
            self.assertSameAsUnknownPath(self.get(ICS, other["token"]))

    def test_a_revoked_key_stays_revoked(self):
        key = self.env["calendar.feed.key"].browse(self.sim_key["id"])
        key.action_revoke()
        with self.assertRaises(UserError):
            key.action_unarchive()
        with self.assertRaises(UserError):
            key.active = True
        with mute_logger("werkzeug"):
            self.assertSameAsUnknownPath(self.get(ICS, self.sim_key["token"]))

    def test_the_links_dialog_cannot_store_the_secret(self):
        links = {"ics_url": f"https://x/public_calendar.ics?token={self.sim_key['token']}"}
        Wizard = self.env["calendar.feed.key.wizard"].with_context(
            external_calendar_key_links=json.dumps(links)
        )
        wizard = Wizard.create({"name": "Saved by leaving the page"})  # what the web client's save would do
        self.assertEqual(wizard.ics_url, links["ics_url"], "shown from the context")
        self.env.flush_all()
        self.env.cr.execute("SELECT t::text FROM calendar_feed_key_wizard t WHERE id = %s", [wizard.id])
        self.assertNotIn(self.sim_key["token"], self.env.cr.fetchone()[0])

    def test_logging_a_use_keeps_a_rebuild_durable(self):
        self.env.cr.execute("SET LOCAL synchronous_commit TO on")  # whatever the test cluster's default
        self.book(self.sim_room, self.local_time(3, 9), self.local_time(3, 10))  # this transaction writes
        self.env.flush_all()
        self.env["calendar.feed.usage"]._record(None, "ics", 200)
        self.env.cr.execute("SHOW synchronous_commit")
        self.assertEqual(self.env.cr.fetchone()[0], "on")

    def test_keys_are_compared_in_constant_time(self):
        token = self.sim_key["token"]
        hmac = calendar_feed_key.hmac
        with patch.object(hmac, "compare_digest", wraps=hmac.compare_digest) as compare:
            key = self.env["calendar.feed.key"]._find_by_token(token)
            self.assertEqual(key.id, self.sim_key["id"])
            compare.assert_called_with(key.token_hash, hashlib.sha256(token.encode()).hexdigest())
            compare.reset_mock()
            self.assertFalse(self.env["calendar.feed.key"]._find_by_token(token[:8] + "A" * 35))
            compare.assert_called_once()
        for not_a_key in ("", "short", token + "x", token[:42] + "\x00", "é" * 43):
            self.assertFalse(self.env["calendar.feed.key"]._find_by_token(not_a_key))

    def test_usage_is_logged_per_request_and_shown(self):
        Usage = self.env["calendar.feed.usage"]
        Usage.search([]).unlink()
        sim_key = self.env["calendar.feed.key"].browse(self.sim_key["id"])
        first = self.get(ICS, self.sim_key["token"])
        revalidation = {"If-None-Match": first.headers["ETag"]}
        self.url_open(f"{ICS}?token={self.sim_key['token']}", headers=revalidation)
        self.get(JSON, self.sim_key["token"], room="NOPE")
        self.get(NEXT, self.token)
        logged = Usage.search([], order="id")
        self.assertEqual(
            [(usage.key_id.id, usage.route, usage.status) for usage in logged],
            [
                (sim_key.id, "ics", 200),
                (sim_key.id, "ics", 304),
                (sim_key.id, "events", 400),
                (False, "next", 200),
            ],
        )
        sim_key.invalidate_recordset()
        self.assertEqual(sim_key.request_count, 3)
        self.assertEqual(sim_key.last_used, max(logged.mapped("used_at")))
        settings = self.env["res.config.settings"].create({})
        self.assertEqual(settings.external_calendar_main_request_count, 1)
        self.assertIn(sim_key, settings.external_calendar_key_ids)
        # Older than 30 days: not counted; older than 90: forgotten.
        logged[0].sudo().write({"used_at": fields.Datetime.now() - timedelta(days=31)})
        logged[1].sudo().write({"used_at": fields.Datetime.now() - timedelta(days=91)})
        sim_key.invalidate_recordset()
        self.assertEqual(sim_key.request_count, 1)
        Usage._gc_old_requests()
        self.assertEqual(Usage.search_count([]), 3)

    def test_a_secret_is_only_made_by_generate_and_never_changed(self):
        Key = self.env["calendar.feed.key"]
        key = Key.browse(self.sim_key["id"])
        with self.assertRaises(UserError):
            Key.create({"name": "No secret"})
        for values in ({"token_hash": "0" * 64}, {"prefix": "abcdefgh"}):
            with self.assertRaises(UserError):
                key.write(values)
        with self.assertRaises(UserError):
            key.copy()
        key.write({"name": "Renamed", "room_ids": [(6, 0, self.debriefing.ids)]})
        by_title = self.rooms_by_title(self.get_json(JSON, self.sim_key["token"])["events"])
        self.assertEqual(by_title, {"Debrief only": ["TDEBRIEF"], "Both": ["TDEBRIEF"]})

    def test_only_settings_administrators_see_keys_and_usage(self):
        portal = new_test_user(self.env, login="key_portal", groups="base.group_portal")
        for user in (self.employee, portal):
            for model in ("calendar.feed.key", "calendar.feed.usage", "calendar.feed.key.wizard"):
                with self.assertRaises(AccessError, msg=f"{user.login} {model}"):
                    self.env[model].with_user(user).search([])
            with self.assertRaises(AccessError):
                self.env["calendar.feed.key"].with_user(user).generate({"name": "Mine"})
        generated = self.env["calendar.feed.key"].with_user(self.admin).generate({"name": "By the admin"})
        self.assertEqual(self.get(ICS, generated["token"]).status_code, 200)

    def test_the_settings_page_makes_a_key_and_shows_its_links_once(self):
        self.start_tour("/odoo/action-external_calendar_api.external_calendar_settings_action",
                        "external_calendar_feed_key_tour", login=self.admin.login)  # fmt: skip
        Key = self.env["calendar.feed.key"].with_context(active_test=False)
        key = Key.search([("name", "=", "Tour display")])
        self.assertEqual(len(key), 1)
        self.assertEqual(key.room_ids, self.sim_room)
        self.assertFalse(key.active, "revoked in the tour")
        self.env.cr.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_name = 'calendar_feed_key_wizard' AND column_name LIKE '%%url%%'"
        )
        self.assertEqual(self.env.cr.fetchall(), [], "the dialog's rows have nowhere to keep a link")

    def test_a_key_without_published_rooms_sees_nothing(self):
        self.sim_room.is_published = False
        answer = self.get_json(JSON, self.sim_key["token"])
        self.assertEqual(answer["events"], [])
        self.assertEqual(self.get_json(ROOMS, self.sim_key["token"])["rooms"], [])
        self.assertEqual(self.titles(check_ics(self.get(ICS, self.sim_key["token"]).content)), [])
        self.assertEqual(len(self.get_json(JSON, self.token)["events"]), 2)

    def test_a_key_never_widens_when_its_rooms_go(self):
        self.sim_room.action_archive()
        self.assertEqual(self.get_json(JSON, self.sim_key["token"])["events"], [])
        with self.assertRaises(UserError):
            self.sim_room.unlink()
        sim_key = self.env["calendar.feed.key"].browse(self.sim_key["id"])
        sim_key.action_revoke()
        with self.assertRaises(UserError):  # a revoked key could be restored
            self.sim_room.unlink()
        sim_key.unlink()
        self.sim_room.unlink()
