"""Hostile query strings and headers on every feed route: 2xx/304, a 400 with a reason, or the 404.

Seeded, so a failure names a request that can be replayed. Each request is
checked for the status, the error's format (JSON on JSON routes, plain text
on the ICS route), no traceback, no cookie; and the server must log no error.
"""

import base64
import json
import logging
import random
from datetime import datetime, timedelta, timezone
from urllib.parse import quote, urlencode

from odoo.tests import HttpCase, tagged

from ..booking_feed.sync import TOKEN_VERSION, filter_signature
from .common import FeedCase

SEED = 20261124
REQUESTS_PER_ROUTE = 80
BASE = "/w/api/v2/public_calendar"
ROUTES = {
    f"{BASE}.ics": ["room", "from", "to"],
    f"{BASE}/import.ics": ["room"],
    f"{BASE}.json": ["room", "from", "to", "q", "status", "limit", "cursor", "since"],
    "/w/api/v2/public-calendar.json": ["room", "q", "limit", "since"],
    f"{BASE}/rooms.json": ["from", "to"],
    f"{BASE}/next.json": ["q", "room", "limit"],
    f"{BASE}/freebusy.ics": ["room", "from", "to"],
    f"{BASE}/free.json": ["from", "to", "minutes", "capacity", "room"],
    "/w/api/v2/openapi.yml": [],
    "/w/display": ["room", "refresh", "theme"],
}
CONTROL_CHARACTERS = [chr(code) for code in [*range(0x00, 0x20), 0x7F]]
NUMBERS = [
    "0",
    "-1",
    "1e308",
    "-1e308",
    "NaN",
    "inf",
    "1.5",
    "99999999999999999999",
    "0x10",
    "²",
    "１２",
    " 7",
]
DATES = [
    "2026-02-30", "2026-13-01", "0001-01-01", "9999-12-31", "9999-12-31T23:59:59-23:59",
    "0001-01-01T00:00:00+23:59", "2026-03-05T25:00:00Z", "2026-03-05T08:00:00+99:00",
    "2026-03-05T08:00:00", "+2026-03-05", "2026-03-05T08:00:00Z/P1D", "2026-W10-4", "2026-03-05t08:00:00z",
    "2999-12-31T23:59:60.9999999-23:59", "1000-01-01T00:00:00+23:59", "2999-12-31", "2026-03-05T08:00Z",
]  # fmt: skip


def encode(payload):
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


class HostileValues:
    """Values a careless or malicious client could send, drawn from a seeded generator."""

    def __init__(self, rng, valid):
        self.rng, self.valid = rng, valid

    def __call__(self, name):
        rng = self.rng
        valid = self.valid.get(name, ["x"])
        kinds = [
            lambda: rng.choice(valid),
            lambda: rng.choice(CONTROL_CHARACTERS) + rng.choice(valid),
            lambda: rng.choice(valid) + "\x00",
            # 5 kB: a URL past 64 KiB never reaches the route (the HTTP server drops it first).
            lambda: (rng.choice(valid) * 500)[:5000],
            lambda: "".join(chr(rng.randint(1, 0x2FFF)) for _ in range(rng.randint(1, 40))),
            lambda: rng.choice(NUMBERS),
            lambda: rng.choice(DATES),
            self.forged_token,
            lambda: base64.urlsafe_b64encode(rng.randbytes(rng.randint(1, 60))).decode(),
            lambda: rng.choice(valid)[: rng.randint(0, 20)],
        ]
        return rng.choice(kinds)()

    def forged_token(self):
        """Base64 JSON with the right version and signature, but fields of any type or size."""
        rng = self.rng
        odd = [None, True, -1, 10**400, 1e308, float("nan"), "x", [], {}, ["2026-03-05 08:00:00", 2**40],
               ["not a date", 1], [1, 2, 3]]  # fmt: skip
        payload = {"v": TOKEN_VERSION, "f": filter_signature([]), "s": rng.choice(odd), "a": rng.choice(odd)}
        if rng.random() < 0.5:
            payload["n"] = rng.choice(odd)
        if rng.random() < 0.2:
            return encode(rng.choice(odd))  # JSON of the wrong type altogether
        return json.dumps(payload) if rng.random() < 0.1 else encode(payload)


