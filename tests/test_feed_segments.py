import gzip
import http.client
import json
import zlib
from datetime import date, datetime, timedelta, timezone
from unittest.mock import patch
from urllib.parse import urlsplit

from odoo.tests import HttpCase, TransactionCase, tagged
from odoo.tests.common import TEST_CURSOR_COOKIE_NAME

from ..booking_feed.api import FEED_PATH
from ..booking_feed.tests.conformance import check_ics
from ..models.calendar_feed_body_mixin import CalendarFeedBodyMixin
from .common import FeedCase, at
from .test_migrations import run_migration

NOW = datetime(2026, 3, 5, 10, 0, tzinfo=timezone.utc)
LATER = NOW + timedelta(hours=1)


def day(number):
    """The segment position of March ``number``, 2026, stored whole (its first hour since 1970)."""
    return (date(2026, 3, number) - date(1970, 1, 1)).days * 24


class SegmentCase(FeedCase):
    def stored_bodies(self):
        """``{format: (identity bytes, gzip bytes)}`` as a request is sent them; a worker that kept
        the texts it sent before (patched with what changed) sends the same identity body."""
        Segment = self.env["calendar.feed.segment"]
        bodies = {
            feed_format: (
                b"".join(Segment._identity_chunks(self.feed, feed_format)),
                Segment._gzip_body(self.feed, feed_format),
            )
            for feed_format in ("ics", "json")
        }
        for feed_format, (identity, _packed) in bodies.items():
            sent = Segment._sent_chunks(self.feed, feed_format, self.feed[f"{feed_format}_etag"])
            self.assertEqual(b"".join(sent), identity, "a worker sends the body stored")
        return bodies

    def assert_gzip_is_the_identity_body(self):
        for feed_format, (identity, packed) in self.stored_bodies().items():
            with self.subTest(feed_format=feed_format):
                self.assertEqual(gzip.decompress(packed), identity)
                stream = zlib.decompressobj(16 + zlib.MAX_WBITS)
                self.assertEqual(stream.decompress(packed) + stream.flush(), identity)
                self.assertTrue(stream.eof and not stream.unused_data)
        ics, document = self.stored_bodies()["ics"][0], self.stored_bodies()["json"][0]
        return check_ics(ics), json.loads(document)

    def count_segment_writes(self):
        """From now on, remember the segments written (see :meth:`compressed_positions`)."""
        self.env.flush_all()
        self.env.cr.execute("""
            CREATE TEMP TABLE test_segment_writes (feed_format varchar, position int);
            CREATE FUNCTION pg_temp.test_count_segment_write() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN INSERT INTO test_segment_writes VALUES (NEW.feed_format, NEW.position); RETURN NEW; END $$;
            CREATE TRIGGER test_count_segment_writes BEFORE INSERT OR UPDATE ON calendar_feed_segment
               FOR EACH ROW EXECUTE FUNCTION pg_temp.test_count_segment_write();
        """)

    def compressed_positions(self):
        """``{format: sorted positions}`` of the segments the builds since the last call compressed."""
        self.env.cr.execute("DELETE FROM test_segment_writes RETURNING feed_format, position")
        written = {"ics": [], "json": []}
        for feed_format, position in self.env.cr.fetchall():
            written[feed_format].append(position)
        envelope = {-(2**31), 2**31 - 1}
        for positions in written.values():
            self.assertTrue(envelope <= set(positions), "the head and tail are written at every build")
        return {feed_format: sorted(set(positions) - envelope) for feed_format, positions in written.items()}

    def build_and_compare_with_a_full_build(self, when):
        """Build incrementally, then check the bodies against a full build's; returns what was compressed."""
        self.build(when)
        compressed = self.compressed_positions()
        incremental = self.stored_bodies()
        self.assertTrue(self.feed._rebuild(when, full=True))
        self.compressed_positions()
        self.assertEqual(
            self.stored_bodies(), incremental, "an incremental build stores what a full one does"
        )
        self.assert_gzip_is_the_identity_body()
        return compressed


