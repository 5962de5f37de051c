import threading
import time
from contextlib import closing
from datetime import datetime, timedelta, timezone

from odoo import fields
from odoo.sql_db import db_connect
from odoo.tests import TransactionCase, tagged
from odoo.tools import mute_logger

from ..booking_feed.audience import EVERY_ROOM
from .common import FeedCase, at

FEED_LOGGER = "odoo.addons.external_calendar_api.models.calendar_feed"
NOW = datetime(2026, 3, 5, 10, 0, tzinfo=timezone.utc)
LATER_SAME_DAY = NOW + timedelta(hours=1)


def rollback_once_waited_for(holder, polls=600):
    """Roll ``holder``'s transaction back once another connection waits for one of its locks.

    Polled with short sleeps, never a timed wait: under libfaketime (the
    suite's faketime runs) a timed wait never ends, nor does PostgreSQL's
    ``lock_timeout``, and the waiting request would wait forever.
    """
    with closing(db_connect(holder.dbname).cursor()) as watcher:
        for _poll in range(polls):
            watcher.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = %s",
                [holder.dbname],
            )
            if watcher.fetchone()[0]:
                break
            watcher.rollback()
            time.sleep(0.05)
    holder.rollback()


@tagged("post_install", "-at_install")
class TestFeedBuild(FeedCase, TransactionCase):
    def test_rebuild_records_when_and_how_many(self):
        self.book(self.sim_room, at(5, 9), at(5, 10))
        self.book(self.debriefing, at(6, 9), at(6, 10))
        self.build(NOW)
        self.assertEqual(self.feed.built_at, NOW.replace(tzinfo=None))
        self.assertEqual(self.feed.event_count, 2)
        self.assertEqual(self.feed.ics_size, len(self.feed.ics_body.encode()))
        self.assertFalse(self.feed._is_stale(NOW))

    def test_a_room_coded_null_is_a_room_like_any_other(self):
        """Room codes are stored as arrays: a code "NULL" must not become a null element."""
        room = self.env["calendar.room"].create({"name": "Null room", "code": "NULL"})
        booking = self.book(room | self.sim_room, at(5, 9), at(5, 10), name="In the null room")
        self.build(NOW)
        self.env.flush_all()
        self.env.cr.execute("SELECT rooms_booked FROM calendar_feed_entry WHERE event_id = %s", [booking.id])
        self.assertEqual(sorted(self.env.cr.fetchone()[0]), ["NULL", "TSIM1"])
        booking.name = "Still in the null room"  # a change: the entry is written again, with its seen rooms
        _ics, document = self.build(NOW + timedelta(minutes=1))
        self.assertEqual(
            [event["activity"]["title"] for event in document["events"]], ["Still in the null room"]
        )
        settings = self.feed._get_settings()
        body, _name = self.env["calendar.feed.reader"]._calendar_asked(
            settings, EVERY_ROOM, {"room": ["NULL"]}, now=NOW + timedelta(minutes=1)
        )
        self.assertIn(b"Still in the null room", body)

    def test_new_booking_makes_the_feed_stale_and_the_next_request_rebuilds(self):
        self.build(NOW)
        self.book(self.sim_room, at(5, 9), at(5, 10), name="late booking")
        self.assertTrue(self.feed._is_stale(NOW))
        feed = self.env["calendar.feed"]._get_up_to_date(NOW)
        self.assertIn("late booking", feed.ics_body)
        self.assertFalse(feed._is_stale(NOW))

    def test_edits_and_deletions_of_bookings_make_the_feed_stale(self):
        booking = self.book(self.sim_room, at(5, 9), at(5, 10), name="OSCE")
        for change in (
            lambda: booking.write({"name": "OSCE 2"}),
            lambda: booking.write({"room_ids": [(5, 0, 0)]}),
            lambda: booking.write({"room_ids": [(6, 0, self.sim_room.ids)]}),
            booking.unlink,
        ):
            self.build(NOW)
            change()
            self.assertTrue(self.feed._is_stale(NOW))

    def test_events_without_rooms_do_not_make_the_feed_stale(self):
        self.build(NOW)
        meeting = self.env["calendar.event"].create({"name": "1:1", "start": at(5, 9), "stop": at(5, 10)})
        meeting.write({"name": "1:1 moved"})
        meeting.unlink()
        self.assertFalse(self.feed._is_stale(NOW))

    def test_room_changes_make_the_feed_stale(self):
        self.build(NOW)
        self.debriefing.name = "Debriefing A"
        self.assertTrue(self.feed._is_stale(NOW))

    def test_settings_changes_make_the_feed_stale(self):
        self.build(NOW)
        settings = self.env["res.config.settings"].create({"external_calendar_future_days": 14})
        settings.execute()
        self.assertTrue(self.feed._is_stale(NOW))

    def test_saving_unchanged_settings_keeps_the_feed(self):
        self.env["res.config.settings"].create({}).execute()
        self.build(NOW)
        self.env["res.config.settings"].create({}).execute()
        self.assertFalse(self.feed._is_stale(NOW))

    def test_feed_is_stale_when_the_local_day_changes(self):
        self.build(NOW)
        # 23:30 UTC is still the 5th in UTC but already the 6th in Budapest.
        self.assertTrue(self.feed._is_stale(NOW.replace(hour=23, minute=30)))
        self.assertFalse(self.feed._is_stale(NOW.replace(hour=22, minute=30)))

    def test_a_request_that_finds_the_feed_fresh_costs_two_queries(self):
        self.set_feed_param("tz", False)  # Odoo's default zone, which takes queries to find
        self.build(NOW)
        self.env["calendar.feed"]._get_up_to_date(LATER_SAME_DAY)  # Odoo's caches, warm after any request
        self.env.invalidate_all()
        with self.assertQueryCount(2):  # the feed's validators, then the journal
            feed = self.env["calendar.feed"]._get_up_to_date(LATER_SAME_DAY)
            self.assertTrue(feed.ics_etag and feed.last_modified)

    def test_failed_rebuild_keeps_serving_the_last_good_feed(self):
        self.book(self.sim_room, at(5, 9), at(5, 10), name="OSCE")
        self.build(NOW)
        good_body = self.feed.ics_body
        self.break_builds()
        with mute_logger("odoo.sql_db"), self.assertLogs(FEED_LOGGER, "ERROR"):
            self.assertFalse(self.feed._rebuild(NOW + timedelta(minutes=5)))
        self.assertEqual(self.feed.ics_body, good_body)
        self.assertEqual(self.feed.built_at, NOW.replace(tzinfo=None))
        self.assertIn("no space left on device", self.feed.last_error)

    def test_rebuild_failing_after_entries_were_written_keeps_the_last_good_feed(self):
        booking = self.book(self.sim_room, at(5, 9), at(5, 10), name="OSCE")
        self.build(NOW)
        good = (self.feed.ics_body, self.feed.json_body, self.feed.ics_etag, self.feed.json_etag)
        Entry = self.env["calendar.feed.entry"]
        good_entries = Entry.search([]).read(["event_id", "sequence", "title", "ics_block"])
        booking.name = "OSCE v2"
        self.book(self.debriefing, at(6, 9), at(6, 10), name="Debrief")
        # PostgreSQL refuses to store the new bodies, and first checks that the entries are written.
        self.env.cr.execute("""
            CREATE FUNCTION test_refuse_feed_bodies() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF NOT EXISTS (SELECT 1 FROM calendar_feed_entry WHERE title = 'OSCE v2') THEN
                    RAISE EXCEPTION 'the entries were not written before the bodies';
                END IF;
                RAISE EXCEPTION 'no space left on device';
            END $$;
            CREATE TRIGGER test_refuse_feed_bodies BEFORE INSERT OR UPDATE ON calendar_feed_segment
               FOR EACH ROW EXECUTE FUNCTION test_refuse_feed_bodies();
        """)
        with mute_logger("odoo.sql_db"), self.assertLogs(FEED_LOGGER, "ERROR"):
            self.assertFalse(self.feed._rebuild(LATER_SAME_DAY))
        self.assertIn("no space left on device", self.feed.last_error)
        self.env.invalidate_all()
        self.assertEqual(
            (self.feed.ics_body, self.feed.json_body, self.feed.ics_etag, self.feed.json_etag), good
        )
        self.assertEqual(Entry.search([]).read(["event_id", "sequence", "title", "ics_block"]), good_entries)
        self.assertTrue(self.feed._is_stale(LATER_SAME_DAY), "the journal of the failed build is kept")
        self.env.cr.execute("DROP TRIGGER test_refuse_feed_bodies ON calendar_feed_segment")
        calendar, _document = self.build(LATER_SAME_DAY)
        self.assertEqual(self.titles(calendar), ["Debrief", "OSCE v2"])

    def test_hourly_cron_comes_back_soon_when_another_build_holds_the_feed(self):
        cron = self.env.ref("external_calendar_api.ir_cron_external_calendar_refresh")
        built_at = self.feed.built_at
        # Another server's build: a transaction of its own that holds the feed's row.
        with closing(db_connect(self.env.cr.dbname).cursor()) as other_server:
            other_server.execute("SELECT id FROM calendar_feed WHERE id = %s FOR UPDATE", [self.feed.id])
            self.assertEqual(other_server.rowcount, 1, "the feed row is committed, so it can be held")
            before = fields.Datetime.now()
            self.env["calendar.feed"]._cron_rebuild()
            other_server.rollback()
        self.assertEqual(self.feed.built_at, built_at, "no build queued behind the other one")
        retry = self.env["ir.cron.trigger"].search([("cron_id", "=", cron.id), ("call_at", ">", before)])
        self.assertEqual(len(retry), 1)
        self.assertLessEqual(retry.call_at, before + timedelta(minutes=10))

    def test_a_request_waits_for_a_build_under_way_instead_of_serving_the_one_before(self):
        self.enable_endpoint()
        self.book(self.sim_room, self.local_time(1, 9), self.local_time(1, 10), name="Booked just now")
        self.env.flush_all()
        # Another server's build holds the feed's row (as committed: this transaction has not
        # written it) for a moment, then ends (rolled back here).
        with closing(db_connect(self.env.cr.dbname).cursor()) as other_server:
            other_server.execute("SELECT id FROM calendar_feed WHERE id = %s FOR UPDATE", [self.feed.id])
            release = threading.Thread(target=rollback_once_waited_for, args=(other_server,))
            release.start()
            try:
                feed = self.env["calendar.feed"]._get_for_request()
            finally:
                release.join()
        self.assertIn("Booked just now", feed.ics_body, "the change committed before the request is in")

    def test_hourly_cron_rebuilds_the_feed(self):
        cron = self.env.ref("external_calendar_api.ir_cron_external_calendar_refresh")
        self.assertEqual((cron.interval_number, cron.interval_type), (1, "hours"))
        self.assertTrue(cron.active)
        now = datetime.now(timezone.utc)
        self.book(
            self.sim_room,
            now.replace(tzinfo=None),
            now.replace(tzinfo=None) + timedelta(hours=1),
            name="booked now",
        )
        # The scheduler would run this action in its own transaction, which cannot
        # see this test's data; run the same action in the test's transaction.
        cron.ir_actions_server_id.run()
        self.assertIn("booked now", self.feed.ics_body)
        self.assertGreaterEqual(self.feed.built_at, now.replace(tzinfo=None, microsecond=0))

    def test_module_update_renders_cached_blocks_again_without_a_new_sequence(self):
        self.book(self.sim_room, at(5, 9), at(5, 10), name="OSCE")
        self.build(NOW)
        entry = self.env["calendar.feed.entry"].search([("uid", "like", "calendar-event-%")], limit=1)
        rendered, key = entry.ics_block, entry.fingerprint
        entry.write({
            "ics_block": rendered.replace("SUMMARY:OSCE", "SUMMARY:rendered by old code"),
            "fingerprint": "fingerprinted by old code",
        })  # fmt: skip
        self.env["calendar.feed.entry"]._render_all_again()
        self.assertEqual((entry.ics_block, entry.fingerprint), (rendered, key))
        self.assertTrue(self.feed._is_stale(NOW))
        self.assertIn("SEQUENCE:0", self.build(LATER_SAME_DAY)[0].to_ical().decode())
