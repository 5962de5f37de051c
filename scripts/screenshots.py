"""Screenshots for the README: Settings > External Calendar (off and on) and the Calendar app;
the first paint of a door sign and the board (landscape and portrait).

Needs ``make run`` (Odoo on localhost with the demo database) and Debian's
``chromium``. Logs in as admin, sets the endpoint off then on through the
normal settings API (with a feed key "Reception display", made once), and saves
``docs/screenshots/settings-{off,on}.png`` and
``docs/screenshots/calendar-rooms.png``. (The displays' screenshots come from
their layout tests, with long names and many rooms: ``DISPLAY_SCREENSHOTS=DIR``.)
For the displays it books the demo rooms around the current time, in a time
zone where it is midday (so that the day has a "now" and a "later"), and
removes those bookings and restores the zone afterwards; it prints each
display's first paint. Chromium is driven over the DevTools protocol with
``websocket-client``.
"""

import base64
import json
import shutil
import subprocess
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from http.cookiejar import CookieJar

import websocket
from devenv import ROOT
from serve import BASE_URL, DATABASE

OUTPUT = ROOT / "docs" / "screenshots"
SETTINGS_URL = f"{BASE_URL}/odoo/action-external_calendar_api.external_calendar_settings_action"
CALENDAR_URL = f"{BASE_URL}/odoo/calendar"
DEBUG_PORT = 9229
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--hide-scrollbars", "--window-size=1280,1500",
]  # fmt: skip


