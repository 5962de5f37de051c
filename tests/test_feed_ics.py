import json
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import icalendar

from odoo.tests import TransactionCase, tagged

from ..booking_feed.audience import EVERY_ROOM
from ..booking_feed.tests.conformance import check_ics
from .common import FeedCase, at, optional_test_dependency, require

recurring_ical_events = optional_test_dependency("recurring_ical_events")

NOW = datetime(2026, 3, 5, 10, 0, tzinfo=timezone.utc)
LATER = NOW + timedelta(hours=1)


def local(zone, *moment):
    """A naive UTC datetime (as Odoo stores it) for a wall-clock time in ``zone``."""
    return datetime(*moment, tzinfo=ZoneInfo(zone)).astimezone(timezone.utc).replace(tzinfo=None)


def by_title(calendar):
    return {str(event["SUMMARY"]): event for event in calendar.walk("VEVENT")}


@tagged("post_install", "-at_install")
class TestIcsIdentityAndUpdates(FeedCase, TransactionCase):
    def test_unchanged_feed_rendered_again_from_scratch_is_byte_identical(self):
        self.set_feed_param("publish_description", True)
        self.book(self.sim_room, at(5, 9), at(5, 10), name="OSCE", description="<p>Bring badges</p>")
        self.book(self.debriefing, at(6, 9), at(6, 10), name="Debrief ; room, 2")
        self.book_series(self.sim_room, at(5, 12), at(5, 13), 3, name="Drill")
        self.build(NOW)
        first = (self.feed.ics_body, self.feed.json_body)
        # Throw every rendered block away: the next build must render them all again.
        self.env.flush_all()
        self.env.cr.execute("UPDATE calendar_feed_entry SET ics_block = 'stale', json_object = '{}'")
        self.env.invalidate_all()
        self.env["calendar.feed.entry"]._render_all_again()
        self.assertTrue(self.feed._rebuild(LATER, full=True))
        self.assertEqual(self.feed.ics_body, first[0])
        # The same events; only the sync token moved, as blocks that differed from the stored ones
        # (here "stale") get a new change stamp, for sync clients to fetch them again.
        again, before = json.loads(self.feed.json_body), json.loads(first[1])
        self.assertNotEqual(again.pop("syncToken"), before.pop("syncToken"))
        self.assertEqual(again, before)

    def test_edit_keeps_the_uid_and_raises_sequence_and_last_modified(self):
        booking = self.book(self.sim_room, at(5, 9), at(5, 10), name="OSCE")
        before = by_title(self.build(NOW)[0])["OSCE"]
        booking.write({"name": "OSCE (room change)", "start": at(5, 11), "stop": at(5, 12)})
        after = by_title(self.build(LATER)[0])["OSCE (room change)"]
        self.assertEqual(str(after["UID"]), str(before["UID"]))
        self.assertEqual((before["SEQUENCE"], after["SEQUENCE"]), (0, 1))
        self.assertGreater(after["LAST-MODIFIED"].dt, before["LAST-MODIFIED"].dt)
        self.assertEqual(after["DTSTAMP"].dt, after["LAST-MODIFIED"].dt)
        self.assertEqual(after["CREATED"].dt, before["CREATED"].dt)

    def test_every_published_change_raises_sequence_and_the_etag(self):
        self.set_feed_param("publish_description", True)
        changes = {
            "description": {"description": "<p>Bring badges</p>"},
            "privacy": {"privacy": "private"},
            "show as": {"show_as": "free"},
            "all day": {"allday": True, "start_date": date(2026, 3, 5), "stop_date": date(2026, 3, 5)},
            "start": {"start": at(5, 8)},
            "end": {"stop": at(5, 11)},
            "title": {"name": "OSCE 2"},
            "rooms": {"room_ids": [(6, 0, (self.sim_room | self.debriefing).ids)]},
            "status": {"booking_status": "tentative"},
        }
        self.set_feed_param("publish_tentative", True)
        for change, values in changes.items():
            with self.subTest(change=change):
                booking = self.book(self.sim_room, at(5, 9), at(5, 10), name="OSCE")
                self.build(NOW)
                uid = self.env["calendar.feed.entry"].search([("event_id", "=", booking.id)]).uid
                etags = (self.feed.ics_etag, self.feed.json_etag)
                booking.write(values)
                (event,) = [e for e in self.build(LATER)[0].walk("VEVENT") if str(e["UID"]) == uid]
                self.assertEqual(event["SEQUENCE"], 1)
                self.assertNotEqual(self.feed.ics_etag, etags[0])
                self.assertNotEqual(self.feed.json_etag, etags[1])

    def test_unpublished_changes_do_not_raise_sequence(self):
        booking = self.book(self.sim_room, at(5, 9), at(5, 10), name="OSCE")
        self.build(NOW)
        booking.write({"alarm_ids": [(6, 0, self.env["calendar.alarm"].search([], limit=1).ids)]})
        self.assertEqual(by_title(self.build(LATER)[0])["OSCE"]["SEQUENCE"], 0)

    def test_room_rename_raises_sequence(self):
        self.book(self.sim_room, at(5, 9), at(5, 10), name="OSCE")
        self.build(NOW)
        self.sim_room.name = "Simulation Room 1"
        event = by_title(self.build(LATER)[0])["OSCE"]
        self.assertEqual((event["SEQUENCE"], str(event["LOCATION"])), (1, "Simulation Room 1 (Building A)"))

    def test_organizer_is_published_only_when_configured(self):
        self.book(self.sim_room, at(5, 9), at(5, 10), name="OSCE")
        self.assertNotIn("ORGANIZER", by_title(self.build(NOW)[0])["OSCE"])
        self.set_feed_param("organizer_name", "Booking desk")
        self.set_feed_param("organizer_email", "desk@hospital.example")
        event = by_title(self.build(LATER)[0])["OSCE"]
        self.assertEqual((str(event["ORGANIZER"]), event["SEQUENCE"]), ("mailto:desk@hospital.example", 1))

    def test_free_and_tentative_bookings_keep_their_transparency_and_status(self):
        self.set_feed_param("publish_tentative", True)
        self.book(self.sim_room, at(5, 9), at(5, 10), name="free", show_as="free")
        self.book(self.sim_room, at(5, 11), at(5, 12), name="maybe", booking_status="tentative")
        events = by_title(self.build(NOW)[0])
        self.assertEqual(str(events["free"]["TRANSP"]), "TRANSPARENT")
        self.assertEqual(
            (str(events["maybe"]["STATUS"]), str(events["maybe"]["TRANSP"])), ("TENTATIVE", "OPAQUE")
        )

    def test_reimport_simulation_updates_instead_of_duplicating(self):
        """Import two builds the way a client does: by UID, keeping the highest SEQUENCE."""
        booking = self.book(self.sim_room, at(5, 9), at(5, 10), name="OSCE")
        self.book(self.debriefing, at(6, 9), at(6, 10), name="Debrief")
        imported = {}
        for build_time, change in ((NOW, None), (LATER, lambda: booking.write({"name": "OSCE v2"}))):
            if change:
                change()
            for event in self.build(build_time)[0].walk("VEVENT"):
                uid = str(event["UID"])
                if uid not in imported or event["SEQUENCE"] > imported[uid]["SEQUENCE"]:
                    imported[uid] = event
        self.assertEqual(sorted(str(e["SUMMARY"]) for e in imported.values()), ["Debrief", "OSCE v2"])

    def test_each_occurrence_of_a_series_has_its_own_stable_uid(self):
        series = self.book_series(self.sim_room, at(5, 8), at(5, 9), 3, name="Drill")
        first = self.build(NOW)[0]
        uids = [str(event["UID"]) for event in first.walk("VEVENT")]
        self.assertEqual(len(set(uids)), 3)
        occurrences = series.recurrence_id.calendar_event_ids.sorted("start")
        occurrences[1].with_context(recurrence_update="self_only").write(
            {"start": at(6, 14), "stop": at(6, 15)}
        )
        second = self.build(LATER)[0]
        self.assertEqual(sorted(str(event["UID"]) for event in second.walk("VEVENT")), sorted(uids))
        moved = next(
            e
            for e in second.walk("VEVENT")
            if e["DTSTART"].dt == datetime(2026, 3, 6, 14, tzinfo=timezone.utc)
        )
        self.assertEqual(moved["SEQUENCE"], 1)


