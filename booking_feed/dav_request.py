"""Reading CalDAV requests (RFC 4918, 4791, 6578): credentials, the Depth header and XML bodies.

Every byte of a request comes from the outside. Bodies are parsed by
``lxml`` with no DTD, no entity expansion and no network, and a body that
declares a DTD is refused outright (XXE and "billion laughs" need one).
What a body asks for comes back as plain data; anything this read-only
server cannot answer raises :class:`DavError` with the RFC's precondition
and a sentence for the caller.
"""

import base64
import re
from dataclasses import dataclass
from datetime import datetime, timezone

from lxml import etree

from .api import FeedError, bearer_token
from .query import MAX_VALUE_LENGTH, QueryError, shown
from .sync import decode_sync_token, encode_sync_token

DAV = "DAV:"
CALDAV = "urn:ietf:params:xml:ns:caldav"
CALENDARSERVER = "http://calendarserver.org/ns/"
APPLE_ICAL = "http://apple.com/ns/ical/"

#: Larger than any body a client sends for a read (a multiget of 1,000 hrefs is ~60 kB).
MAX_BODY_BYTES = 2 * 1024 * 1024
#: Clients fetch objects in batches of tens; a thousand bounds the work of one request.
MAX_HREFS = 1000
#: Clients ask for about fifteen properties.
MAX_PROPERTIES = 100
#: Methods that would change something: a read-only server refuses them all (RFC 3744 need-privileges).
WRITE_PRIVILEGES = {
    "PUT": "write-content",
    "DELETE": "unbind",
    "MKCALENDAR": "bind",
    "MKCOL": "bind",
    "PROPPATCH": "write-properties",
    "MOVE": "unbind",
    "COPY": "bind",
    "POST": "bind",
    "LOCK": "write",
    "UNLOCK": "write",
    "ACL": "write-acl",
    "PATCH": "write-content",
}
READ_METHODS = ("OPTIONS", "GET", "HEAD", "PROPFIND", "REPORT")
#: Sync tokens are URIs (RFC 6578); after this prefix, the JSON feed's opaque token.
SYNC_TOKEN_PREFIX = "urn:x-external-calendar:sync:"  # noqa: S105 (the form of tokens, not one)
_UTC_TIME = re.compile(r"([0-9]{8})T([0-9]{6})Z")
_PARSER = etree.XMLParser(
    resolve_entities=False,
    no_network=True,
    load_dtd=False,
    huge_tree=False,
    remove_pis=True,
    remove_comments=True,
)


def clark(namespace: str, name: str) -> str:
    """``{namespace}name``, the form lxml names elements by."""
    return f"{{{namespace}}}{name}"


CALENDAR_DATA = clark(CALDAV, "calendar-data")
#: Properties an allprop leaves out: large or costly ones (RFC 4791, 5.2 and 9.6; RFC 3253, 3744, 6578).
NOT_IN_ALLPROP = frozenset(
    {
        CALENDAR_DATA,
        clark(CALDAV, "calendar-timezone"),
        clark(CALDAV, "supported-calendar-component-set"),
        clark(DAV, "supported-report-set"),
        clark(DAV, "current-user-privilege-set"),
        clark(DAV, "sync-token"),
    }
)


class DavError(FeedError):
    """A request this server refuses; ``condition`` is the RFC precondition element, if any."""

    def __init__(self, status: int, message: str, condition: str | None = None):
        super().__init__(message)
        self.status = status
        self.condition = condition


def bad_request(message: str) -> DavError:
    return DavError(400, message)


def credentials(authorization: str | None) -> str | None:
    """The secret of an ``Authorization`` header: a Basic password (any user name) or a Bearer token."""
    scheme, _, value = (authorization or "").strip().partition(" ")
    if scheme.lower() != "basic":
        return bearer_token(authorization)
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode()
    except ValueError:  # not base64, not ASCII (binascii.Error), not UTF-8 (UnicodeDecodeError)
        return None
    return decoded.partition(":")[2] or None


def sync_token_uri(stamp: int, signature: str) -> str:
    return SYNC_TOKEN_PREFIX + encode_sync_token(stamp, signature)


def read_sync_token(uri: str, signature: str) -> int:
    """The change stamp of a sync token issued for ``signature`` (a collection, a key's rooms).

    Anything else is the 403 ``valid-sync-token`` of RFC 6578, after which clients sync afresh.
    """
    try:
        if not uri.startswith(SYNC_TOKEN_PREFIX) or len(uri) > MAX_VALUE_LENGTH:
            raise QueryError("not a sync token of this server")
        return decode_sync_token(uri[len(SYNC_TOKEN_PREFIX) :], signature)
    except QueryError:
        raise invalid_sync_token() from None