@tagged("post_install", "-at_install")
class TestFeedSegments(SegmentCase, TransactionCase):
    """A change re-renders the days it touched; the bodies stay those of a full build."""

    def setUp(self):
        super().setUp()
        self.osce = self.book(self.sim_room, at(6, 9), at(6, 10), name="OSCE")
        self.book(self.sim_room, at(6, 13), at(6, 14), name="Skills lab")
        self.debrief = self.book(self.debriefing, at(7, 9), at(7, 10), name="Debrief")
        self.book(self.debriefing, at(9, 9), at(9, 10), name="Later")
        self.build(NOW)
        self.count_segment_writes()

    def test_an_edit_compresses_its_day_only(self):
        self.osce.name = "OSCE station 2"
        self.assertEqual(self.build_and_compare_with_a_full_build(LATER), {"ics": [day(6)], "json": [day(6)]})

    def test_an_insertion_compresses_its_day_only(self):
        self.book(self.debriefing, at(8, 9), at(8, 10), name="Inserted")
        self.assertEqual(self.build_and_compare_with_a_full_build(LATER), {"ics": [day(8)], "json": [day(8)]})

    def test_a_deletion_compresses_its_day_only(self):
        self.osce.unlink()
        self.assertEqual(self.build_and_compare_with_a_full_build(LATER), {"ics": [day(6)], "json": [day(6)]})

    def test_a_day_emptied_loses_its_segment_and_compresses_nothing(self):
        self.debrief.unlink()
        self.assertEqual(self.build_and_compare_with_a_full_build(LATER), {"ics": [], "json": []})
        self.assertFalse(self.env["calendar.feed.segment"].search([("position", "=", day(7))]))

    def test_a_move_across_days_compresses_both_days(self):
        self.osce.write({"start": at(9, 11), "stop": at(9, 12)})
        compressed = self.build_and_compare_with_a_full_build(LATER)
        self.assertEqual(compressed, {"ics": [day(6), day(9)], "json": [day(6), day(9)]})

    def test_a_new_first_day_compresses_its_day_only(self):
        """JSON's commas between days are spliced when sent: no day depends on the one before."""
        earlier = self.book(self.debriefing, at(5, 12), at(5, 13), name="Earlier")
        compressed = self.build_and_compare_with_a_full_build(LATER)
        self.assertEqual(compressed, {"ics": [day(5)], "json": [day(5)]})
        (earlier | self.osce).unlink()
        self.build_and_compare_with_a_full_build(LATER + timedelta(minutes=5))

    def test_a_build_without_change_compresses_no_day(self):
        etags = (self.feed.ics_etag, self.feed.json_etag)
        self.feed.invalidate_recordset()
        self.assertTrue(self.feed._rebuild(LATER))
        self.assertEqual(self.compressed_positions(), {"ics": [], "json": []})
        self.assertEqual((self.feed.ics_etag, self.feed.json_etag), etags)

    def test_a_worker_fetches_only_the_segments_a_change_moved(self):
        Segment = self.env["calendar.feed.segment"]
        fetched = []
        original = type(Segment)._texts

        def recording_texts(segments, feed, feed_format, positions):
            fetched.append((feed_format, sorted(positions)))
            return original(segments, feed, feed_format, positions)

        with patch.object(type(Segment), "_texts", recording_texts):
            self.stored_bodies()  # what the worker kept before, from the setUp's build or earlier tests
            fetched.clear()
            self.osce.name = "OSCE station 3"
            self.build(LATER)
            self.stored_bodies()
            self.stored_bodies()  # the same ETags: nothing to fetch
        head = -(2**31)  # the JSON head holds the feed's update time and sync token
        self.assertEqual(fetched, [("ics", [day(6)]), ("json", [head, day(6)])])

    def test_etags_change_with_the_content_only(self):
        before = (self.feed.ics_etag, self.feed.json_etag)
        self.osce.name = "OSCE renamed"
        self.build(LATER)
        renamed = (self.feed.ics_etag, self.feed.json_etag)
        self.assertTrue(before[0] != renamed[0] and before[1] != renamed[1])