@tagged("post_install", "-at_install")
class TestIcsRemovals(FeedCase, TransactionCase):
    """Subscribers learn of a removal by its absence; the file to import carries the cancellation."""

    def imported(self, now):
        """The download for import, as of ``now``."""
        answer = self.env["calendar.feed.query"]._answer_import(
            self.feed, self.feed._get_settings(), EVERY_ROOM, {}, now
        )
        return check_ics(answer.read())

    def assertRemoved(self, calendar, now, title, sequence):
        """``title`` is absent from the subscribed ``calendar`` and CANCELLED in the import file."""
        self.assertNotIn(title, by_title(calendar))
        event = by_title(self.imported(now))[title]
        self.assertEqual((str(event["STATUS"]), event["SEQUENCE"]), ("CANCELLED", sequence))

    def test_deleted_booking_vanishes_and_is_cancelled_for_importers_until_retention(self):
        self.set_feed_param("past_days", 730)
        booking = self.book(self.sim_room, at(5, 9), at(5, 10), name="OSCE")
        self.build(NOW)
        booking.unlink()
        calendar, document = self.build(LATER)
        self.assertRemoved(calendar, LATER, "OSCE", 1)
        self.assertEqual(document["events"], [])  # the JSON feed lists live bookings only
        self.assertEqual(self.feed.event_count, 0)
        self.assertRemoved(self.build(NOW + timedelta(days=29))[0], NOW + timedelta(days=29), "OSCE", 1)
        self.build(NOW + timedelta(days=31))
        self.assertEqual(self.imported(NOW + timedelta(days=31)).walk("VEVENT"), [])

    def test_retention_period_is_a_setting(self):
        self.set_feed_param("past_days", 730)
        self.set_feed_param("retention_days", 2)
        booking = self.book(self.sim_room, at(5, 9), at(5, 10), name="OSCE")
        self.build(NOW)
        booking.unlink()
        self.build(LATER)
        self.build(NOW + timedelta(days=3))
        self.assertEqual(self.imported(NOW + timedelta(days=3)).walk("VEVENT"), [])

    def test_cancelled_unpublished_or_moved_out_bookings_vanish_from_subscriptions(self):
        cancelled = self.book(self.sim_room, at(5, 9), at(5, 10), name="cancelled")
        self.book(self.debriefing, at(5, 11), at(5, 12), name="room unpublished")
        moved = self.book(self.sim_room, at(6, 9), at(6, 10), name="moved out")
        self.build(NOW)
        cancelled.booking_status = "cancelled"
        self.debriefing.is_published = False
        moved.write({"start": at(25, 9), "stop": at(25, 10)})
        calendar, _document = self.build(LATER)
        self.assertEqual(calendar.walk("VEVENT"), [])
        self.assertNotIn(b"STATUS:CANCELLED", self.feed.ics_body.encode())
        for title in ("cancelled", "room unpublished", "moved out"):
            self.assertRemoved(calendar, LATER, title, 1)

    def test_booking_moved_back_in_is_confirmed_again_with_a_higher_sequence(self):
        booking = self.book(self.sim_room, at(5, 9), at(5, 10), name="OSCE")
        self.build(NOW)
        booking.write({"start": at(25, 9), "stop": at(25, 10)})
        self.build(LATER)
        booking.write({"start": at(6, 9), "stop": at(6, 10)})
        calendar, _document = self.build(LATER + timedelta(hours=1))
        for published in (calendar, self.imported(LATER + timedelta(hours=1))):
            event = by_title(published)["OSCE"]
            self.assertEqual((str(event["STATUS"]), event["SEQUENCE"]), ("CONFIRMED", 2))

    def test_bookings_that_end_before_the_window_are_dropped_not_cancelled(self):
        self.book(self.sim_room, at(5, 9), at(5, 10), name="today")
        self.build(NOW)
        calendar, _document = self.build(NOW + timedelta(days=1))
        self.assertEqual(calendar.walk("VEVENT"), [])
        self.assertEqual(self.imported(NOW + timedelta(days=1)).walk("VEVENT"), [])


