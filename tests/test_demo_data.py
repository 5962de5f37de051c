from odoo.tests import TransactionCase, tagged


@tagged("post_install", "-at_install")
class TestDemoData(TransactionCase):
    """The demo database of `make run` shows a working simulation centre."""

    def setUp(self):
        super().setUp()
        # Odoo 19 installs without demo data unless asked (--with-demo): nothing to check then.
        module = self.env["ir.module.module"].search([("name", "=", "external_calendar_api")])
        if not module.demo:
            self.skipTest("installed without demo data")

    def test_demo_rooms_and_bookings_are_loaded(self):
        rooms = self.env["calendar.room"].search(
            [("code", "in", ["SIM1", "SIM2", "SIM3", "DEBRIEF", "SKILLS"])]
        )
        self.assertEqual(len(rooms), 5)
        self.assertFalse(self.env.ref("external_calendar_api.calendar_room_control").is_published)
        bookings = self.env["calendar.event"].search([("room_ids", "in", rooms.ids)])
        self.assertGreaterEqual(len(bookings), 14)  # ten bookings and five occurrences of a series
        self.assertTrue(bookings.filtered("recurrence_id"))

    def test_demo_bookings_show_in_the_calendar_app(self):
        # The Calendar app shows the events of the attendees ticked in its sidebar.
        booking = self.env.ref("external_calendar_api.calendar_event_osce_station_1")
        self.assertIn(self.env.ref("base.partner_admin"), booking.partner_ids)
