"""A client writing bookings into a remote CalDAV calendar (RFC 4791): the push targets'.

It asks little of CalDAV, so that any server serves it, Google's CalDAV API
included: PROPFIND of the collection (its name, what the account may do,
how many objects it holds), PUT and DELETE of one object with ``If-Match``,
and a ``calendar-query`` REPORT listing the objects with their UIDs (for a
Resync). It never sends ``If-None-Match`` nor MKCALENDAR, which Google
refuses: the remote calendar must exist. Built on :mod:`.remote` rather than
the ``caldav`` library, whose requests have no hard deadline, follow
redirects anywhere and parse answers with no bound: here every answer is
hostile until parsed.

Another provider (Microsoft Graph, which has no CalDAV) would implement the
same methods: ``probe``, ``put``, ``delete``, ``etag`` and ``objects``.
"""

import re
from dataclasses import dataclass
from urllib.parse import quote, unquote, urljoin, urlsplit

from lxml import etree

from .dav_request import CALDAV, DAV, clark
from .remote import Answer, Problem, exchange, new_session
from .translatable import _lt

#: Seconds one exchange may take, and the listing of a whole calendar (thousands of objects).
DEADLINE = 20
LISTING_DEADLINE = 120
MAX_ANSWER_BYTES = 1024 * 1024
MAX_LISTING_BYTES = 64 * 1024 * 1024
NOT_CALDAV = _lt("the server's answer is not CalDAV (HTTP %(status)s)")
NOT_A_CALENDAR = _lt("this URL is not a calendar")
WRITE_PRIVILEGES = frozenset(clark(DAV, name) for name in ("all", "write", "write-content", "bind"))
_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_pis=True
)
_PROPFIND = (
    '<?xml version="1.0" encoding="utf-8"?><d:propfind xmlns:d="DAV:"><d:prop>{}</d:prop></d:propfind>'
)
PROPFIND_CALENDAR = _PROPFIND.format("<d:displayname/><d:resourcetype/><d:current-user-privilege-set/>")
PROPFIND_ETAG = _PROPFIND.format("<d:getetag/><d:resourcetype/>")
CALENDAR_QUERY = (
    '<?xml version="1.0" encoding="utf-8"?>'
    '<c:calendar-query xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav">'
    "<d:prop><d:getetag/><c:calendar-data/></d:prop>"
    '<c:filter><c:comp-filter name="VCALENDAR"><c:comp-filter name="VEVENT"/></c:comp-filter></c:filter>'
    "</c:calendar-query>"
)
_UID = re.compile(r"^UID:(.*)$", re.MULTILINE)
_FOLD = re.compile(r"\r?\n[ \t]")


@dataclass(frozen=True)
class Probe:
    """What Test connection found: the calendar's name, how many objects it holds, whether the
    account may write there (None: the server does not say); or the ``answer`` that failed."""

    answer: Answer
    name: str = ""
    objects: int = 0
    writable: bool | None = None


@dataclass(frozen=True)
class RemoteObject:
    """One object of the remote calendar: its path, ETag (None if weak or absent) and UID."""

    href: str
    etag: str | None
    uid: str | None


