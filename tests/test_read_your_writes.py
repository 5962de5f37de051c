"""Read-your-writes over HTTP: a read that starts after a change shows it, on every route."""

from odoo.tests import HttpCase, tagged

from ..booking_feed.tests import fresh_reads
from .common import FeedCase

ROUNDS = 50


@tagged("post_install", "-at_install")
class TestReadYourWrites(FeedCase, HttpCase):
    """The routes of ``fresh_reads``, read in parallel right after each rename.

    ``make bench-load`` runs the same rounds against a multi-worker server
    with real commits, where the readers race the rebuild; here the test
    server serves them from the test's transaction, so this proves that no
    route answers from a build older than the change.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.token = cls.enable_endpoint()
        cls.booking = cls.book(cls.sim_room, cls.local_time(1, 9), cls.local_time(1, 10), name="Before")
        key = cls.env["calendar.feed.key"].generate(
            {"name": "Door sign", "room_ids": [(6, 0, cls.sim_room.ids)]}
        )
        cls.key_token = key["token"]

    def rename(self, title):
        self.booking.name = title
        self.env.flush_all()

    def test_every_route_read_right_after_a_change_shows_it(self):
        subject = {"id": self.booking.id, "room_code": self.sim_room.code}
        readers = fresh_reads.Readers(self.http_port(), self.token, self.key_token, subject)
        with self.allow_requests(all_requests=True):  # the readers' own connections, without a cookie
            stale = fresh_reads.read_your_writes(self.rename, readers, ROUNDS)
        self.assertEqual(len(stale), 12, "twelve routes read")
        self.assertEqual({route: count for route, count in stale.items() if count}, {})