def invalid_sync_token() -> DavError:
    return DavError(
        403,
        "sync-token: unknown, expired or issued for another calendar; sync again without it",
        clark(DAV, "valid-sync-token"),
    )


def parse_depth(header: str | None) -> int:
    """The Depth header as 0 or 1; ``infinity`` (also the default) is served as 1, as Nextcloud does.

    This server's tree is shallow: a calendar's objects are one level down.
    """
    value = (header or "infinity").strip().lower()
    if value not in ("0", "1", "infinity"):
        raise bad_request(f"Depth: must be 0, 1 or infinity, not {shown(value)}")
    return 0 if value == "0" else 1


def parse_xml(body: bytes) -> etree._Element:
    """The root element of a request body, parsed safely."""
    if len(body) > MAX_BODY_BYTES:
        raise DavError(413, f"the request body is larger than {MAX_BODY_BYTES} bytes")
    try:
        root = etree.fromstring(body, _PARSER)
    except (etree.XMLSyntaxError, ValueError) as error:
        raise bad_request(f"the body is not well-formed XML: {shown(str(error))}") from None
    if root is None:
        raise bad_request("the body is empty")
    if root.getroottree().docinfo.doctype:
        raise bad_request("document type declarations are not accepted")
    return root


@dataclass(frozen=True)
class PropRequest:
    """Which properties a PROPFIND or REPORT asks for.

    ``kind`` is ``prop`` (``names``), ``allprop`` (with ``names`` included)
    or ``propname`` (names only).
    """

    kind: str = "allprop"
    names: tuple[str, ...] = ()

    def wants(self, name: str) -> bool:
        """Whether the value of ``name`` is asked for."""
        return name in self.names or (self.kind == "allprop" and name not in NOT_IN_ALLPROP)

    def lists(self, name: str) -> bool:
        """Whether ``name`` is in the answer: its value is asked for, or all names are (propname)."""
        return self.kind == "propname" or self.wants(name)


def _element_names(parent) -> tuple[str, ...]:
    if len(parent) > MAX_PROPERTIES:  # each one missing is written back for every resource
        raise bad_request(f"ask for at most {MAX_PROPERTIES} properties")
    names = []
    for child in parent:
        if not isinstance(child.tag, str) or not child.tag.startswith("{"):
            raise bad_request(f"properties are named in a namespace: {shown(str(child.tag))}")
        names.append(child.tag)
    return tuple(dict.fromkeys(names))


def _prop_request(root, *, required: bool) -> PropRequest:
    """The prop, allprop or propname child of ``root``."""
    prop, allprop, propname = (root.find(clark(DAV, name)) for name in ("prop", "allprop", "propname"))
    if sum(element is not None for element in (prop, allprop, propname)) > 1:
        raise bad_request("ask for one of prop, allprop or propname")
    if prop is not None:
        return PropRequest("prop", _element_names(prop))
    if propname is not None:
        return PropRequest("propname")
    if allprop is not None or not required:
        include = root.find(clark(DAV, "include"))
        return PropRequest("allprop", _element_names(include) if include is not None else ())
    raise bad_request("the report does not say which properties to return (DAV:prop)")


def parse_propfind(body: bytes) -> PropRequest:
    """A PROPFIND body; an empty one asks for allprop (RFC 4918, 9.1)."""
    if not body.strip():
        return PropRequest()
    root = parse_xml(body)
    if root.tag != clark(DAV, "propfind"):
        raise bad_request(f"a PROPFIND body is a DAV:propfind element, not {shown(str(root.tag))}")
    return _prop_request(root, required=False)


@dataclass(frozen=True)
class CalendarQuery:
    """``calendar-query``: the events overlapping ``[start, end)`` (open where None).

    ``matches_nothing`` is set by filters no VEVENT can pass (a VTODO filter,
    say): this server holds events only.
    """

    props: PropRequest
    start: datetime | None = None
    end: datetime | None = None
    matches_nothing: bool = False


@dataclass(frozen=True)
class Multiget:
    """``calendar-multiget``: the objects at ``hrefs``."""

    props: PropRequest
    hrefs: tuple[str, ...]


@dataclass(frozen=True)
class SyncCollection:
    """``sync-collection`` (RFC 6578): what changed since ``token`` ("" for everything)."""

    props: PropRequest
    token: str
    limit: int | None = None


@dataclass(frozen=True)
class FreeBusyQuery:
    """``free-busy-query`` (RFC 4791, 7.10): the calendar's busy time in ``[start, end)`` (open where
    None, up to the published window)."""

    start: datetime | None
    end: datetime | None