class CalDavCalendar:
    """The calendar collection at ``url``, reached with ``authorization`` (an Authorization header
    value, or None). Connections are reused while the object lives."""

    def __init__(self, url, authorization=None, *, session=None, deadline=DEADLINE):
        self.url = url if url.endswith("/") else url + "/"
        self.authorization = authorization
        self.session = session or new_session()
        self.deadline = deadline

    def href_for(self, uid: str) -> str:
        """The path of the object holding ``uid``: the resource is named after it, so pushing it
        again overwrites it, whoever pushed first."""
        return urlsplit(self.url).path + quote(uid, safe="@") + ".ics"

    def probe(self) -> Probe:
        answer = self._send("PROPFIND", self.url, PROPFIND_CALENDAR.encode(), {"Depth": "0"})
        if not answer.succeeded:
            return Probe(answer)
        try:
            props = _multistatus(answer.body)
        except ValueError:
            return Probe(_not_caldav(answer))
        found = props.get(_path(self.url)) or next(iter(props.values()), {})
        if clark(CALDAV, "calendar") not in found.get("resourcetype", ()):
            return Probe(Answer(answer.status, answer.headers, problem=Problem(NOT_A_CALENDAR)))
        privileges = found.get("current-user-privilege-set")
        writable = None if privileges is None else bool(WRITE_PRIVILEGES & set(privileges))
        listing = self._send(
            "PROPFIND", self.url, PROPFIND_ETAG.encode(), {"Depth": "1"}, deadline=LISTING_DEADLINE
        )
        try:
            count = len(set(_multistatus(listing.body)) - {_path(self.url)}) if listing.succeeded else 0
        except ValueError:
            return Probe(_not_caldav(listing))
        return Probe(listing, found.get("displayname", ""), count, writable)

    def put(self, href, data: bytes, etag=None) -> Answer:
        """Write one calendar object; with ``etag``, only over that version (``If-Match``)."""
        headers = {"Content-Type": "text/calendar; charset=utf-8"} | ({"If-Match": etag} if etag else {})
        return self._send("PUT", urljoin(self.url, href), data, headers)

    def delete(self, href, etag=None) -> Answer:
        return self._send("DELETE", urljoin(self.url, href), b"", {"If-Match": etag} if etag else {})

    def etag(self, href) -> tuple[Answer, str | None]:
        """The current ETag of one object (its answer is 404 when there is none)."""
        answer = self._send("PROPFIND", urljoin(self.url, href), PROPFIND_ETAG.encode(), {"Depth": "0"})
        if not answer.succeeded:
            return answer, None
        try:
            props = _multistatus(answer.body)
        except ValueError:
            return _not_caldav(answer), None
        return answer, _strong(next(iter(props.values()), {}).get("getetag"))

    def objects(self) -> tuple[Answer, list[RemoteObject]]:
        """Every event object of the calendar, with its UID."""
        answer = self._send(
            "REPORT",
            self.url,
            CALENDAR_QUERY.encode(),
            {"Depth": "1"},
            deadline=LISTING_DEADLINE,
            max_bytes=MAX_LISTING_BYTES,
        )
        if not answer.succeeded:
            return answer, []
        try:
            props = _multistatus(answer.body)
        except ValueError:
            return _not_caldav(answer), []
        return answer, [
            RemoteObject(href, _strong(found.get("getetag")), _uid(found.get("calendar-data", "")))
            for href, found in props.items()
            if href != _path(self.url)
        ]

    def _send(self, method, url, body, headers, *, deadline=None, max_bytes=MAX_ANSWER_BYTES):
        headers = ({"Content-Type": "application/xml; charset=utf-8"} if body else {}) | headers
        if self.authorization:
            headers["Authorization"] = self.authorization
        deadline = deadline or self.deadline
        return exchange(
            self.session, method, url, headers=headers, body=body, deadline=deadline, max_bytes=max_bytes
        )


def _multistatus(body: bytes) -> dict:
    """``{path: {property: value}}`` of a 207 answer's successful properties: text for names,
    ETags and calendar data, the set of child element names for resource types and privileges.

    ValueError when it is not a multistatus.
    """
    try:
        root = etree.fromstring(body, _PARSER)
    except (etree.XMLSyntaxError, ValueError):
        raise ValueError("not XML") from None
    if root is None or root.tag != clark(DAV, "multistatus"):
        raise ValueError("not a multistatus")
    found = {}
    for response in root.iterchildren(clark(DAV, "response")):
        href = response.findtext(clark(DAV, "href"))
        if not href:
            continue
        properties = found.setdefault(_path(href.strip()), {})
        for propstat in response.iterchildren(clark(DAV, "propstat")):
            if " 200 " not in f"{propstat.findtext(clark(DAV, 'status')) or ''} ":
                continue
            for prop in propstat.iterchildren(clark(DAV, "prop")):
                for element in prop.iterchildren(etree.Element):
                    properties[etree.QName(element).localname] = _value(element)
    return found


def _value(element):
    if etree.QName(element).localname in ("resourcetype", "current-user-privilege-set"):
        return frozenset(child.tag for child in element.iter(etree.Element) if child is not element)
    return (element.text or "").strip()


def _path(href: str) -> str:
    """A href as a decoded path (servers answer with absolute URLs, paths, or either encoding)."""
    return unquote(urlsplit(href).path)


def _strong(etag):
    """An ETag ``If-Match`` can use: strong, quoted; None otherwise."""
    return etag if etag and etag.startswith('"') else None


def _uid(data: str):
    match = _UID.search(_FOLD.sub("", data))
    return match and match.group(1).strip()


def _not_caldav(answer: Answer) -> Answer:
    return Answer(answer.status, answer.headers, problem=Problem(NOT_CALDAV, (("status", answer.status),)))
