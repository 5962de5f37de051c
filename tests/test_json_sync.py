import json
import random
from contextlib import closing
from datetime import UTC, datetime, timedelta

from odoo.tests import TransactionCase, tagged

from ..booking_feed.query import QueryError
from ..booking_feed.sync import SyncTokenExpired
from .common import FeedCase

CASES = 300
STEPS = 6


@tagged("post_install", "-at_install")
class TestJsonIncrementalSync(FeedCase, TransactionCase):
    """Applying deltas to a client's copy always gives what a full sync gives."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.set_feed_param("future_days", 14)
        cls.set_feed_param("publish_tentative", True)
        cls.hidden_room = cls.env["calendar.room"].create(
            {"name": "Hidden", "code": "THIDDEN", "is_published": False}
        )
        cls.today = datetime.now(UTC).replace(tzinfo=None, minute=0, second=0, microsecond=0)

    def answer(self, params):
        params = {name: values if isinstance(values, list) else [values] for name, values in params.items()}
        feed = self.env["calendar.feed"]._get_up_to_date()
        return json.loads(self.env["calendar.feed.query"]._answer_events(feed, params, None).read())

    def fetch_all(self, filters, since=None, page_size=None):
        """Follow the pages of one request; return (events, deleted uids, sync token)."""
        params = (
            dict(filters)
            | ({"since": since} if since else {})
            | ({"limit": str(page_size)} if page_size else {})
        )
        events, deleted = [], []
        while True:
            answer = self.answer(params)
            events += answer["events"]
            deleted += [item["uid"] for item in answer.get("deleted", [])]
            if not answer["nextCursor"]:
                return events, deleted, answer["syncToken"]
            params["cursor"] = answer["nextCursor"]

    def random_change(self, rng, bookings):
        rooms = [self.sim_room, self.debriefing, self.hidden_room]
        live = bookings.exists()
        kind = rng.choice(
            [
                "create",
                "create",
                "rename",
                "move",
                "move_out",
                "room",
                "cancel",
                "tentative",
                "delete",
                "exception",
                "restore",
            ]
        )
        if kind == "create" or not live:
            start = self.today + timedelta(days=rng.randint(0, 10), hours=rng.randint(-5, 8))
            name = rng.choice(["OSCE", "Debrief", "BLS course", "ICU sim"])
            room, stop = rng.choice(rooms[:2]), start + timedelta(hours=1)
            if rng.random() < 0.2:
                return bookings | self.book_series(room, start, stop, 3, name=name)
            return bookings | self.book(room, start, stop, name=name)
        booking = rng.choice(live)
        if kind == "rename":
            booking.name = f"{booking.name} v{rng.randint(2, 9)}"
        elif kind == "move":
            shift = timedelta(days=rng.randint(-2, 3), hours=rng.randint(-3, 3))
            booking.write({"start": booking.start + shift, "stop": booking.stop + shift})
        elif kind == "move_out":
            booking.write(
                {"start": booking.start + timedelta(days=40), "stop": booking.stop + timedelta(days=40)}
            )
        elif kind == "room":
            booking.room_ids = rng.choice(rooms)
        elif kind in ("cancel", "tentative"):
            booking.booking_status = "cancelled" if kind == "cancel" else "tentative"
        elif kind == "restore":
            booking.booking_status = "confirmed"
        elif kind == "delete":
            booking.unlink()
        elif kind == "exception" and booking.recurrence_id:
            booking.with_context(recurrence_update="self_only").write(
                {
                    "name": "Moved occurrence",
                    "start": booking.start + timedelta(hours=2),
                    "stop": booking.stop + timedelta(hours=2),
                }
            )
        return bookings

    def check_sequence(self, seed, filters, steps):
        rng = random.Random(seed)
        bookings = self.env["calendar.event"]
        for _ in range(3):
            bookings = self.random_change(rng, bookings)
        events, _deleted, token = self.fetch_all(filters, page_size=rng.choice([None, 2, 3]))
        client = {event["uid"]: event for event in events}
        for step in range(steps):
            bookings = self.random_change(rng, bookings)
            events, deleted, token = self.fetch_all(
                filters, since=token, page_size=rng.choice([None, 1, 2, 5])
            )
            for uid in deleted:
                client.pop(uid, None)
            client |= {event["uid"]: event for event in events}
            full, _deleted, _token = self.fetch_all(filters)
            self.assertEqual(client, {event["uid"]: event for event in full}, f"seed {seed}, step {step}")

    def test_deltas_reproduce_the_full_sync(self):
        """300 seeded cases, each from an empty calendar: random changes, then deltas vs a full sync."""
        filter_sets = [{}, {}, {"room": "TSIM1"}, {"q": "osce"}, {"status": "confirmed"},
                       {"room": ["TSIM1", "TDEBRIEF"], "q": "v"}]  # fmt: skip
        for seed in range(CASES):
            with closing(self.env.cr.savepoint()):  # rolled back: each case starts empty
                self.check_sequence(seed, filter_sets[seed % len(filter_sets)], steps=STEPS)

    def test_token_for_other_filters_or_garbage_is_refused(self):
        _events, _deleted, token = self.fetch_all({"room": "TSIM1"})
        for params, message in (
            ({"since": token}, "issued for other filters"),
            ({"since": "not-a-token", "room": "TSIM1"}, "not a since this API issued"),
            ({"cursor": "AAAA", "room": "TSIM1"}, "not a cursor this API issued"),
        ):
            with self.subTest(params=params), self.assertRaisesRegex(QueryError, message):
                self.answer(params)

    def test_token_older_than_forgotten_deletions_is_expired(self):

        self.set_feed_param("retention_days", 1)
        booking = self.book(
            self.sim_room, self.today + timedelta(days=2), self.today + timedelta(days=2, hours=1)
        )
        _events, _deleted, token = self.fetch_all({})
        booking.unlink()
        feed = self.env["calendar.feed"]._get_up_to_date()
        self.assertTrue(feed._rebuild(datetime.now(UTC) + timedelta(days=2)))  # the tombstone is pruned
        with self.assertRaises(SyncTokenExpired):
            self.answer({"since": token})

    def test_paging_is_stable_while_events_are_added(self):
        for hour in range(6):
            self.book(
                self.sim_room,
                self.today + timedelta(days=1, hours=hour),
                self.today + timedelta(days=1, hours=hour, minutes=30),
                name=f"slot {hour}",
            )
        first = self.answer({"limit": "2"})
        # New bookings before and inside the pages already read must not shift the pages.
        self.book(
            self.sim_room, self.today + timedelta(hours=1), self.today + timedelta(hours=2), name="earlier"
        )
        self.book(
            self.sim_room,
            self.today + timedelta(days=1, hours=2, minutes=10),
            self.today + timedelta(days=1, hours=2, minutes=20),
            name="squeezed in",
        )
        names = [event["activity"]["title"] for event in first["events"]]
        cursor = first["nextCursor"]
        while cursor:
            page = self.answer({"limit": "2", "cursor": cursor})
            names += [event["activity"]["title"] for event in page["events"]]
            cursor, token = page["nextCursor"], page["syncToken"]
        self.assertEqual(names, [f"slot {hour}" for hour in range(6)])
        events, _deleted, _token = self.fetch_all({}, since=token)
        self.assertEqual(sorted(event["activity"]["title"] for event in events), ["earlier", "squeezed in"])
