from odoo.tests import Form, TransactionCase, tagged

from .common import RoomBookingCase, at


@tagged("post_install", "-at_install")
class TestCalendarEventRooms(RoomBookingCase, TransactionCase):
    def test_new_booking_is_confirmed(self):
        self.assertEqual(self.book(self.sim_room, at(5, 8), at(5, 9)).booking_status, "confirmed")

    def test_rooms_can_be_searched_from_events(self):
        booking = self.book(self.sim_room, at(5, 8), at(5, 9))
        self.book(self.debriefing, at(5, 8), at(5, 9))
        found = self.env["calendar.event"].search([("room_ids", "in", self.sim_room.ids)])
        self.assertEqual(found, booking)

    def test_overlapping_booking_of_a_room_warns(self):
        first = self.book(self.sim_room, at(5, 8), at(5, 10), name="OSCE")
        second = self.book(self.sim_room | self.debriefing, at(5, 9), at(5, 11), name="Debrief")
        self.assertIn("Sim Room 1", second.room_conflict_warning)
        self.assertIn("OSCE", second.room_conflict_warning)
        self.assertIn("Debrief", first.room_conflict_warning)

    def test_adjacent_or_other_room_bookings_do_not_warn(self):
        self.book(self.sim_room, at(5, 8), at(5, 10))
        adjacent = self.book(self.sim_room, at(5, 10), at(5, 11))
        elsewhere = self.book(self.debriefing, at(5, 8), at(5, 10))
        self.assertFalse(adjacent.room_conflict_warning)
        self.assertFalse(elsewhere.room_conflict_warning)

    def test_cancelled_booking_frees_the_room(self):
        first = self.book(self.sim_room, at(5, 8), at(5, 10))
        second = self.book(self.sim_room, at(5, 9), at(5, 11))
        first.booking_status = "cancelled"
        self.assertFalse(second.room_conflict_warning)
        self.assertFalse(first.room_conflict_warning)

    def test_conflict_shows_in_the_form_before_saving(self):
        self.book(self.sim_room, at(5, 8), at(5, 10), name="OSCE")
        with Form(self.env["calendar.event"]) as form:
            form.name = "Late booking"
            form.start = at(5, 9)
            form.stop = at(5, 10)
            form.room_ids.add(self.sim_room)
            self.assertIn("OSCE", form.room_conflict_warning)

    def test_recurring_booking_books_the_room_on_every_occurrence(self):
        series = self.book_series(
            self.sim_room,
            at(2, 8),
            at(2, 9),
            4,
            name="Weekly skills",
            rrule_type="weekly",
            mon=True,
            booking_status="tentative",
        )
        occurrences = series.recurrence_id.calendar_event_ids
        self.assertEqual(len(occurrences), 4)
        for occurrence in occurrences:
            self.assertEqual(occurrence.room_ids, self.sim_room)
            self.assertEqual(occurrence.booking_status, "tentative")
