from psycopg2 import IntegrityError

from odoo.exceptions import ValidationError
from odoo.tests import TransactionCase, tagged
from odoo.tools import mute_logger

from .common import RoomBookingCase, at


@tagged("post_install", "-at_install")
class TestCalendarRoom(RoomBookingCase, TransactionCase):
    def test_room_code_must_be_unique(self):
        with mute_logger("odoo.sql_db"), self.assertRaises(IntegrityError):
            self.env["calendar.room"].create({"name": "Copy", "code": "TSIM1"})

    def test_room_code_must_be_url_safe(self):
        for code in ("SIM 1", "sim/1", "x" * 33, "é"):
            with self.subTest(code=code), self.assertRaises(ValidationError):
                self.env["calendar.room"].create({"name": "Bad", "code": code})

    def test_capacity_cannot_be_negative(self):
        with mute_logger("odoo.sql_db"), self.assertRaises(IntegrityError):
            self.env["calendar.room"].create({"name": "Bad", "code": "NEG", "capacity": -1})

    def test_new_room_is_active_and_published(self):
        room = self.env["calendar.room"].create({"name": "Skills Lab", "code": "TSKILLS"})
        self.assertTrue(room.active)
        self.assertTrue(room.is_published)

    def test_event_count_counts_bookings_of_the_room(self):
        self.book(self.sim_room, at(5, 8), at(5, 9))
        self.book(self.sim_room | self.debriefing, at(5, 10), at(5, 11))
        self.assertEqual(self.sim_room.event_count, 2)
        self.assertEqual(self.debriefing.event_count, 1)

    def test_open_bookings_shows_only_this_room(self):
        booking = self.book(self.debriefing, at(5, 8), at(5, 9))
        self.book(self.sim_room, at(5, 8), at(5, 9))
        action = self.debriefing.action_open_bookings()
        self.assertEqual(self.env["calendar.event"].search(action["domain"]), booking)
        self.assertEqual(action["context"]["default_room_ids"], self.debriefing.ids)
