from odoo.exceptions import AccessError
from odoo.tests import TransactionCase, tagged

from .common import RoomBookingCase, at


@tagged("post_install", "-at_install")
class TestRoomAccessRights(RoomBookingCase, TransactionCase):
    def test_internal_user_reads_rooms(self):
        rooms = self.env["calendar.room"].with_user(self.employee).search([("code", "like", "T%")])
        self.assertIn(self.sim_room, rooms)
        self.assertEqual(self.sim_room.with_user(self.employee).name, "Sim Room 1")

    def test_internal_user_cannot_manage_rooms(self):
        Room = self.env["calendar.room"].with_user(self.employee)
        with self.assertRaises(AccessError):
            Room.create({"name": "Mine", "code": "MINE"})
        with self.assertRaises(AccessError):
            self.sim_room.with_user(self.employee).write({"name": "Renamed"})
        with self.assertRaises(AccessError):
            self.sim_room.with_user(self.employee).unlink()

    def test_internal_user_books_a_room_on_an_event(self):
        event = (
            self.env["calendar.event"]
            .with_user(self.employee)
            .create(
                {
                    "name": "Team training",
                    "start": at(6, 8),
                    "stop": at(6, 9),
                    "room_ids": [(6, 0, self.sim_room.ids)],
                }
            )
        )
        self.assertEqual(event.room_ids, self.sim_room)

    def test_settings_admin_manages_rooms(self):
        room = self.env["calendar.room"].with_user(self.admin).create({"name": "New", "code": "TNEW"})
        room.write({"capacity": 12, "is_published": False})
        self.assertEqual(room.capacity, 12)
        room.unlink()
        self.assertFalse(room.exists())

    def test_portal_user_cannot_read_rooms(self):
        from odoo.tests import new_test_user  # noqa: PLC0415

        portal = new_test_user(self.env, login="room_portal", groups="base.group_portal")
        with self.assertRaises(AccessError):
            self.env["calendar.room"].with_user(portal).search([])
