"""Read-your-writes under load (issue 27): every read that starts after a change committed shows it.

Part of ``make bench-load``. Each round, an editor renames one booking over
JSON-RPC on the edit server (the call returns once the change committed),
then twelve readers ask the poll server, in parallel, each on its own route:
the ICS feed (main link, one room, a key), the JSON feed (whole, filtered by
room, ``since`` the previous answer, ``next.json`` by title) and CalDAV (the
object, its ETag by PROPFIND, calendar-query, calendar-multiget,
sync-collection from the previous token). An answer is *stale* if it lacks
the new title (or, for the ETag and sync-collection, still shows the object
as before the change). The poll server runs several worker processes, so
the readers race the rebuild the change causes, as vdirsyncer's parallel
requests do.
"""

import base64
import http.client
import json
import re
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from urllib.parse import quote

HOST = "127.0.0.1"  # loopback only
CALDAV_HOME = "/w/caldav/calendars/"
FEED = "/w/api/v2/public_calendar"
DAV_NS = 'xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"'
ETAG = re.compile(r"<(?:\w+:)?getetag[^>]*>([^<]+)</(?:\w+:)?getetag>")
SYNC_TOKEN = re.compile(r"<(?:\w+:)?sync-token[^>]*>([^<]+)</(?:\w+:)?sync-token>")
TIMEOUT = 120


def request(port, method, path, *, body=None, headers=None):
    """``(status, text)`` of one request on a new connection."""
    connection = http.client.HTTPConnection(HOST, port, timeout=TIMEOUT)
    try:
        connection.request(method, path, body=body, headers={"Connection": "close", **(headers or {})})
        response = connection.getresponse()
        return response.status, response.read().decode("utf-8", "replace")
    finally:
        connection.close()


class Readers:
    """The twelve reads of a round, and the state they compare with (previous tokens and ETag)."""

    def __init__(self, port, token, key_token, booking):
        self.port, self.token, self.key_token = port, token, key_token
        self.code, self.booking_id = booking["room_code"], booking["id"]
        self.calendar = f"{CALDAV_HOME}room-{quote(self.code)}/"
        self.object = f"{self.calendar}{self.booking_id}.ics"
        auth = base64.b64encode(f"bench:{token}".encode()).decode()
        self.dav_headers = {"Authorization": f"Basic {auth}", "Content-Type": "application/xml"}
        self.json_sync_token = self.dav_sync_token = self.etag_before = None

    def remember(self):
        """Before a change: the JSON sync token, the CalDAV sync token and the object's ETag."""
        _status, text = request(self.port, "GET", f"{FEED}.json?token={self.token}&room={quote(self.code)}")
        self.json_sync_token = json.loads(text)["syncToken"]
        _status, text = self.dav("REPORT", self.calendar, self.sync_body(""))
        self.dav_sync_token = SYNC_TOKEN.search(text).group(1)
        self.etag_before = self.object_etag()

    def dav(self, method, path, body, depth="1"):
        return request(self.port, method, path, body=body, headers={**self.dav_headers, "Depth": depth})

    @staticmethod
    def sync_body(token):
        return (
            f"<d:sync-collection {DAV_NS}><d:sync-token>{token}</d:sync-token><d:sync-level>1</d:sync-level>"
            "<d:prop><d:getetag/></d:prop></d:sync-collection>"
        )

    def object_etag(self):
        body = f"<d:propfind {DAV_NS}><d:prop><d:getetag/></d:prop></d:propfind>"
        _status, text = self.dav("PROPFIND", self.object, body, depth="0")
        found = ETAG.search(text)
        return found and found.group(1)

    def reads(self, title):
        """``{route: callable telling whether its answer shows the change titled ``title``}``."""
        room = quote(self.code)
        gets = {
            "ICS, main link": f"{FEED}.ics?token={self.token}",
            "ICS, one room": f"{FEED}.ics?token={self.token}&room={room}",
            "ICS, a key": f"{FEED}.ics?token={self.key_token}",
            "JSON, whole": f"{FEED}.json?token={self.token}",
            "JSON, one room": f"{FEED}.json?token={self.token}&room={room}",
            "JSON, since": f"{FEED}.json?token={self.token}&room={room}&since={quote(self.json_sync_token)}",
            "JSON, next by title": f"{FEED}/next.json?token={self.token}&q={quote(title)}",
        }
        reads = {route: partial(self.get_shows, path, title) for route, path in gets.items()}
        data = "<d:prop><d:getetag/><c:calendar-data/></d:prop>"
        every_event = '<c:comp-filter name="VCALENDAR"><c:comp-filter name="VEVENT"/></c:comp-filter>'
        query = f"<c:calendar-query {DAV_NS}>{data}<c:filter>{every_event}</c:filter></c:calendar-query>"
        multiget = f"<c:calendar-multiget {DAV_NS}>{data}<d:href>{self.object}</d:href></c:calendar-multiget>"
        return reads | {
            "CalDAV GET": partial(self.get_shows, self.object, title, self.dav_headers),
            "CalDAV ETag": lambda: self.object_etag() not in (None, self.etag_before),
            "CalDAV calendar-query": partial(self.report_shows, query, title),
            "CalDAV multiget": partial(self.report_shows, multiget, title),
            "CalDAV sync-collection": self.synced_since,
        }

    def get_shows(self, path, title, headers=None):
        status, text = request(self.port, "GET", path, headers=headers)
        return status == 200 and title in text

    def report_shows(self, body, title):
        status, text = self.dav("REPORT", self.calendar, body)
        return status == 207 and title in text

    def synced_since(self):
        status, text = self.dav("REPORT", self.calendar, self.sync_body(self.dav_sync_token))
        return status == 207 and self.object in text and self.etag_before not in text


def read_your_writes(rename, readers, rounds):
    """``rounds`` rounds of a rename then twelve parallel reads; ``{route: stale answers}``."""
    stale = {}
    with ThreadPoolExecutor(max_workers=12) as pool:
        for number in range(1, rounds + 1):
            readers.remember()
            title = f"Fresh read {number}"
            rename(title)  # returns once the change committed
            reads = readers.reads(title)
            outcomes = dict(zip(reads, pool.map(lambda read: read(), reads.values()), strict=True))
            for route, fresh in outcomes.items():
                stale[route] = stale.get(route, 0) + (not fresh)
    return stale


def report(stale, rounds):
    """Print the table; the failures (routes with a stale answer)."""
    print(f"\nRead-your-writes: a rename, then {len(stale)} parallel readers, {rounds} rounds")
    print(f"| {'route':<24} | {'stale answers':>13} |")
    print(f"| {'-' * 24} | {'-' * 12}: |")
    for route, count in stale.items():
        print(f"| {route:<24} | {count:>13} |")
    return [f"{route}: {count} stale answers of {rounds}" for route, count in stale.items() if count]
