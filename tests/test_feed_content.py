from datetime import date, datetime, timezone

from odoo.tests import TransactionCase, tagged

from .common import FeedCase, at

# 10:00 UTC on 5 March 2026; the calendar is in Budapest (UTC+1), so the default
# window runs from 5 March 00:00 to 12 March 24:00 local time.
NOW = datetime(2026, 3, 5, 10, 0, tzinfo=timezone.utc)


@tagged("post_install", "-at_install")
class TestFeedContent(FeedCase, TransactionCase):
    def test_window_edges_are_local_midnights(self):
        self.book(self.sim_room, at(4, 22), at(4, 23), name="ends at the first midnight")
        self.book(self.sim_room, at(4, 23), at(4, 23, 30), name="starts at the first midnight")
        self.book(self.sim_room, at(12, 22, 59), at(12, 23, 30), name="starts 23:59 on the last day")
        self.book(self.sim_room, at(12, 23), at(12, 23, 30), name="starts after the last day")
        calendar, document = self.build(NOW)
        self.assertEqual(
            self.titles(calendar), ["starts 23:59 on the last day", "starts at the first midnight"]
        )
        self.assertEqual(document["window"], {"from": "2026-03-04T23:00:00Z", "to": "2026-03-12T23:00:00Z"})

    def test_all_day_bookings_are_published_by_local_date(self):
        for day in (4, 5, 12, 13):
            self.book(
                self.sim_room,
                at(day, 8),
                at(day, 18),
                name=f"all day {day}",
                allday=True,
                start_date=date(2026, 3, day),
                stop_date=date(2026, 3, day),
            )
        calendar, document = self.build(NOW)
        self.assertEqual(self.titles(calendar), ["all day 12", "all day 5"])
        event = next(e for e in calendar.walk("VEVENT") if str(e["SUMMARY"]) == "all day 5")
        self.assertEqual((event["DTSTART"].dt, event["DTEND"].dt), (date(2026, 3, 5), date(2026, 3, 6)))
        self.assertTrue(all(event["allDay"] for event in document["events"]))

    def test_past_and_future_days_widen_the_window(self):
        self.book(self.sim_room, at(3, 9), at(3, 10), name="two days ago")
        self.book(self.sim_room, at(20, 9), at(20, 10), name="in fifteen days")
        self.set_feed_param("past_days", 2)
        self.set_feed_param("future_days", 15)
        calendar, _document = self.build(NOW)
        self.assertEqual(self.titles(calendar), ["in fifteen days", "two days ago"])

    def test_private_and_internal_only_bookings_show_as_busy(self):
        self.set_feed_param("publish_description", True)
        self.book(
            self.sim_room,
            at(5, 9),
            at(5, 10),
            name="Exam board",
            privacy="private",
            description="<p>Candidates: A. Smith</p>",
        )
        self.book(self.sim_room, at(5, 11), at(5, 12), name="Staff only", privacy="confidential")
        calendar, document = self.build(NOW)
        self.assertEqual(self.titles(calendar), ["Busy", "Busy"])
        for event in calendar.walk("VEVENT"):
            self.assertEqual(str(event["CLASS"]), "PRIVATE")
            self.assertNotIn("DESCRIPTION", event)
        self.assertNotIn("Smith", self.feed.ics_body + self.feed.json_body)
        self.assertEqual({event["note"] for event in document["events"]}, {""})

    def test_bookings_without_privacy_take_their_organizers_default_or_the_calendars(self):
        self.env["ir.config_parameter"].sudo().set_param("calendar.default_privacy", "private")
        organizer = self.env["res.users"].sudo().search([("id", "!=", self.env.uid)], limit=1)
        organizer.with_user(organizer).calendar_default_privacy = "public"
        self.book(self.sim_room, at(5, 9), at(5, 10), name="Open day", user_id=organizer.id, privacy=False)
        self.book(self.sim_room, at(5, 11), at(5, 12), name="Nobody's", user_id=False, privacy=False)
        self.assertEqual(self.titles(self.build(NOW)[0]), ["Busy", "Open day"])

    def test_descriptions_are_published_only_when_chosen(self):
        self.book(self.sim_room, at(5, 9), at(5, 10), name="OSCE", description="<p>Bring your badge</p>")
        calendar, _document = self.build(NOW)
        self.assertNotIn("DESCRIPTION", calendar.walk("VEVENT")[0])
        self.set_feed_param("publish_description", True)
        calendar, document = self.build(NOW)
        self.assertEqual(str(calendar.walk("VEVENT")[0]["DESCRIPTION"]), "Bring your badge")
        self.assertEqual(document["events"][0]["note"], "Bring your badge")

    def test_attendee_contact_details_are_never_published(self):
        partner = self.env["res.partner"].create(
            {"name": "Dr Who", "email": "doctor@tardis.example", "phone": "+36 1 555 0199"}
        )
        booking = self.book(
            self.sim_room,
            at(5, 9),
            at(5, 10),
            name="OSCE",
            partner_ids=[(6, 0, partner.ids)],
            description="<p>Bring badges. Questions: <b>sim-office@hospital.example</b></p>",
        )
        booking.description += booking._get_contact_details_description(self.admin, partner)
        self.set_feed_param("publish_description", True)
        _calendar, document = self.build(NOW)
        published = self.feed.ics_body + self.feed.json_body
        for secret in ("tardis", "555 0199", "hospital.example", "ATTENDEE", "ORGANIZER"):
            self.assertNotIn(secret, published)
        self.assertIn("Bring badges. Questions: [e-mail hidden]", document["events"][0]["note"])

    def test_only_published_rooms_and_their_bookings_are_published(self):
        hidden = self.env["calendar.room"].create(
            {"name": "Control", "code": "TCONTROL", "is_published": False}
        )
        self.book(hidden, at(5, 9), at(5, 10), name="control room only")
        self.book(self.sim_room | hidden, at(5, 11), at(5, 12), name="sim and control")
        calendar, document = self.build(NOW)
        self.assertEqual(self.titles(calendar), ["sim and control"])
        self.assertEqual([room["code"] for room in document["events"][0]["rooms"]], ["TSIM1"])
        self.assertNotIn("Control", self.feed.ics_body)

    def test_archived_rooms_are_not_published(self):
        self.book(self.debriefing, at(5, 9), at(5, 10), name="debrief")
        self.debriefing.active = False
        calendar, _document = self.build(NOW)
        self.assertEqual(self.titles(calendar), [])

    def test_tentative_bookings_only_when_chosen_and_cancelled_never(self):
        self.book(self.sim_room, at(5, 9), at(5, 10), name="confirmed")
        self.book(self.sim_room, at(5, 10), at(5, 11), name="tentative", booking_status="tentative")
        self.book(self.sim_room, at(5, 11), at(5, 12), name="cancelled", booking_status="cancelled")
        calendar, _document = self.build(NOW)
        self.assertEqual(self.titles(calendar), ["confirmed"])
        self.set_feed_param("publish_tentative", True)
        calendar, _document = self.build(NOW)
        self.assertEqual(self.titles(calendar), ["confirmed", "tentative"])
        statuses = {str(e["SUMMARY"]): str(e["STATUS"]) for e in calendar.walk("VEVENT")}
        self.assertEqual(statuses["tentative"], "TENTATIVE")

    def test_json_event_carries_rooms_and_identifiers(self):
        booking = self.book(self.sim_room | self.debriefing, at(5, 9), at(5, 10, 30), name="OSCE")
        calendar, document = self.build(NOW)
        (event,) = document["events"]
        self.assertEqual(event["id"], booking.id)
        self.assertEqual(event["uid"], str(calendar.walk("VEVENT")[0]["UID"]))
        self.assertEqual(
            (event["eventStart"], event["eventEnd"]), ("2026-03-05T09:00:00Z", "2026-03-05T10:30:00Z")
        )
        self.assertEqual(
            event["rooms"],
            # In the order of the Rooms list (sequence, then name).
            [
                {"id": self.debriefing.id, "code": "TDEBRIEF", "name": "Debriefing", "location": ""},
                {"id": self.sim_room.id, "code": "TSIM1", "name": "Sim Room 1", "location": "Building A"},
            ],
        )
        self.assertEqual(document["timeZone"], "Europe/Budapest")

    def test_uid_is_stable_across_rebuilds_and_renames(self):
        booking = self.book(self.sim_room, at(5, 9), at(5, 10), name="OSCE")
        first, _document = self.build(NOW)
        booking.write({"name": "OSCE (moved)", "room_ids": [(6, 0, self.debriefing.ids)]})
        second, _document = self.build(NOW)
        self.assertEqual(str(first.walk("VEVENT")[0]["UID"]), str(second.walk("VEVENT")[0]["UID"]))
        database_uuid = self.env["ir.config_parameter"].get_param("database.uuid")
        self.assertIn(database_uuid, str(second.walk("VEVENT")[0]["UID"]))

    def test_recurring_bookings_publish_each_occurrence(self):
        self.book_series(self.sim_room, at(2, 8), at(2, 9), 10, name="Daily drill")
        calendar, document = self.build(NOW)
        self.assertEqual(len(calendar.walk("VEVENT")), 7)  # the occurrences of 5 to 11 March
        self.assertNotIn("RRULE", self.feed.ics_body)
        self.assertTrue(all(event["isPartOfRecurringSeries"] for event in document["events"]))
        self.assertFalse(any(event["isRecurringSeries"] for event in document["events"]))
