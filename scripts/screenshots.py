"""Screenshots for the README: Settings > External Calendar (off and on), the Calendar app.

Needs ``make run`` (Odoo on localhost with the demo database) and Debian's
``chromium``. Logs in as admin, sets the endpoint off then on through the
normal settings API, and saves ``docs/screenshots/settings-{off,on}.png`` and
``docs/screenshots/calendar-rooms.png``. Chromium is driven over the
DevTools protocol with ``websocket-client``.
"""

import base64
import json
import shutil
import subprocess
import tempfile
import time
import urllib.request
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

    def set_endpoint(self, enabled):
        self.call(
            "/web/dataset/call_kw/ir.config_parameter/set_param",
            {"model": "ir.config_parameter", "method": "set_param",
             "args": ["external_calendar_api.enabled", enabled], "kwargs": {}},
        )  # fmt: skip


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

    def screenshot(self, url, path, settle_seconds=4):
        self.send("Page.navigate", url=url)
        time.sleep(settle_seconds)  # the web client renders after load
        data = self.send("Page.captureScreenshot", format="png")["data"]
        path.write_bytes(base64.b64decode(data))
        print(f"wrote {path.relative_to(ROOT)}")

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
        for enabled, name in ((False, "settings-off.png"), (True, "settings-on.png")):
            odoo.set_endpoint(enabled)
            browser.screenshot(SETTINGS_URL, OUTPUT / name)
        browser.screenshot(CALENDAR_URL, OUTPUT / "calendar-rooms.png")
    finally:
        browser.close()


if __name__ == "__main__":
    main()
