import base64
import hashlib
import hmac
import json
import logging
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from unittest.mock import patch

from odoo import fields
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import TransactionCase, new_test_user, tagged

from ..booking_feed.audience import EVERY_ROOM
from ..booking_feed.webhooks import RETRY_DELAYS
from ..models import calendar_feed_webhook
from .common import FeedCase


class Receiver(BaseHTTPRequestHandler):
    """Records each POST and answers with the next status of ``server.statuses`` (then 200)."""

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.received.append((dict(self.headers), body))
        status = self.server.statuses.pop(0) if self.server.statuses else 200
        self.send_response(status)
        self.end_headers()
        self.wfile.write(b"receiver says no" if status >= 300 else b"")

    def log_message(self, *args):
        pass


def verify(secret, headers, body):
    """The Standard Webhooks check, written from the specification, as a receiver would."""
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    key = base64.b64decode(secret.removeprefix("whsec_"))
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return any(
        hmac.compare_digest(expected, part.removeprefix("v1,"))
        for part in headers["webhook-signature"].split()
    )


class LogRecords(logging.Handler):
    """What the addon's own loggers write, at every level, tracebacks included."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
        self.texts = []

    def emit(self, record):
        self.texts.append(self.format(record))


@tagged("post_install", "-at_install")
class TestFeedWebhooks(FeedCase, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.enable_endpoint()
        cls.server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
        cls.server.received, cls.server.statuses = [], []
        threading.Thread(target=cls.server.serve_forever, daemon=True).start()
        cls.addClassCleanup(cls.server.shutdown)
        cls.url = f"http://127.0.0.1:{cls.server.server_address[1]}/hooks/rooms"

    def setUp(self):
        super().setUp()
        self.server.received.clear()
        self.server.statuses.clear()
        self.Webhook = self.env["calendar.feed.webhook"]

    def deliver(self):
        """Run the delivery cron job, as the cron worker would; return the messages it sent."""
        before = len(self.server.received)
        self.env.flush_all()
        self.Webhook._cron_deliver()
        return [(headers, json.loads(body)) for headers, body in self.server.received[before:]]

    def make_due(self, webhook):
        webhook.next_attempt_at = fields.Datetime.now() - timedelta(seconds=1)

    def test_a_change_is_delivered_signed_as_the_specification_says(self):
        webhook = self.Webhook.create({"name": "Panels", "url": self.url})
        self.assertEqual(self.deliver(), [], "only what changes after it is made")
        self.book(self.sim_room, self.local_time(1, 9), self.local_time(1, 10), name="OSCE")
        [(headers, message)] = self.deliver()
        raw = self.server.received[-1][1]
        self.assertTrue(verify(webhook.secret, headers, raw))
        self.assertFalse(
            verify("whsec_" + base64.b64encode(b"another secret of 24 bytes!").decode(), headers, raw)
        )
        self.assertEqual(headers["Content-Type"], "application/json")
        self.assertTrue(headers["webhook-id"].startswith("msg_"))
        self.assertAlmostEqual(
            int(headers["webhook-timestamp"]), fields.Datetime.now().timestamp(), delta=120
        )
        self.assertEqual(message["type"], "calendar.changed")
        self.assertEqual([event["activity"]["title"] for event in message["data"]["events"]], ["OSCE"])
        self.assertEqual(message["data"]["deleted"], [])
        self.assertTrue(message["data"]["syncToken"])
        self.assertEqual(self.deliver(), [], "nothing new, nothing sent")

    def test_nothing_leaves_while_the_endpoint_is_off(self):
        self.Webhook.create({"name": "Panels", "url": self.url})
        self.set_feed_param("enabled", False)
        self.book(self.sim_room, self.local_time(1, 9), self.local_time(1, 10), name="While off")
        self.assertEqual(self.deliver(), [])
        self.set_feed_param("enabled", True)
        self.book(self.sim_room, self.local_time(1, 11), self.local_time(1, 12), name="After")
        [(_headers, message)] = self.deliver()
        self.assertEqual(
            sorted(event["activity"]["title"] for event in message["data"]["events"]), ["After", "While off"]
        )

    def test_changes_wake_the_cron_job_and_are_never_sent_on_the_users_request(self):
        self.Webhook.create({"name": "Panels", "url": self.url})
        cron = self.env.ref("external_calendar_api.ir_cron_external_calendar_webhooks")
        triggers = self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)])
        self.book(self.sim_room, self.local_time(1, 9), self.local_time(1, 10))
        self.book(self.sim_room, self.local_time(1, 11), self.local_time(1, 12))
        self.env.flush_all()
        self.env.cr.precommit.run()  # what the transaction's commit runs
        self.assertEqual(self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)]), triggers + 1)
        self.assertEqual(self.server.received, [])

    def test_a_failed_message_is_retried_with_its_id_and_later_changes_merge_into_the_next(self):
        webhook = self.Webhook.create({"name": "Panels", "url": self.url})
        first = self.book(self.sim_room, self.local_time(1, 9), self.local_time(1, 10), name="First")
        self.server.statuses[:] = [500, 503]
        [(failed_headers, _message)] = self.deliver()
        self.assertEqual((webhook.attempt, webhook.failing), (1, False))
        self.assertLessEqual(webhook.next_attempt_at, fields.Datetime.now(), "the first retry is at once")
        [(retry_headers, _message)] = self.deliver()
        self.assertEqual(retry_headers["webhook-id"], failed_headers["webhook-id"])
        self.assertEqual(webhook.attempt, 2)
        self.assertEqual(self.deliver(), [], "not before its next retry is due")
        self.book(self.sim_room, self.local_time(1, 11), self.local_time(1, 12), name="Second")
        first.unlink()
        self.make_due(webhook)
        [(merged_headers, merged)] = self.deliver()
        self.assertNotEqual(merged_headers["webhook-id"], failed_headers["webhook-id"], "another message")
        self.assertEqual([event["activity"]["title"] for event in merged["data"]["events"]], ["Second"])
        self.assertEqual([gone["id"] for gone in merged["data"]["deleted"]], [first.id])
        self.assertEqual((webhook.attempt, webhook.next_attempt_at, webhook.failing), (0, False, False))
        self.assertEqual(webhook.delivery_ids.mapped("status_code"), [200, 503, 500])

    def test_after_the_last_retry_it_is_failing_until_the_next_change_which_carries_everything(self):
        webhook = self.Webhook.create({"name": "Panels", "url": self.url})
        missed = self.book(self.sim_room, self.local_time(1, 9), self.local_time(1, 10), name="Missed")
        webhook.attempt = len(RETRY_DELAYS)
        self.server.statuses[:] = [500]
        self.deliver()
        self.assertTrue(webhook.failing)
        self.assertFalse(webhook.next_attempt_at)
        self.assertEqual(self.deliver(), [], "no retry until something changes")
        self.book(self.sim_room, self.local_time(1, 11), self.local_time(1, 12), name="Next")
        [(_headers, message)] = self.deliver()
        titles = sorted(event["activity"]["title"] for event in message["data"]["events"])
        self.assertEqual(titles, [missed.name, "Next"])
        self.assertFalse(webhook.failing)

    def test_a_webhook_for_some_rooms_hears_only_of_them(self):
        webhook = self.Webhook.create(
            {"name": "Debrief panel", "url": self.url, "room_ids": [(6, 0, self.debriefing.ids)]}
        )
        self.book(self.sim_room, self.local_time(1, 9), self.local_time(1, 10), name="Sim only")
        self.assertEqual(self.deliver(), [])
        stamp = webhook.sync_stamp
        self.assertEqual(stamp, self.env["calendar.feed"]._get_singleton().change_stamp, "moved past it")
        both = self.book(
            self.sim_room | self.debriefing, self.local_time(1, 11), self.local_time(1, 12), name="Both"
        )
        [(_headers, message)] = self.deliver()
        self.assertEqual([room["code"] for room in message["data"]["events"][0]["rooms"]], ["TDEBRIEF"])
        both.room_ids = self.sim_room  # leaves the webhook's rooms: gone, for it
        [(_headers, message)] = self.deliver()
        self.assertEqual(
            (message["data"]["events"], [gone["id"] for gone in message["data"]["deleted"]]), ([], [both.id])
        )
        # The token works with the JSON feed for these rooms.
        since = message["data"]["syncToken"]
        feed = self.env["calendar.feed"]._get_up_to_date()
        answer = self.env["calendar.feed.query"]._answer_events(
            feed, feed._get_settings(), EVERY_ROOM, {"room": ["TDEBRIEF"], "since": [since]}
        )
        self.assertEqual(answer.status, 200)

    def test_a_room_leaving_the_webhooks_rooms_is_reported_and_never_widens_it(self):
        webhook = self.Webhook.create(
            {"name": "Debrief panel", "url": self.url, "room_ids": [(6, 0, self.debriefing.ids)]}
        )
        booking = self.book(self.debriefing, self.local_time(1, 9), self.local_time(1, 10), name="Debrief")
        self.deliver()
        self.debriefing.is_published = False
        [(_headers, message)] = self.deliver()
        self.assertEqual([gone["id"] for gone in message["data"]["deleted"]], [booking.id])
        with self.assertRaises(UserError):
            self.debriefing.unlink()  # the webhook would then hear of every room
        webhook.active = False
        with self.assertRaises(UserError):
            self.debriefing.unlink()  # archived, it could still come back

    def test_one_broken_webhook_does_not_stop_the_others(self):
        broken = self.Webhook.create({"name": "A broken one", "url": self.url})
        healthy = self.Webhook.create({"name": "B healthy", "url": self.url})
        self.env.cr.execute(
            "UPDATE calendar_feed_webhook SET url = 'http://a..b/' WHERE id = %s", [broken.id]
        )
        self.env.invalidate_all()
        self.book(self.sim_room, self.local_time(1, 9), self.local_time(1, 10))
        self.assertEqual(len(self.deliver()), 1)
        self.assertEqual(healthy.attempt, 0)
        self.assertEqual((broken.attempt, broken.delivery_ids.status_code), (1, 0))

    def test_a_webhook_brought_back_starts_its_retries_afresh(self):
        webhook = self.Webhook.create({"name": "Panels", "url": self.url})
        self.book(self.sim_room, self.local_time(1, 9), self.local_time(1, 10))
        self.server.statuses[:] = [500, 410]
        self.deliver()
        self.deliver()
        self.assertEqual((webhook.active, webhook.attempt), (False, 1))
        webhook.active = True
        self.assertEqual((webhook.attempt, webhook.failing, webhook.next_attempt_at), (0, False, False))
        self.assertEqual(len(self.deliver()), 1, "what it missed, from where it stopped")

    def test_over_500_changes_the_receiver_is_told_to_pull(self):
        self.Webhook.create({"name": "Panels", "url": self.url})
        for hour in (9, 10, 11):
            self.book(self.sim_room, self.local_time(1, hour), self.local_time(1, hour + 1))
        with patch.object(calendar_feed_webhook, "MAX_CHANGES", 2):  # 500 bookings would take a minute here
            [(_headers, message)] = self.deliver()
        self.assertEqual(set(message["data"]), {"truncated", "syncToken"})
        self.assertTrue(message["data"]["truncated"])
        feed = self.env["calendar.feed"]._get_up_to_date()
        pulled = self.env["calendar.feed.query"]._answer_events(
            feed, feed._get_settings(), EVERY_ROOM, {"since": [message["data"]["syncToken"]]}
        )
        self.assertEqual(len(json.loads(pulled.read())["events"]), 3)

    def test_a_receiver_answering_410_gone_deactivates_the_webhook(self):
        webhook = self.Webhook.create({"name": "Panels", "url": self.url})
        self.book(self.sim_room, self.local_time(1, 9), self.local_time(1, 10))
        self.server.statuses[:] = [410]
        self.deliver()
        self.assertFalse(webhook.active)
        self.book(self.sim_room, self.local_time(1, 11), self.local_time(1, 12))
        self.assertEqual(self.deliver(), [])

    def test_send_test_pings_and_says_how_it_went(self):
        webhook = self.Webhook.create({"name": "Panels", "url": self.url})
        action = webhook.action_send_test()
        [(headers, body)] = self.server.received
        self.assertEqual(json.loads(body)["type"], "ping")
        self.assertTrue(verify(webhook.secret, headers, body))
        self.assertEqual(action["params"]["type"], "success")
        self.server.statuses[:] = [404]
        failed = webhook.action_send_test()["params"]
        self.assertEqual(failed["type"], "danger")
        self.assertIn("HTTP 404", failed["message"])
        self.assertNotIn("receiver says no", failed["message"], "the receiver's text stays in the log")

    def test_secret_is_standard_rotatable_and_never_logged(self):
        webhook = self.Webhook.create({"name": "Panels", "url": self.url})
        self.assertTrue(webhook.secret.startswith("whsec_"))
        self.assertGreaterEqual(len(base64.b64decode(webhook.secret[6:])), 24)
        old = webhook.secret
        webhook.action_rotate_secret()
        self.assertNotEqual(webhook.secret, old)
        logs = LogRecords()
        # The addon's loggers only: Odoo's own SQL logger prints every query's parameters at DEBUG.
        addon_logger = logging.getLogger("odoo.addons.external_calendar_api")
        addon_logger.addHandler(logs)
        previous_level = addon_logger.level
        addon_logger.setLevel(logging.DEBUG)
        try:
            self.book(self.sim_room, self.local_time(1, 9), self.local_time(1, 10))
            self.server.statuses[:] = [500]
            webhook.attempt = len(RETRY_DELAYS)
            self.deliver()
            webhook.action_send_test()
        finally:
            addon_logger.removeHandler(logs)
            addon_logger.setLevel(previous_level)
        self.assertTrue(logs.texts)
        self.assertFalse(
            [text for text in logs.texts if webhook.secret in text or webhook.secret[6:] in text]
        )

    def test_only_http_urls_are_accepted(self):
        for url in (
            "ftp://example.com/x",
            "javascript:alert(1)",
            "https://user:pw@example.com/",
            "example.com",
        ):
            with self.assertRaises(ValidationError, msg=url):
                self.Webhook.create({"name": "Bad", "url": url})

    def test_only_settings_administrators_see_webhooks(self):
        self.Webhook.create({"name": "Panels", "url": self.url})
        portal = new_test_user(self.env, login="webhook_portal", groups="base.group_portal")
        for user in (self.employee, portal):
            for model in ("calendar.feed.webhook", "calendar.feed.webhook.delivery"):
                with self.assertRaises(AccessError, msg=f"{user.login} {model}"):
                    self.env[model].with_user(user).search([])
        self.assertTrue(self.Webhook.with_user(self.admin).search([]).secret)