class ErrorRecords(logging.Handler):
    def __init__(self):
        super().__init__(logging.ERROR)
        self.records = []

    def emit(self, record):
        self.records.append(record)


@tagged("post_install", "-at_install")
class TestFeedFuzz(FeedCase, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.token = cls.enable_endpoint()
        # A key limited to one room answers the same hostile requests.
        cls.key_token = cls.env["calendar.feed.key"].generate(
            {"name": "Fuzz", "room_ids": [(6, 0, cls.sim_room.ids)]}
        )["token"]
        cls.busy_token = cls.env["calendar.feed.key"].generate({"name": "Busy", "access": "busy"})["token"]
        cls.set_feed_param("publish_tentative", True)
        now = datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)
        for hours in (1, 5, 30):
            cls.book(
                cls.sim_room, now + timedelta(hours=hours), now + timedelta(hours=hours + 1), name="OSCE"
            )

    def fetch(self, path, pairs=(), headers=None, method=None):
        query = urlencode(pairs, quote_via=quote)
        url = f"{path}?{query}" if query else path
        return self.url_open(url, headers=headers, allow_redirects=False, method=method)

    def valid_values(self):
        """Real tokens and cursors to mutate, as the API issued them."""
        first_page = self.fetch(f"{BASE}.json", [("token", self.token), ("limit", "1")]).json()
        full = self.fetch(f"{BASE}.json", [("token", self.token), ("limit", "10")]).json()
        return {
            "room": ["TSIM1", "TDEBRIEF", "SIM_1"],
            "from": ["2026-03-05", "2026-03-05T08:00:00Z"],
            "to": ["2026-03-06", "2026-03-06T18:00:00+01:00"],
            "q": ["OSCE", "osce debrief", "%", "_"],
            "status": ["confirmed", "tentative", "cancelled"],
            "limit": ["1", "10", "1000"],
            "minutes": ["1", "90", "527040"],
            "capacity": ["0", "8", "100000"],
            "cursor": [first_page["nextCursor"]],
            "since": [full["syncToken"]],
            "refresh": ["10", "60", "3600"],
            "theme": ["dark", "light"],
            "token": [self.token, self.key_token, self.token[:-1], self.key_token[:-1] + "A", ""],
        }

    def assertAnswered(self, path, pairs, response, headers):
        where = f"{response.request.method} {path} {pairs!r} {headers!r}"
        self.assertNotIn("Set-Cookie", response.headers, where)
        if response.request.method == "OPTIONS":  # what the route allows (CORS on JSON routes), or the 404
            self.assertIn(response.status_code, (204, 404), where)
            if response.status_code == 204:
                self.assertEqual(response.content, b"", where)
            return
        self.assertIn(response.status_code, (200, 304, 400, 404, 410, 503), where)
        self.assertNotIn("Traceback", response.text, where)
        is_json = path.endswith(".json")
        if response.status_code in (400, 410, 503):
            if is_json:
                self.assertEqual(response.headers["Content-Type"], "application/json; charset=utf-8", where)
                self.assertTrue(response.json()["error"]["message"], where)
            else:
                self.assertEqual(response.headers["Content-Type"], "text/plain; charset=utf-8", where)
                self.assertTrue(response.text.strip(), where)

    def test_every_route_answers_hostile_query_strings_without_a_server_error(self):
        rng = random.Random(SEED)
        values = HostileValues(rng, self.valid_values())
        errors = ErrorRecords()
        logging.getLogger("odoo").addHandler(errors)
        try:
            for path, names in ROUTES.items():
                for _ in range(REQUESTS_PER_ROUTE):
                    token = rng.choice([self.token, self.key_token, self.busy_token])
                    pairs = [("token", token)] if rng.random() < 0.9 else [("token", values("token"))]
                    chosen = [*names, "token", "unknown", "x\x00"]
                    for name in rng.sample(chosen, rng.randint(1, min(4, len(chosen)))):
                        pairs += [(name, values(name)) for _ in range(rng.choice([1, 1, 1, 2, 3]))]
                    rng.shuffle(pairs)
                    headers = self.hostile_headers(rng, values)
                    method = "OPTIONS" if rng.random() < 0.1 else "GET"
                    self.assertAnswered(path, pairs, self.fetch(path, pairs, headers, method), headers)
        finally:
            logging.getLogger("odoo").removeHandler(errors)
        self.assertEqual([record.getMessage()[:300] for record in errors.records], [])

    def hostile_headers(self, rng, values):
        headers = {}
        if rng.random() < 0.3:
            headers["Authorization"] = rng.choice(
                [
                    f"Bearer {self.token}",
                    f"Bearer {self.key_token}",
                    "Bearer",
                    "Bearer  ",
                    f"bearer {values('token')}",
                    "Basic x",
                    "Bearer \u00e9",
                ]
            )
        if rng.random() < 0.3:
            headers["If-None-Match"] = rng.choice(['"x"', "*", 'W/"1", "2"', "garbage\u00e9", '"' * 300])
        if rng.random() < 0.3:
            headers["If-Modified-Since"] = rng.choice(["yesterday", "Thu, 01 Jan 1970 00:00:00 GMT",
                                                       "Fri, 31 Dec 9999 23:59:59 GMT", "0"])  # fmt: skip
        if rng.random() < 0.5:
            headers["Accept-Encoding"] = rng.choice([
                "gzip", "identity;q=0, *;q=0", "gzip;q=NaN", "x-gzip;q=1e9", ";;,,*",
                "gzip;q=0.5, identity;q=0.5", "é" * 300,
            ])  # fmt: skip
        return {name: value.encode("utf-8").decode("latin-1") for name, value in headers.items()}

    def test_reported_requests_get_a_400_with_a_reason(self):
        signature = filter_signature([])
        huge = encode({"v": TOKEN_VERSION, "s": 10**100, "f": signature})
        float_stamp = encode({"v": TOKEN_VERSION, "s": 1e308, "f": signature})
        for params, reason in (
            ([("q", "\x00")], "q: '\\x00' contains control characters"),
            ([("cursor", "\x00")], "cursor: '\\x00' contains control characters"),
            ([("room", "\x00")], "room: '\\x00' contains control characters"),
            ([("since", "g" * 5000)], "since: longer than 512 characters"),
            ([("since", huge)], "since: not a since this API issued"),
            ([("since", float_stamp)], "since: not a since this API issued"),
            ([("limit", "²")], "limit: '²' is not a whole number"),
            ([("from", "9999-12-31T23:59:59-23:59")], "from: '9999-12-31T23:59:59-23:59' is out of range"),
            ([("from", "2026-03-05t08:00:00z"), ("to", "2026-03-05T07:00:00Z")], "to: must be after from"),
        ):
            with self.subTest(params=params):
                response = self.fetch(f"{BASE}.json", [("token", self.token), *params])
                self.assertEqual(response.status_code, 400, response.text)
                self.assertTrue(response.json()["error"]["message"].startswith(reason), response.text)

    def test_like_wildcards_in_filters_match_literally(self):
        response = self.fetch(f"{BASE}.json", [("token", self.token), ("q", "%")]).json()
        self.assertEqual(response["events"], [])
        self.env["calendar.room"].create({"name": "Underscore", "code": "SIM_1"})
        self.env["calendar.room"].create({"name": "Other", "code": "SIMX1"})
        now = datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)
        self.book(self.env["calendar.room"].search([("code", "=", "SIMX1")]), now, now + timedelta(hours=1))
        response = self.fetch(f"{BASE}.json", [("token", self.token), ("room", "SIM_1")]).json()
        self.assertEqual(response["events"], [])
