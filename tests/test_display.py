import base64
import json
from datetime import datetime, timedelta, timezone

from odoo.tests import HttpCase, tagged
from odoo.tests.common import ChromeBrowser
from odoo.tools import mute_logger

from ..booking_feed.display import CONTENT_SECURITY_POLICY
from .common import FeedCase

DISPLAY = "/w/display"
#: How long the page may take to show a change: one refresh (10 s, the minimum) and some slack.
REFRESH = 10
WAIT = REFRESH + 8


def midday_zone(now):
    """A fixed-offset zone where ``now`` is around noon, so that every booking of a test is today."""
    hours = 12 - now.hour  # -11 .. +12, all of which exist as Etc/GMT zones (whose sign is inverted)
    return f"Etc/GMT{-hours:+d}" if hours else "Etc/GMT"


class DisplayPage:
    """Odoo's test Chromium on one display page, driven step by step over the DevTools protocol."""

    def __init__(self, case, path=None):
        self.browser = ChromeBrowser(case)
        case.addCleanup(self.browser.cleanup.close)
        # The page fetches the feed without cookies, as kiosks do: let such requests reach the test server.
        case.enterContext(case.allow_requests(browser=self.browser, all_requests=True))
        self.network_cut = False
        forward = self.browser._handlers["Fetch.requestPaused"]

        def cut_or_forward(**request):
            if not self.network_cut:
                return forward(**request)
            return self.browser._websocket_send(
                "Fetch.failRequest",
                params={"requestId": request["requestId"], "errorReason": "InternetDisconnected"},
            )

        self.browser._handlers["Fetch.requestPaused"] = cut_or_forward
        self.base_url = case.base_url()
        if path:
            self.open(path)

    def open(self, path):
        self.browser.navigate_to(f"{self.base_url}{path}", wait_stop=True)

    def resize(self, width, height):
        """The screen's size in CSS pixels, as a kiosk's would be (the page gets its resize event)."""
        self.browser._websocket_request(
            "Emulation.setDeviceMetricsOverride",
            params={"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
        )
        # Two frames: the resize event, and the layout it brings, have happened.
        self.evaluate("new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))")

    def screenshot(self, path):
        data = self.browser._websocket_request("Page.captureScreenshot", params={"format": "png"})["data"]
        path.write_bytes(base64.b64decode(data))

    def evaluate(self, expression, timeout=10):
        result = self.browser._websocket_request(
            "Runtime.evaluate",
            params={"expression": expression, "awaitPromise": True, "returnByValue": True},
            timeout=timeout,
        )
        return result["result"].get("value")

    def wait_for(self, expression, seconds=WAIT):
        """The value of ``expression`` once truthy, polled in the page; None after ``seconds``."""
        return self.evaluate(
            f"""new Promise((resolve) => {{
                const until = Date.now() + {seconds * 1000};
                (function check() {{
                    let value;
                    try {{ value = ({expression}); }} catch {{ value = null; }}
                    if (value || Date.now() > until) resolve(value || null); else setTimeout(check, 200);
                }})();
            }})""",
            timeout=seconds + 5,
        )

    def texts(self, selector):
        return self.evaluate(
            f"[...document.querySelectorAll({json.dumps(selector)})].map((node) => node.textContent)"
        )


class MiddayFeedCase(FeedCase):
    """The endpoint on and the feed's zone at midday ``now``, so that the hours around it are today."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.token = cls.enable_endpoint()
        cls.now = datetime.now(timezone.utc).replace(tzinfo=None, second=0, microsecond=0)
        cls.set_feed_param("tz", midday_zone(cls.now))


class DisplayCase(MiddayFeedCase):
    """A booking under way in the Sim room and one next."""

    CURRENT, UPCOMING = "Anatomy lab", "OSCE"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        now = cls.now
        cls.current = cls.book(
            cls.sim_room, now - timedelta(minutes=30), now + timedelta(minutes=30), name=cls.CURRENT
        )
        cls.upcoming = cls.book(
            cls.sim_room, now + timedelta(minutes=60), now + timedelta(minutes=90), name=cls.UPCOMING
        )


@tagged("post_install", "-at_install")
class TestRoomDisplays(DisplayCase, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        now = cls.now
        cls.debrief = cls.book(cls.debriefing, now + timedelta(minutes=120), now + timedelta(minutes=150),
                               name="Debrief")  # fmt: skip

    def get(self, query):
        return self.url_open(f"{DISPLAY}?{query}", allow_redirects=False)

    def assertSameAsUnknownPath(self, response):
        unknown = self.url_open("/w/api/v2/no_such_route.ics", allow_redirects=False)
        self.assertEqual((response.status_code, response.text), (404, unknown.text))

    def test_a_sign_and_a_board_are_self_contained_pages(self):
        for query in (
            f"token={self.token}&room=TSIM1",
            f"token={self.token}",
            f"token={self.token}&theme=light",
        ):
            response = self.get(query)
            self.assertEqual(response.status_code, 200, query)
            self.assertEqual(response.headers["Content-Type"], "text/html; charset=utf-8")
            self.assertEqual(response.headers["Content-Security-Policy"], CONTENT_SECURITY_POLICY)
            self.assertEqual(response.headers["Referrer-Policy"], "no-referrer")
            self.assertNotIn("Set-Cookie", response.headers)
            self.assertNotIn("/web/", response.text)  # no web client asset
            again = self.url_open(f"{DISPLAY}?{query}", headers={"If-None-Match": response.headers["ETag"]})
            self.assertEqual(again.status_code, 304)
        self.assertIn("<title>Sim Room 1</title>", self.get(f"token={self.token}&room=TSIM1").text)

    def test_the_page_speaks_the_display_language_in_the_feed_zone(self):
        def config():
            page = self.get(f"token={self.token}&room=TSIM1").text
            return json.loads(page.split('id="display-config">')[1].split("</script>")[0])

        self.env["res.lang"]._activate_lang("fr_FR")
        self.set_feed_param("lang", "fr_FR")
        zone = self.env["ir.config_parameter"].get_param("external_calendar_api.tz")
        self.assertEqual((config()["locale"], config()["timeZone"]), ("fr-FR", zone))
        self.set_feed_param("lang", "xx_XX")  # not installed: the company's language
        self.assertEqual(config()["locale"], (self.env.company.partner_id.lang or "en_US").replace("_", "-"))

    def test_wrong_tokens_and_rooms_get_the_unknown_path_404(self):
        key = self.env["calendar.feed.key"].generate(
            {"name": "Door", "room_ids": [(6, 0, self.sim_room.ids)]}
        )
        self.assertEqual(self.get(f"token={key['token']}&room=TSIM1").status_code, 200)
        with mute_logger("werkzeug"):
            for query in (
                "room=TSIM1",
                f"token={self.token[:-1]}&room=TSIM1",
                f"token={self.token}&room=NOPE",
                f"token={key['token']}&room=TDEBRIEF",  # outside the key's rooms
            ):
                self.assertSameAsUnknownPath(self.get(query))
            self.env["calendar.feed.key"].browse(key["id"]).action_revoke()
            self.assertSameAsUnknownPath(self.get(f"token={key['token']}&room=TSIM1"))
            self.set_feed_param("enabled", False)
            self.assertSameAsUnknownPath(self.get(f"token={self.token}"))

    def test_bad_options_get_a_400_with_a_reason(self):
        for query, reason in (
            ("refresh=5", "refresh: 5 is not from 10 to 3600 seconds"),
            ("theme=pink", "theme: 'pink' is not one of dark, light"),
            ("colour=red", "colour"),
        ):
            response = self.get(f"token={self.token}&{query}")
            self.assertEqual(response.status_code, 400, query)
            self.assertEqual(response.headers["Content-Type"], "text/plain; charset=utf-8")
            self.assertIn(reason, response.text)
        bearer_only = self.url_open(DISPLAY, headers={"Authorization": f"Bearer {self.token}"})
        self.assertEqual(bearer_only.status_code, 400)

    def test_the_sign_shows_now_and_next_follows_edits_and_survives_a_network_cut(self):
        page = DisplayPage(self, f"{DISPLAY}?token={self.token}&room=TSIM1&refresh={REFRESH}")
        self.assertEqual(page.wait_for("document.querySelector('.now-title')?.textContent"), "Anatomy lab")
        self.assertTrue(page.wait_for("document.querySelector('.now.busy .state')?.textContent"))
        self.assertTrue(any("OSCE" in text for text in page.texts(".later li")), page.texts(".later li"))
        self.assertNotIn("Debrief", page.evaluate("document.body.textContent"))

        self.upcoming.name = "OSCE station 2"
        self.env.flush_all()
        self.assertTrue(
            page.wait_for("document.querySelector('.later').textContent.includes('OSCE station 2')")
        )

        page.network_cut = True
        notice = "document.querySelector('[data-stale]')"
        stale = page.wait_for(f"!{notice}.hidden && {notice}.textContent")
        self.assertTrue(stale, "no notice that the data is stale")
        self.assertEqual(page.texts(".now-title"), ["Anatomy lab"], "the last data stays on screen")
        self.assertIn("OSCE station 2", page.evaluate("document.querySelector('.later').textContent"))

        page.network_cut = False
        self.assertTrue(page.wait_for(f"{notice}.hidden"), "did not recover")

    def test_the_board_shows_every_room(self):
        page = DisplayPage(self, f"{DISPLAY}?token={self.token}&refresh={REFRESH}")
        self.assertEqual(page.wait_for("document.querySelectorAll('.room').length"), 2)
        self.assertEqual(sorted(page.texts(".room-name")), ["Debriefing", "Sim Room 1"])
        sim = page.evaluate("document.querySelector('[data-room=TSIM1]').textContent")
        self.assertIn("Anatomy lab", sim)
        self.assertIn("OSCE", sim)
        self.assertIn(
            ": 2", page.evaluate("document.querySelector('[data-room=TSIM1] .room-count').textContent")
        )
        self.assertTrue(
            page.evaluate("document.querySelector('[data-room=TSIM1]').classList.contains('busy')")
        )
        debrief = page.evaluate("document.querySelector('[data-room=TDEBRIEF]').textContent")
        self.assertIn("Debrief", debrief)
        self.assertFalse(
            page.evaluate("document.querySelector('[data-room=TDEBRIEF]').classList.contains('busy')")
        )
        root = "document.documentElement"
        self.assertTrue(
            page.evaluate(f"{root}.scrollHeight <= innerHeight && {root}.scrollWidth <= innerWidth")
        )
