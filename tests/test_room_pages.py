from odoo.tests import HttpCase, tagged

from .common import RoomBookingCase


@tagged("post_install", "-at_install")
class TestRoomPages(RoomBookingCase, HttpCase):
    def test_rooms_action_opens_for_an_admin(self):
        self.authenticate("room_admin", "room_admin")
        response = self.url_open("/odoo/calendar-rooms")
        self.assertEqual(response.status_code, 200)

    def test_rooms_are_readable_over_json_rpc_by_an_employee(self):
        self.authenticate("room_employee", "room_employee")
        result = self.make_jsonrpc_request(
            "/web/dataset/call_kw/calendar.room/search_read",
            {
                "model": "calendar.room",
                "method": "search_read",
                "args": [[("code", "=", "TSIM1")]],
                "kwargs": {"fields": ["name", "location"]},
            },
        )
        self.assertEqual(result, [{"id": self.sim_room.id, "name": "Sim Room 1", "location": "Building A"}])

    def test_rooms_menu_works_in_the_browser(self):
        self.start_tour("/odoo", "calendar_room_menu_tour", login="room_admin")
        self.assertEqual(self.sim_room.capacity, 10)