class OdooSession:
    def __init__(self):
        self.cookies = CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies))

    def call(self, path, params):
        request = urllib.request.Request(
            f"{BASE_URL}{path}",
            data=json.dumps({"jsonrpc": "2.0", "method": "call", "params": params}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with self.opener.open(request) as response:
            payload = json.load(response)
        if "error" in payload:
            raise RuntimeError(payload["error"])
        return payload["result"]

    def login(self):
        self.call("/web/session/authenticate", {"db": DATABASE, "login": "admin", "password": "admin"})
        return next(cookie.value for cookie in self.cookies if cookie.name == "session_id")

    def call_kw(self, model, method, *args, **kwargs):
        return self.call(
            f"/web/dataset/call_kw/{model}/{method}",
            {"model": model, "method": method, "args": list(args), "kwargs": kwargs},
        )

    def set_param(self, key, value):
        return self.call_kw("ir.config_parameter", "set_param", f"external_calendar_api.{key}", value)

    def get_param(self, key):
        return self.call_kw("ir.config_parameter", "get_param", f"external_calendar_api.{key}")

    def set_endpoint(self, enabled):
        self.set_param("enabled", enabled)


class Chromium:
    def __init__(self):
        self.profile = tempfile.mkdtemp(prefix="chromium-")
        binary = shutil.which("chromium") or shutil.which("google-chrome")
        self.process = subprocess.Popen(
            [binary, *CHROMIUM_FLAGS, f"--remote-debugging-port={DEBUG_PORT}",
             f"--user-data-dir={self.profile}", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        self.socket = websocket.create_connection(self._page_websocket_url(), timeout=30)
        self.next_id = 0

    @staticmethod
    def _page_websocket_url():
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{DEBUG_PORT}/json/list") as response:
                    pages = [t for t in json.load(response) if t["type"] == "page"]
                if pages:
                    return pages[0]["webSocketDebuggerUrl"]
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError("Chromium did not open its DevTools port")

    def send(self, method, **params):
        self.next_id += 1
        self.socket.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv())
            if message.get("id") == self.next_id:
                return message.get("result", {})

    def screenshot(self, url, path, settle_seconds=4, size=None):
        """Open ``url`` (at ``size``) and save what it shows to ``path``, unless that is None."""
        if size:
            self.send("Emulation.setDeviceMetricsOverride", width=size[0], height=size[1],
                      deviceScaleFactor=1, mobile=False)  # fmt: skip
        self.send("Page.navigate", url=url)
        time.sleep(settle_seconds)  # the web client renders after load
        if path is None:
            return
        data = self.send("Page.captureScreenshot", format="png")["data"]
        path.write_bytes(base64.b64decode(data))
        print(f"wrote {path.relative_to(ROOT)}")

    def first_paint_ms(self):
        """When the page last navigated to first painted, in milliseconds after navigation."""
        expression = "performance.getEntriesByName('first-contentful-paint')[0]?.startTime"
        return self.send("Runtime.evaluate", expression=expression, returnByValue=True)["result"].get("value")

    def close(self):
        self.socket.close()
        self.process.terminate()
        self.process.wait()
        shutil.rmtree(self.profile, ignore_errors=True)


def main():
    OUTPUT.mkdir(parents=True, exist_ok=True)
    odoo = OdooSession()
    session_id = odoo.login()
    browser = Chromium()
    try:
        browser.send("Network.enable")
        browser.send("Network.setCookie", name="session_id", value=session_id, domain="localhost", path="/")
        if not odoo.call_kw("calendar.feed.key", "search_count", [("name", "=", "Reception display")]):
            sim1 = odoo.call_kw("calendar.room", "search", [("code", "=", "SIM1")])
            odoo.call_kw(
                "calendar.feed.key", "generate", {"name": "Reception display", "room_ids": [(6, 0, sim1)]}
            )
        for enabled, name in ((False, "settings-off.png"), (True, "settings-on.png")):
            odoo.set_endpoint(enabled)
            if enabled:  # a first request builds the feed, as a subscriber's would
                urllib.request.urlopen(
                    f"{BASE_URL}/w/api/v2/public_calendar.ics?token={odoo.get_param('token')}"
                ).close()
            browser.screenshot(SETTINGS_URL, OUTPUT / name)
        browser.screenshot(CALENDAR_URL, OUTPUT / "calendar-rooms.png")
        with bookings_around_now(odoo):
            token = odoo.get_param("token")
            for kind, query in (("sign", "&room=SIM1"), ("board", "")):
                for orientation, size in (("landscape", (1280, 720)), ("portrait", (800, 1280))):
                    browser.screenshot(f"{BASE_URL}/w/display?token={token}{query}", None, 2, size)
                    print(f"{kind}, {orientation}: first paint {browser.first_paint_ms():.0f} ms")
    finally:
        browser.close()


@contextmanager
def bookings_around_now(odoo):
    """Demo bookings now and later today in a zone where it is midday; removed afterwards."""
    now = datetime.now(timezone.utc).replace(second=0, microsecond=0, tzinfo=None)
    hours = 12 - now.hour
    zone = f"Etc/GMT{-hours:+d}" if hours else "Etc/GMT"
    rooms = {room["code"]: room["id"] for room in odoo.call_kw("calendar.room", "search_read", [], ["code"])}
    plan = [
        ("SIM1", "OSCE station 1", -40, 20),
        ("SIM1", "OSCE debriefing", 30, 75),
        ("SIM1", "BLS / AED course", 120, 210),
        ("SIM2", "Paediatric emergency simulation", -15, 45),
        ("SIM3", "ICU crisis resource management", 60, 150),
        ("DEBRIEF", "Faculty meeting", 180, 240),
    ]
    values = [
        {"name": name, "room_ids": [(6, 0, [rooms[code]])], "start": str(now + timedelta(minutes=start)),
         "stop": str(now + timedelta(minutes=stop))}
        for code, name, start, stop in plan
    ]  # fmt: skip
    previous_zone = odoo.get_param("tz")
    odoo.set_param("tz", zone)
    ids = odoo.call_kw("calendar.event", "create", values)
    try:
        yield
    finally:
        odoo.call_kw("calendar.event", "unlink", ids)
        odoo.set_param("tz", previous_zone or False)


if __name__ == "__main__":
    main()