@tagged("post_install", "-at_install")
class TestIcsTimes(FeedCase, TransactionCase):
    def occurrences(self, calendar, zone, day):
        require(self, recurring_ical_events=recurring_ical_events)
        start = datetime.combine(day, datetime.min.time(), tzinfo=ZoneInfo(zone))
        return [
            str(e["SUMMARY"])
            for e in recurring_ical_events.of(calendar).between(start, start + timedelta(days=1))
        ]

    def test_bookings_across_dst_changes_keep_their_wall_clock_times(self):
        for zone in ("Europe/Budapest", "America/New_York"):
            with self.subTest(zone=zone):
                self.set_feed_param("tz", zone)
                self.set_feed_param("past_days", 730)
                self.set_feed_param("future_days", 730)
                cases = {
                    # Last Sunday of March and of October 2026: 29 March, 25 October.
                    f"{zone} before spring": (local(zone, 2026, 3, 28, 9), local(zone, 2026, 3, 28, 10)),
                    f"{zone} after spring": (local(zone, 2026, 3, 30, 9), local(zone, 2026, 3, 30, 10)),
                    f"{zone} across spring": (local(zone, 2026, 3, 28, 22), local(zone, 2026, 3, 29, 10)),
                    f"{zone} across autumn": (local(zone, 2026, 10, 24, 22), local(zone, 2026, 10, 25, 10)),
                    f"{zone} after autumn": (local(zone, 2026, 10, 26, 9), local(zone, 2026, 10, 26, 10)),
                }
                bookings = self.env["calendar.event"]
                for title, (start, stop) in cases.items():
                    bookings |= self.book(self.sim_room, start, stop, name=title)
                events = by_title(self.build(NOW)[0])
                for title, (start, stop) in cases.items():
                    self.assertEqual(events[title]["DTSTART"].dt, start.replace(tzinfo=timezone.utc))
                    self.assertEqual(events[title]["DTEND"].dt, stop.replace(tzinfo=timezone.utc))
                    wall_clock = events[title]["DTSTART"].dt.astimezone(ZoneInfo(zone))
                    self.assertEqual(wall_clock.hour, 22 if "across" in title else 9)
                bookings.unlink()

    def test_weekly_series_keeps_its_local_time_across_dst(self):
        self.set_feed_param("future_days", 60)
        start = local("Europe/Budapest", 2026, 3, 23, 9)
        self.book_series(
            self.sim_room,
            start,
            start + timedelta(hours=1),
            3,
            name="Monday skills",
            rrule_type="weekly",
            mon=True,
            event_tz="Europe/Budapest",
        )
        calendar = self.build(datetime(2026, 3, 20, tzinfo=timezone.utc))[0]
        starts = sorted(event["DTSTART"].dt for event in calendar.walk("VEVENT"))
        self.assertEqual([s.astimezone(ZoneInfo("Europe/Budapest")).hour for s in starts], [9, 9, 9])
        self.assertEqual([s.hour for s in starts], [8, 7, 7])

    def test_window_edges_of_timed_and_all_day_bookings(self):
        # The window of NOW in Budapest (UTC+1): 5 March 00:00 to 13 March 00:00 local time.
        for title, start, stop in (
            ("ends as the window starts", at(4, 22), at(4, 23)),
            ("starts as the window starts", at(4, 23), at(5, 0)),
            ("starts in its last minute", at(12, 22, 59), at(13, 1)),
            ("starts as the window ends", at(12, 23), at(13, 1)),
        ):
            self.book(self.sim_room, start, stop, name=title)
        for day in (4, 12, 13):
            self.book(self.sim_room, at(day, 8), at(day, 18), name=f"all day on the {day}th", allday=True,
                      start_date=date(2026, 3, day), stop_date=date(2026, 3, day))  # fmt: skip
        calendar, document = self.build(NOW)
        published = ["all day on the 12th", "starts as the window starts", "starts in its last minute"]
        self.assertEqual(self.titles(calendar), published)
        self.assertEqual(sorted(event["activity"]["title"] for event in document["events"]), published)

    def test_all_day_multi_day_and_midnight_crossing_bookings(self):
        self.book(
            self.sim_room,
            at(5, 8),
            at(7, 18),
            name="three days",
            allday=True,
            start_date=date(2026, 3, 5),
            stop_date=date(2026, 3, 7),
        )
        self.book(self.debriefing, at(5, 20), at(6, 1), name="night shift")  # 21:00-02:00 in Budapest
        calendar = self.build(NOW)[0]
        event = by_title(calendar)["three days"]
        self.assertEqual((event["DTSTART"].dt, event["DTEND"].dt), (date(2026, 3, 5), date(2026, 3, 8)))
        days = {
            day: self.occurrences(calendar, "Europe/Budapest", date(2026, 3, day)) for day in (5, 6, 7, 8)
        }
        self.assertEqual(sorted(days[5]), ["night shift", "three days"])
        self.assertEqual(sorted(days[6]), ["night shift", "three days"])
        self.assertEqual(days[7], ["three days"])
        self.assertEqual(days[8], [])

    def test_awkward_titles_survive(self):
        titles = [
            "Szimuláció: újraélesztés – 🚑 ICU, ward 3; room \\ door",
            "A very long title " + "that keeps going and going " * 12,
            "line one\nline two",
            "tab\tseparated, back\\slash",
        ]
        bookings = self.env["calendar.event"]
        for hour, title in enumerate(titles, start=8):
            bookings |= self.book(self.sim_room, at(5, hour), at(5, hour + 1), name=title)
        calendar, document = self.build(NOW)  # build() checks CRLF, folding, escaping
        self.assertEqual(sorted(by_title(calendar)), sorted(titles))
        self.assertEqual(sorted(e["activity"]["title"] for e in document["events"]), sorted(titles))
        entries = self.env["calendar.feed.entry"].search([("event_id", "in", bookings.ids)])
        self.assertEqual(sorted(entries.mapped("title")), sorted(titles))

    def test_feed_declares_its_zone_refresh_interval_and_no_vtimezone_is_needed(self):
        self.set_feed_param("name", "Sim Centre")
        self.set_feed_param("description", "Rooms, bookings")
        self.book(self.sim_room, at(5, 9), at(5, 10))
        calendar = self.build(NOW)[0]
        self.assertEqual(str(calendar["X-WR-CALNAME"]), "Sim Centre")
        self.assertEqual(str(calendar["DESCRIPTION"]), "Rooms, bookings")
        self.assertIn("\r\nX-WR-CALDESC:Rooms\\, bookings\r\n", self.feed.ics_body)
        self.assertEqual(str(calendar["X-WR-TIMEZONE"]), "Europe/Budapest")
        self.assertEqual(calendar["REFRESH-INTERVAL"].dt, timedelta(hours=1))
        self.assertEqual(str(calendar["X-PUBLISHED-TTL"]), "PT1H")
        self.assertNotIn("TZID", self.feed.ics_body)
        self.assertIsInstance(icalendar.Calendar.from_ical(self.feed.ics_body), icalendar.Calendar)
