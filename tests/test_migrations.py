import importlib.util
from datetime import datetime, timezone

from odoo.tests import TransactionCase, tagged
from odoo.tools.misc import file_path

from .common import FeedCase


def run_migration(cr, version, stage):
    """Run ``migrations/<version>/<stage>-migrate.py`` as Odoo's updater would."""
    path = file_path(f"external_calendar_api/migrations/{version}/{stage}-migrate.py")
    spec = importlib.util.spec_from_file_location(f"migrate_{stage}", path)
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    script.migrate(cr, "19.0.1.5.0")


@tagged("post_install", "-at_install")
class TestMigrationTo160(FeedCase, TransactionCase):
    """19.0.1.6.0: room codes become arrays, and older rows get what builds store now."""

    def setUp(self):
        super().setUp()
        self.book_one_of_each()
        self.moved = self.book(self.sim_room, self.local_time(3, 9), self.local_time(3, 10), name="Moved")
        self.feed._rebuild(datetime.now(timezone.utc))
        self.moved.room_ids = self.debriefing
        self.feed._rebuild(datetime.now(timezone.utc))
        self.env.flush_all()

    def stored(self):
        self.env.cr.execute(
            "SELECT event_id, rooms_booked, rooms_seen, object_etag FROM calendar_feed_entry "
            "ORDER BY event_id"
        )
        return self.env.cr.fetchall()

    def test_room_code_texts_become_arrays_and_missing_etags_are_filled(self):
        expected = self.stored()
        self.assertIn((self.moved.id, ["TDEBRIEF"], ["TDEBRIEF", "TSIM1"]), [row[:3] for row in expected])
        # The table as 19.0.1.5.0 left it; the oldest rows had neither a seen list nor an ETag.
        self.env.cr.execute(
            """
            ALTER TABLE calendar_feed_entry ADD COLUMN room_codes varchar, ADD COLUMN seen_room_codes varchar;
            UPDATE calendar_feed_entry
               SET room_codes = ',' || array_to_string(rooms_booked, ',') || ',',
                   seen_room_codes = ',' || array_to_string(rooms_seen, ',') || ',',
                   rooms_booked = '{}', rooms_seen = '{}';
            UPDATE calendar_feed_entry SET seen_room_codes = NULL, object_etag = NULL WHERE event_id = %s;
            """,
            [self.sim_only.id],
        )
        run_migration(self.env.cr, "19.0.1.6.0", "pre")
        self.assertEqual(self.stored(), expected)

    def test_rendering_again_after_the_update_changes_nothing_published(self):
        stamp, expected = self.feed.change_stamp, self.stored()
        run_migration(self.env.cr, "19.0.1.6.0", "post")
        self.assertEqual((self.feed.change_stamp, self.stored()), (stamp, expected))


@tagged("post_install", "-at_install")
class TestMigrationTo1100(TransactionCase):
    """19.0.1.10.0: the index of the entries' ``removed_at`` holds tombstones only."""

    def index_definition(self):
        self.env.cr.execute(
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'calendar_feed_entry__removed_at_index'"
        )
        return [definition for (definition,) in self.env.cr.fetchall()]

    def test_the_update_makes_the_index_partial(self):
        [installed] = self.index_definition()
        self.assertIn("WHERE (removed_at IS NOT NULL)", installed)
        # What 19.0.1.9.0 left: an index of every entry.
        self.env.cr.execute(
            "DROP INDEX calendar_feed_entry__removed_at_index; "
            "CREATE INDEX calendar_feed_entry__removed_at_index ON calendar_feed_entry (removed_at)"
        )
        run_migration(self.env.cr, "19.0.1.10.0", "pre")
        self.assertEqual(self.index_definition(), [])
        self.env.registry.check_indexes(self.env.cr, ["calendar.feed.entry"])  # what the update does next
        self.assertEqual(self.index_definition(), [installed])