@tagged("post_install", "-at_install")
class TestBusyDaySegments(SegmentCase, TransactionCase):
    """A day with more entries than BUSY_DAY_ENTRIES (two here) is stored hour by hour, and a change
    to it re-renders the hours it touched."""

    def setUp(self):
        super().setUp()
        patcher = patch(f"{CalendarFeedBodyMixin.__module__}.BUSY_DAY_ENTRIES", 2)
        patcher.start()
        self.addCleanup(patcher.stop)
        self.osce = self.book(self.sim_room, at(6, 9), at(6, 10), name="OSCE")
        self.lab = self.book(self.sim_room, at(6, 13), at(6, 14), name="Skills lab")
        self.debrief = self.book(self.debriefing, at(6, 13), at(6, 14), name="Debrief")
        self.quiet = self.book(self.debriefing, at(7, 9), at(7, 10), name="Quiet day")
        self.build(NOW)
        self.count_segment_writes()

    def stored_positions(self):
        segments = self.env["calendar.feed.segment"].search([("feed_format", "=", "ics")])
        return [(segment.position, segment.hours, segment.entry_count) for segment in segments[1:-1]]

    def test_a_busy_day_is_stored_by_the_hour_and_a_quiet_one_whole(self):
        self.assertEqual(self.stored_positions(), [(day(6) + 9, 1, 1), (day(6) + 13, 1, 2), (day(7), 24, 1)])

    def test_an_edit_on_a_busy_day_compresses_its_hour_only(self):
        self.osce.name = "OSCE station 2"
        self.assertEqual(
            self.build_and_compare_with_a_full_build(LATER), {"ics": [day(6) + 9], "json": [day(6) + 9]}
        )

    def test_a_move_within_a_busy_day_compresses_the_new_hour_only(self):
        self.osce.write({"start": at(6, 16), "stop": at(6, 17)})
        compressed = self.build_and_compare_with_a_full_build(LATER)
        self.assertEqual(compressed["ics"], [day(6) + 16])  # the 9:00 hour is left empty: deleted only
        self.assertEqual(self.stored_positions()[:2], [(day(6) + 13, 1, 2), (day(6) + 16, 1, 1)])

    def test_a_day_turning_busy_is_stored_again_by_the_hour(self):
        self.book(self.sim_room, at(7, 15), at(7, 16), name="Second")
        self.book(self.sim_room, at(7, 18), at(7, 19), name="Third")
        compressed = self.build_and_compare_with_a_full_build(LATER)
        self.assertEqual(compressed["ics"], [day(7) + 9, day(7) + 15, day(7) + 18])
        self.assertEqual(
            self.stored_positions()[2:], [(day(7) + 9, 1, 1), (day(7) + 15, 1, 1), (day(7) + 18, 1, 1)]
        )

    def test_a_day_turning_quiet_is_stored_whole_again(self):
        self.debrief.unlink()
        compressed = self.build_and_compare_with_a_full_build(LATER)
        self.assertEqual(compressed["ics"], [day(6)])
        self.assertEqual(self.stored_positions(), [(day(6), 24, 2), (day(7), 24, 1)])

    def test_the_first_and_last_hours_of_a_busy_day(self):
        """Hour 0 sits where the whole day would; hour 23 ends the day's range."""
        first = self.book(self.sim_room, at(8, 0), at(8, 1), name="Midnight")
        noon = self.book(self.sim_room, at(8, 12), at(8, 13), name="Noon")
        self.book(self.sim_room, at(8, 23, 15), at(8, 23, 45), name="Late")
        self.build_and_compare_with_a_full_build(LATER)
        self.assertEqual(
            self.stored_positions()[3:], [(day(8), 1, 1), (day(8) + 12, 1, 1), (day(8) + 23, 1, 1)]
        )
        noon.unlink()
        self.assertEqual(self.build_and_compare_with_a_full_build(LATER)["ics"], [day(8)])
        self.assertEqual(self.stored_positions()[3:], [(day(8), 24, 2)])
        self.book(self.debriefing, at(8, 23, 30), at(8, 23, 50), name="Later still")
        compressed = self.build_and_compare_with_a_full_build(LATER + timedelta(minutes=1))
        self.assertEqual(compressed["ics"], [day(8), day(8) + 23])
        self.assertEqual(self.stored_positions()[3:], [(day(8), 1, 1), (day(8) + 23, 1, 2)])
        first.write({"start": at(8, 22), "stop": at(8, 23)})
        compressed = self.build_and_compare_with_a_full_build(LATER + timedelta(minutes=2))
        self.assertEqual(compressed["ics"], [day(8) + 22])
        self.assertEqual(self.stored_positions()[3:], [(day(8) + 22, 1, 1), (day(8) + 23, 1, 2)])

    def test_a_move_from_a_busy_day_to_a_quiet_one(self):
        self.lab.write({"start": at(7, 11), "stop": at(7, 12)})
        compressed = self.build_and_compare_with_a_full_build(LATER)
        self.assertEqual(compressed["ics"], [day(6), day(7)])  # both stored whole now


