import base64
import logging
from datetime import timedelta
from unittest.mock import patch

from odoo import fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import TransactionCase, tagged

from ..booking_feed.records import booking_uid
from ..models import calendar_feed_push
from .common import FeedCase, optional_test_dependency, require
from .test_feed_webhooks import LogRecords

caldav = optional_test_dependency("caldav")
servers = optional_test_dependency("odoo.addons.external_calendar_api.booking_feed.tests.dav_servers")
oauth_server = optional_test_dependency("odoo.addons.external_calendar_api.booking_feed.tests.oauth_server")
radicale = optional_test_dependency("radicale")
xandikos = optional_test_dependency("xandikos")
__all__ = ["PASSWORD", "caldav", "oauth_server", "radicale", "servers", "xandikos"]
PASSWORD = "app-password-42"


@tagged("post_install", "-at_install")
class TestFeedPush(FeedCase, TransactionCase):
    """Push targets against a real Radicale server, read back with the caldav client."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        if not (servers and radicale and caldav):
            return
        cls.server = servers.Radicale(users={"rooms": PASSWORD})
        cls.server.start()
        cls.addClassCleanup(cls.server.__exit__)
        cls.enable_endpoint()

    def setUp(self):
        super().setUp()
        require(self, caldav=caldav, servers=servers, radicale=radicale)
        self.Push = self.env["calendar.feed.push"]
        self.database_uuid = self.env["ir.config_parameter"].sudo().get_param("database.uuid")

    def target(self, rooms, name=None, **values):
        url = self.server.make_calendar("rooms", name or f"cal-{self._testMethodName[-40:]}-{rooms[:1].code}")
        return self.Push.create(
            {
                "name": name or rooms[:1].name or "All rooms",
                "url": url,
                "username": "rooms",
                "password": PASSWORD,
                "room_ids": [(6, 0, rooms.ids)],
                "max_rate": 0,
                **values,
            }
        )

    def push(self):
        """Run the push job as the cron worker would (here without its commits)."""
        self.env.flush_all()
        self.Push._cron_push()

    def remote_events(self, target):
        with caldav.DAVClient(target.url, username="rooms", password=PASSWORD) as client:
            return {
                str(event.icalendar_component["UID"]): event.icalendar_component
                for event in client.calendar(url=target.url).events()
            }

    def remote_titles(self, target):
        return sorted(str(event["SUMMARY"]) for event in self.remote_events(target).values())

    def test_each_booking_is_one_remote_event_named_after_its_uid(self):
        target = self.target(self.sim_room)
        booking = self.book(self.sim_room, self.local_time(1, 9), self.local_time(1, 10), name="OSCE")
        self.push()
        events = self.remote_events(target)
        uid = booking_uid(booking.id, self.database_uuid)
        self.assertEqual(list(events), [uid])
        self.assertEqual(str(events[uid]["SUMMARY"]), "OSCE")
        self.assertEqual(target.object_ids.href.rsplit("/", 1)[1], f"{uid}.ics")
        self.assertEqual((target.state, target.waiting_count, target.progress), ("in_sync", 0, "1 of 1"))

    def test_the_remote_event_is_the_caldav_object_a_key_of_those_rooms_reads(self):
        target = self.target(self.sim_room)
        both = self.book(
            self.sim_room | self.debriefing,
            self.local_time(1, 9),
            self.local_time(1, 10),
            name="Private one",
            privacy="private",
            description="Call 555-0100",
        )
        self.push()
        [event] = self.remote_events(target).values()
        self.assertEqual(str(event["SUMMARY"]), "Busy")
        self.assertNotIn("DESCRIPTION", event)
        self.assertNotIn(self.debriefing.name, event.to_ical().decode(), "nothing of rooms outside its own")
        audience = self.sim_room._get_feed_audience()
        [served] = self.env["calendar.feed.reader"]._calendar_objects(
            self.env["calendar.feed"]._get_settings(),
            audience,
            [("event_id", "=", both.id)],
            with_data=True,
        )
        self.assertEqual(event.to_ical().decode().count("BEGIN:VEVENT"), 1)
        self.assertIn(str(event["UID"]).encode(), served.data)
        self.assertIn(b"SUMMARY:Busy", served.data)

    def test_every_kind_of_change_reaches_the_targets_it_affects(self):
        sim, debriefing = self.target(self.sim_room), self.target(self.debriefing)
        edited = self.book(self.sim_room, self.local_time(1, 9), self.local_time(1, 10), name="Edit me")
        cancelled = self.book(self.sim_room, self.local_time(1, 11), self.local_time(1, 12), name="Cancel me")
        deleted = self.book(self.sim_room, self.local_time(1, 13), self.local_time(1, 14), name="Delete me")
        moved = self.book(self.sim_room, self.local_time(1, 15), self.local_time(1, 16), name="Move me")
        later = self.book(self.sim_room, self.local_time(2, 9), self.local_time(2, 10), name="Push me away")
        self.push()
        self.assertEqual(len(self.remote_titles(sim)), 5)
        edited.name = "Edited"
        cancelled.booking_status = "cancelled"
        deleted.unlink()
        moved.room_ids = self.debriefing
        later.write({"start": self.local_time(900, 9), "stop": self.local_time(900, 10)})  # out of the window
        self.push()
        self.assertEqual(self.remote_titles(sim), ["Edited"])
        self.assertEqual(self.remote_titles(debriefing), ["Move me"])

    def test_pushing_again_with_nothing_changed_makes_no_request(self):
        target = self.target(self.sim_room)
        self.book(self.sim_room, self.local_time(1, 9), self.local_time(1, 10))
        self.push()
        pushed_at = target.object_ids.pushed_at
        self.server.stop()  # any request now would fail the target
        try:
            target.action_push_now()
            self.push()
            self.assertEqual((target.state, target.last_error), ("in_sync", False))
        finally:
            self.server.start()
        self.assertEqual(target.object_ids.pushed_at, pushed_at)

    def test_a_push_whose_outcome_was_lost_overwrites_and_never_duplicates(self):
        target = self.target(self.sim_room)
        self.book(self.sim_room, self.local_time(1, 9), self.local_time(1, 10), name="Once")
        self.push()
        target.object_ids.unlink()  # as if the run died after its PUT, before keeping what it did
        self.push()
        self.assertEqual(self.remote_titles(target), ["Once"])

    def test_odoo_wins_over_edits_and_deletions_made_in_the_remote_calendar(self):
        target = self.target(self.sim_room)
        booking = self.book(self.sim_room, self.local_time(1, 9), self.local_time(1, 10), name="Odoo's title")
        other = self.book(self.sim_room, self.local_time(1, 11), self.local_time(1, 12), name="Kept")
        self.push()
        with caldav.DAVClient(target.url, username="rooms", password=PASSWORD) as client:
            calendar = client.calendar(url=target.url)
            for event in calendar.events():
                if str(event.icalendar_component["SUMMARY"]) == "Odoo's title":
                    event.icalendar_component["SUMMARY"] = "Edited remotely"
                    event.save()
                else:
                    event.delete()
            calendar.save_event(
                "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//someone//EN\r\nBEGIN:VEVENT\r\nUID:someone-else\r\n"
                "DTSTAMP:20260301T120000Z\r\nDTSTART:20260305T083000Z\r\nSUMMARY:Not ours\r\nEND:VEVENT\r\n"
                "END:VCALENDAR\r\n"
            )
        booking.name = "Odoo's new title"
        self.push()
        self.assertEqual(self.remote_titles(target), ["Not ours", "Odoo's new title"])
        target.action_resync()
        self.push()
        self.assertEqual(self.remote_titles(target), ["Kept", "Not ours", "Odoo's new title"])
        self.assertTrue(other.exists())

    def test_test_connection_says_what_is_wrong_in_plain_words(self):
        target = self.target(self.sim_room)
        self.assertIn("Connected to", target.action_test_connection()["params"]["message"])
        target.password = "wrong"
        self.assertIn("refused the credentials", target.action_test_connection()["params"]["message"])
        target.write({"password": PASSWORD, "url": self.server.url + "rooms/no-such-calendar/"})
        self.assertIn("calendar not found", target.action_test_connection()["params"]["message"])
        target.url = self.server.make_calendar("rooms", "read-only", read_only=True)
        message = target.action_test_connection()["params"]
        self.assertEqual(message["type"], "warning")
        self.assertIn("may not write there", message["message"])

    def test_refused_credentials_fail_until_they_change_or_an_hour_passes(self):
        target = self.target(self.sim_room, password="wrong")
        self.book(self.sim_room, self.local_time(1, 9), self.local_time(1, 10), name="Waits")
        self.push()
        self.assertEqual(target.state, "failing")
        self.assertIn("refused the credentials", target.last_error)
        self.assertGreater(target.next_attempt_at, fields.Datetime.now() + timedelta(minutes=55))
        target.password = PASSWORD
        self.assertFalse(target.next_attempt_at)
        self.push()
        self.assertEqual((target.state, self.remote_titles(target)), ("in_sync", ["Waits"]))

    def test_a_server_stopped_mid_sync_and_restarted_is_caught_up_with_nothing_lost(self):
        target = self.target(self.sim_room)
        for hour in (9, 11, 13):
            start, stop = self.local_time(1, hour), self.local_time(1, hour + 1)
            self.book(self.sim_room, start, stop, name=f"At {hour}")
        with (
            patch.object(calendar_feed_push, "BATCH_SIZE", 1),
            patch.object(calendar_feed_push, "TURN_SECONDS", 0),
        ):
            self.push()  # the initial sync's first turn: one booking of three
        self.assertEqual((target.state, target.progress), ("catching_up", "1 of 3"))
        self.server.stop()
        try:
            self.book(self.sim_room, self.local_time(1, 15), self.local_time(1, 16), name="While down")
            self.push()
            self.assertEqual(target.state, "failing")
            self.assertIn("no connection", target.last_error)
            self.assertEqual(target.waiting_count, 3)
        finally:
            self.server.start()
        target.next_attempt_at = fields.Datetime.now() - timedelta(seconds=1)  # its backoff is over
        self.push()
        self.assertEqual(target.state, "in_sync")
        self.assertEqual(self.remote_titles(target), ["At 11", "At 13", "At 9", "While down"], "each once")

    def test_targets_take_turns_and_show_their_progress(self):
        first, second = self.target(self.sim_room), self.target(self.debriefing)
        for hour in (9, 11, 13):
            self.book(self.sim_room, self.local_time(1, hour), self.local_time(1, hour + 1))
            self.book(self.debriefing, self.local_time(1, hour), self.local_time(1, hour + 1))
        self.env.flush_all()
        self.env["calendar.feed"]._get_up_to_date()  # progress counts the published bookings
        self.assertEqual((first.progress, first.waiting_count), ("0 of 3", 3))
        with (
            patch.object(calendar_feed_push, "BATCH_SIZE", 1),
            patch.object(calendar_feed_push, "TURN_SECONDS", 0),
        ):
            self.push()
        self.assertEqual([first.progress, second.progress], ["1 of 3", "1 of 3"], "one turn each")
        self.assertEqual(first.state, "catching_up")
        self.push()
        self.assertEqual([first.state, second.state], ["in_sync", "in_sync"])

    def test_a_server_asking_to_slow_down_is_given_the_time_it_asks(self):
        def busy(_method, _path, _headers, _body, wfile):
            wfile.write(b"HTTP/1.1 503 Busy\r\nRetry-After: 120\r\nContent-Length: 0\r\n\r\n")

        with servers.ScriptedServer(busy) as server:
            target = self.target(self.sim_room, url=server.url + "cal/")
            self.book(self.sim_room, self.local_time(1, 9), self.local_time(1, 10))
            self.push()
        self.assertEqual(target.state, "catching_up")
        self.assertIn("slow down", target.last_error)
        wait = target.next_attempt_at - fields.Datetime.now()
        self.assertTrue(timedelta(seconds=100) < wait <= timedelta(seconds=120), wait)

    def test_a_server_answering_garbage_fails_the_target_and_never_the_job(self):
        def garbage(_method, _path, _headers, _body, wfile):
            wfile.write(b"HTTP/1.1 500 Oops\r\nContent-Type: text/html\r\n\r\n<html><body>\x00\xff")

        with servers.ScriptedServer(garbage) as server:
            target = self.target(self.sim_room, url=server.url + "cal/")
            healthy = self.target(self.debriefing)
            self.book(self.sim_room | self.debriefing, self.local_time(1, 9), self.local_time(1, 10))
            self.push()
        self.assertEqual((target.state, target.failures), ("failing", 1))
        self.assertIn("server failed (HTTP 500)", target.last_error)
        self.assertEqual(healthy.state, "in_sync", "one broken target does not stop the others")

    def test_an_event_the_server_refuses_is_skipped_and_the_others_go_on(self):
        target = self.target(self.sim_room)
        refused = self.book(self.sim_room, self.local_time(1, 9), self.local_time(1, 10), name="Refused")
        self.book(self.sim_room, self.local_time(1, 11), self.local_time(1, 12), name="Pushed")
        uid = booking_uid(refused.id, self.database_uuid)
        with caldav.DAVClient(target.url, username="rooms", password=PASSWORD) as client:
            # The same UID under another name, as an imported copy of the feed: RFC 4791 no-uid-conflict.
            client.put(
                f"{target.url}imported.ics",
                "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//import//EN\r\nBEGIN:VEVENT\r\n"
                f"UID:{uid}\r\nDTSTAMP:20260301T120000Z\r\nDTSTART:20260305T083000Z\r\n"
                "SUMMARY:Imported\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
                {"Content-Type": "text/calendar"},
            )
        self.push()
        self.assertEqual(self.remote_titles(target), ["Imported", "Pushed"])
        self.assertEqual(target.state, "in_sync", target.last_error)
        self.assertTrue(target.object_ids.filtered(lambda row: row.event_id == refused.id).error)

    def test_another_url_or_other_rooms_are_written_again_in_full(self):
        target = self.target(self.sim_room)
        both = self.book(self.sim_room | self.debriefing, self.local_time(1, 9), self.local_time(1, 10))
        self.book(self.sim_room, self.local_time(1, 11), self.local_time(1, 12), name="Sim only")
        self.push()
        target.url = self.server.make_calendar("rooms", "moved-here")
        self.push()
        self.assertEqual(len(self.remote_events(target)), 2, "the new calendar gets every booking")
        [before] = [
            e
            for e in self.remote_events(target).values()
            if str(e["UID"]).startswith(f"calendar-event-{both.id}-")
        ]
        self.assertNotIn(self.debriefing.name, before.to_ical().decode())
        target.room_ids = self.sim_room | self.debriefing
        self.push()
        [after] = [
            e
            for e in self.remote_events(target).values()
            if str(e["UID"]).startswith(f"calendar-event-{both.id}-")
        ]
        self.assertIn(self.debriefing.name, after.to_ical().decode(), "now one of its rooms")

    def test_a_run_cut_short_gives_the_next_turn_to_the_others(self):
        first, second = self.target(self.sim_room), self.target(self.debriefing)
        for hour in (9, 11, 13):
            self.book(self.sim_room | self.debriefing, self.local_time(1, hour), self.local_time(1, hour + 1))
        with (
            patch.object(calendar_feed_push, "BATCH_SIZE", 1),
            patch.object(calendar_feed_push, "RUN_SECONDS", 0),
        ):
            self.push()
            self.assertEqual([len(first.object_ids), len(second.object_ids)], [1, 0])
            self.push()
            self.assertEqual([len(first.object_ids), len(second.object_ids)], [1, 1])

    def test_the_last_room_of_a_target_cannot_be_deleted(self):
        room = self.env["calendar.room"].create({"name": "Only room", "code": "TONLY"})
        self.target(room)
        with self.assertRaises(UserError):
            room.unlink()

    def test_nothing_is_pushed_while_the_endpoint_is_off(self):
        target = self.target(self.sim_room)
        self.set_feed_param("enabled", False)
        self.book(self.sim_room, self.local_time(1, 9), self.local_time(1, 10))
        self.push()
        self.assertEqual(self.remote_titles(target), [])

    def test_a_change_wakes_the_push_job(self):
        self.target(self.sim_room)
        cron = self.env.ref("external_calendar_api.ir_cron_external_calendar_push")
        triggers = self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)])
        self.book(self.sim_room, self.local_time(1, 9), self.local_time(1, 10))
        self.env.flush_all()
        self.env.cr.precommit.run()  # what the transaction's commit runs
        self.assertEqual(self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)]), triggers + 1)

    def test_secrets_are_for_administrators_only_never_copied_or_logged(self):
        target = self.target(self.sim_room, password="wrong")
        with self.assertRaises(AccessError):
            target.with_user(self.employee).read(["name"])
        self.assertFalse(target.copy().password)
        secrets = ["password", "oauth_client_secret", "oauth_refresh_token", "oauth_access_token"]
        self.assertFalse(
            [name for name, field in self.Push.fields_get(secrets).items() if field["exportable"]]
        )
        self.book(self.sim_room, self.local_time(1, 9), self.local_time(1, 10))
        records = LogRecords()
        logger = logging.getLogger("odoo.addons.external_calendar_api")
        logger.addHandler(records)
        previous_level = logger.level
        logger.setLevel(logging.DEBUG)
        try:
            self.push()
        finally:
            logger.removeHandler(records)
            logger.setLevel(previous_level)
        self.assertTrue(records.texts)
        leaked = ("wrong", base64.b64encode(b"rooms:wrong").decode())
        self.assertFalse([text for text in records.texts if any(secret in text for secret in leaked)])
        with open(self.neutralize_path(), encoding="utf-8") as neutralize:
            self.env.cr.execute(neutralize.read())
        target.invalidate_recordset(["active"])
        self.assertFalse(target.active)

    @staticmethod
    def neutralize_path():
        from odoo.tools.misc import file_path  # noqa: PLC0415

        return file_path("external_calendar_api/data/neutralize.sql")
