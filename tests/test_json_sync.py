import json
import random
from contextlib import closing
from datetime import datetime, timedelta, timezone

from odoo.tests import TransactionCase, tagged

from ..booking_feed.audience import EVERY_ROOM
from ..booking_feed.query import QueryError
from ..booking_feed.sync import SyncTokenExpired
from .common import FeedCase, RandomChanges

CASES = 300
STEPS = 6


@tagged("post_install", "-at_install")
class TestJsonIncrementalSync(RandomChanges, FeedCase, TransactionCase):
    """Applying deltas to a client's copy always gives what a full sync gives."""

    def answer(self, params):
        params = {name: values if isinstance(values, list) else [values] for name, values in params.items()}
        feed = self.env["calendar.feed"]._get_up_to_date()
        answer = self.env["calendar.feed.query"]._answer_events(
            feed, feed._get_settings(), EVERY_ROOM, params
        )
        return json.loads(answer.read())

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
        self.assertTrue(
            feed._rebuild(datetime.now(timezone.utc) + timedelta(days=2))
        )  # the tombstone is pruned
        with self.assertRaises(SyncTokenExpired):
            self.answer({"since": token})

    def test_token_newer_than_the_feed_is_expired(self):
        """After a restore from a backup, stamps are issued again: a newer token would miss them."""
        _events, _deleted, token = self.fetch_all({})
        self.env["calendar.feed"]._get_singleton().change_stamp -= 1
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