@tagged("post_install", "-at_install")
class TestSegmentBoundaries(SegmentCase, TransactionCase):
    """The spliced gzip is the identity body at every size, with any text."""

    def test_no_booking(self):
        self.build(NOW)
        calendar, document = self.assert_gzip_is_the_identity_body()
        self.assertEqual((calendar.walk("VEVENT"), document["events"]), ([], []))

    def test_one_booking_with_non_ascii_text(self):
        self.book(self.sim_room, at(5, 9), at(5, 10), name="Újraélesztés – BLS 🚑 «ünnep»")
        self.build(NOW)
        calendar, document = self.assert_gzip_is_the_identity_body()
        self.assertEqual(str(calendar.walk("VEVENT")[0]["SUMMARY"]), "Újraélesztés – BLS 🚑 «ünnep»")
        self.assertEqual(document["events"][0]["activity"]["title"], "Újraélesztés – BLS 🚑 «ünnep»")

    def test_texts_with_what_copy_reads_specially(self):
        """COPY's CSV: quotes, backslashes, commas and line ends inside a segment's text."""
        title = 'Say "hi", \\ C:\\path\\. ;'
        self.book(self.sim_room, at(5, 9), at(5, 10), name=title)
        self.build(NOW)
        calendar, document = self.assert_gzip_is_the_identity_body()
        self.assertEqual(str(calendar.walk("VEVENT")[0]["SUMMARY"]), title)
        self.assertEqual(document["events"][0]["activity"]["title"], title)
        self.assertIn(b'SUMMARY:Say "hi"\\, \\\\ C:\\\\path\\\\. \\;\r\n', self.stored_bodies()["ics"][0])

    def test_days_apart_and_a_day_emptied(self):
        bookings = [self.book(self.sim_room, at(day_number, 9), at(day_number, 10), name=f"Day {day_number}")
                    for day_number in (6, 8, 11)]  # fmt: skip
        self.build(NOW)
        self.assert_gzip_is_the_identity_body()
        bookings[1].unlink()
        self.build(LATER)
        _calendar, document = self.assert_gzip_is_the_identity_body()
        self.assertEqual([event["activity"]["title"] for event in document["events"]], ["Day 6", "Day 11"])
        (bookings[0] | bookings[2]).unlink()
        self.build(LATER + timedelta(minutes=1))
        _calendar, document = self.assert_gzip_is_the_identity_body()
        self.assertEqual(document["events"], [])


@tagged("post_install", "-at_install")
class TestMigrationTo180(SegmentCase, TransactionCase):
    """19.0.1.8.0: the whole stored bodies give way to segments."""

    def test_the_first_request_after_the_update_stores_the_same_bodies_as_segments(self):
        self.book_one_of_each()
        self.build(NOW)
        before = self.stored_bodies()
        # What 19.0.1.7.0 left: whole bodies in the feed's row, and no segment.
        self.env.cr.execute(
            "ALTER TABLE calendar_feed ADD COLUMN ics_body text, ADD COLUMN json_body text, "
            "ADD COLUMN ics_gzip bytea, ADD COLUMN json_gzip bytea; "
            "UPDATE calendar_feed SET ics_body = 'old', ics_gzip = 'old'; DELETE FROM calendar_feed_segment"
        )
        run_migration(self.env.cr, "19.0.1.8.0", "pre")
        self.env.cr.execute(
            "SELECT count(*) FROM information_schema.columns WHERE table_name = 'calendar_feed' "
            "AND column_name IN ('ics_body', 'json_body', 'ics_gzip', 'json_gzip')"
        )
        self.assertEqual(self.env.cr.fetchone()[0], 0)
        self.env.invalidate_all()
        self.assertTrue(self.feed._is_stale(LATER))
        self.env["calendar.feed"]._get_up_to_date(LATER)
        self.assertEqual(self.stored_bodies()["ics"], before["ics"])
        self.assert_gzip_is_the_identity_body()