def parse_report(body: bytes) -> CalendarQuery | Multiget | SyncCollection | FreeBusyQuery:
    """A REPORT body: calendar-query, calendar-multiget, sync-collection or free-busy-query."""
    root = parse_xml(body)
    readers = {
        clark(CALDAV, "calendar-query"): _calendar_query,
        clark(CALDAV, "calendar-multiget"): _multiget,
        clark(DAV, "sync-collection"): _sync_collection,
        clark(CALDAV, "free-busy-query"): _free_busy_query,
    }
    if root.tag not in readers:
        raise DavError(
            403,
            f"unsupported report {shown(str(root.tag))}: the reports of this server are calendar-query, "
            "calendar-multiget, sync-collection and free-busy-query",
            clark(DAV, "supported-report"),
        )
    return readers[root.tag](root)


def _free_busy_query(root) -> FreeBusyQuery:
    """Exactly one time-range, with a start, an end or both (RFC 4791, 9.9)."""
    ranges = root.findall(clark(CALDAV, "time-range"))
    if len(ranges) != 1 or len(root) != 1:
        raise bad_request("a free-busy-query holds one CALDAV:time-range and nothing else")
    start, end = _utc_attribute(ranges[0], "start"), _utc_attribute(ranges[0], "end")
    if start is None and end is None:
        raise bad_request("time-range: a start, an end or both")
    if start and end and end <= start:
        raise bad_request("time-range: the end must be after the start")
    return FreeBusyQuery(start, end)


def _calendar_query(root) -> CalendarQuery:
    props = _prop_request(root, required=True)
    calendar = root.find(f"{clark(CALDAV, 'filter')}/{clark(CALDAV, 'comp-filter')}")
    if calendar is None or calendar.get("name") != "VCALENDAR":
        raise DavError(
            403, "a calendar-query filters on a VCALENDAR comp-filter", clark(CALDAV, "valid-filter")
        )
    children = list(calendar)
    if calendar.find(clark(CALDAV, "is-not-defined")) is not None:
        return CalendarQuery(props, matches_nothing=True)
    components = [child for child in children if child.tag == clark(CALDAV, "comp-filter")]
    if len(components) != len(children):
        raise _unsupported_filter("VCALENDAR holds comp-filter elements only here")
    if any(component.get("name") != "VEVENT" for component in components):
        return CalendarQuery(props, matches_nothing=True)
    start = end = None
    for event in components:
        for test in event:
            if test.tag == clark(CALDAV, "is-not-defined"):
                return CalendarQuery(props, matches_nothing=True)
            if test.tag != clark(CALDAV, "time-range"):
                raise _unsupported_filter(
                    f"VEVENT is filtered by time-range only, not {shown(str(test.tag))}"
                )
            start = _latest(start, _utc_attribute(test, "start"))
            end = _earliest(end, _utc_attribute(test, "end"))
    return CalendarQuery(props, start, end)


def _unsupported_filter(message):
    return DavError(403, f"unsupported filter: {message}", clark(CALDAV, "supported-filter"))


def _latest(first, second):
    return max(filter(None, (first, second)), default=None)


def _earliest(first, second):
    return min(filter(None, (first, second)), default=None)


def _utc_attribute(element, name) -> datetime | None:
    """A time-range bound: a UTC date-time such as ``20260305T083000Z`` (RFC 4791, 9.9)."""
    value = element.get(name)
    if value is None:
        return None
    match = _UTC_TIME.fullmatch(value)
    try:
        if not match:
            raise ValueError
        return datetime.strptime(match.group(1) + match.group(2), "%Y%m%d%H%M%S").replace(tzinfo=timezone.utc)
    except ValueError:
        raise bad_request(
            f"time-range {name}: a UTC date-time such as 20260305T083000Z, not {shown(value)}"
        ) from None


def _multiget(root) -> Multiget:
    props = _prop_request(root, required=True)
    hrefs = tuple((element.text or "").strip() for element in root.iterfind(clark(DAV, "href")))
    if not hrefs:
        raise bad_request("a calendar-multiget names at least one DAV:href")
    if len(hrefs) > MAX_HREFS:
        raise bad_request(f"a calendar-multiget names at most {MAX_HREFS} hrefs")
    return Multiget(props, hrefs)


def _sync_collection(root) -> SyncCollection:
    props = _prop_request(root, required=True)
    token_element = root.find(clark(DAV, "sync-token"))
    if token_element is None:
        raise bad_request("a sync-collection has a DAV:sync-token element (empty for a first sync)")
    level = (root.findtext(clark(DAV, "sync-level")) or "1").strip()
    if level not in ("1", "infinite"):
        raise bad_request(f"sync-level: 1 or infinite, not {shown(level)}")
    limit = root.findtext(f"{clark(DAV, 'limit')}/{clark(DAV, 'nresults')}")
    if limit is not None and not re.fullmatch(r"[1-9][0-9]{0,8}", limit.strip()):
        raise bad_request(f"limit: a positive number of results, not {shown(limit)}")
    return SyncCollection(props, (token_element.text or "").strip(), int(limit) if limit else None)