@tagged("post_install", "-at_install")
class TestMigrationTo190(SegmentCase, TransactionCase):
    """19.0.1.9.0: segments are placed by hour and their text is a ``text`` column."""

    def test_the_first_request_after_the_update_stores_the_same_bodies_again(self):
        self.book_one_of_each()
        self.build(NOW)
        before = self.stored_bodies()
        # What 19.0.1.8.0 left: segments with their text as bytea.
        self.env.flush_all()
        self.env.cr.execute(
            "ALTER TABLE calendar_feed_segment ALTER COLUMN body TYPE bytea USING convert_to(body, 'UTF8')"
        )
        run_migration(self.env.cr, "19.0.1.9.0", "pre")
        self.env.invalidate_all()
        # Never an empty body under the old ETag: not built until the first build after the update.
        self.assertFalse(self.feed.built_at or self.feed.ics_etag or self.feed.json_etag)
        self.assertFalse(self.env["calendar.feed.segment"].search_count([]))
        self.env.cr.execute(
            "SELECT count(*) FROM information_schema.columns WHERE table_name = 'calendar_feed_segment' "
            "AND column_name = 'body'"
        )
        self.assertEqual(self.env.cr.fetchone()[0], 0)
        self.env["calendar.feed.segment"].init()  # what the update does next: the column, as text
        self.env.invalidate_all()
        self.assertTrue(self.feed._is_stale(LATER))
        self.env["calendar.feed"]._get_up_to_date(LATER)
        self.assertEqual(self.stored_bodies()["ics"], before["ics"])
        # The same events; the document's updatedAt is the new build's, as it was never built.
        _calendar, document = self.assert_gzip_is_the_identity_body()
        self.assertEqual(document["events"], json.loads(before["json"][0])["events"])

    def test_an_update_from_before_segments_has_none_to_drop(self):
        journal = self.env["calendar.feed.change"]
        before = journal.search_count([])
        self.env.cr.execute("ALTER TABLE calendar_feed_segment RENAME TO test_segments_aside")
        run_migration(self.env.cr, "19.0.1.9.0", "pre")
        self.env.cr.execute("ALTER TABLE test_segments_aside RENAME TO calendar_feed_segment")
        self.assertEqual(journal.search_count([]), before + 1, "the next request builds")


@tagged("post_install", "-at_install")
class TestSplicedGzipOverHttp(FeedCase, HttpCase):
    """What a client's own HTTP stack reads: Python's http.client asking for gzip."""

    def test_a_client_decompresses_the_spliced_feeds_to_the_identity_bodies(self):
        token = self.enable_endpoint()
        for number in range(6):
            self.book(
                self.sim_room, self.local_time(number, 9), self.local_time(number, 10), name=f"Ő {number} 🚑"
            )
        for path in (f"{FEED_PATH}.ics", f"{FEED_PATH}.json"):
            bodies = {}
            for coding in ("gzip", "identity"):
                bodies[coding] = self.http_client_get(f"{path}?token={token}", {"Accept-Encoding": coding})
            self.assertEqual(bodies["gzip"][0], "gzip", bodies["gzip"][1][:300])
            self.assertEqual(gzip.decompress(bodies["gzip"][1]), bodies["identity"][1])

    def http_client_get(self, path, headers):
        """``(Content-Encoding, body on the wire)`` of a GET made with ``http.client``."""
        address = urlsplit(self.base_url())
        with self.allow_requests():
            # Odoo's test server answers only requests bearing the test's cookie.
            cookie = f"{TEST_CURSOR_COOKIE_NAME}={self.opener.cookies[TEST_CURSOR_COOKIE_NAME]}"
            connection = http.client.HTTPConnection(address.hostname, address.port, timeout=10)
            try:
                connection.request("GET", path, headers={**headers, "Cookie": cookie})
                response = connection.getresponse()
                return response.getheader("Content-Encoding"), response.read()
            finally:
                connection.close()
