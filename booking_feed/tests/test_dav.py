"""CalDAV requests and answers without Odoo: the RFC examples, hostile bodies, and the XML written."""

import base64
from datetime import datetime, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from booking_feed.dav_paths import (
    ALL_ROOMS,
    Target,
    collection_path,
    object_path,
    parse_path,
)
from booking_feed.dav_request import (
    CALDAV,
    CALENDAR_DATA,
    DAV,
    CalendarQuery,
    DavError,
    FreeBusyQuery,
    Multiget,
    PropRequest,
    SyncCollection,
    clark,
    credentials,
    parse_depth,
    parse_propfind,
    parse_report,
    read_sync_token,
    sync_token_uri,
)
from booking_feed.dav_response import (
    Node,
    Resource,
    empty,
    error_body,
    href_value,
    multistatus,
    present,
)
from booking_feed.sync import SyncTokenExpired, check_sync_token

GETETAG, DISPLAYNAME = clark(DAV, "getetag"), clark(DAV, "displayname")


def xml(text: str) -> bytes:
    return text.strip().encode()


# -- RFC examples ------------------------------------------------------------------------------

# RFC 4918, 9.1.3 (the properties named, in another prefix than ours).
PROPFIND_PROP = xml("""
<?xml version="1.0" encoding="utf-8" ?>
<D:propfind xmlns:D="DAV:"><D:prop xmlns:R="http://ns.example.com/boxschema/">
  <R:bigbox/><R:author/><R:DingALing/><R:Random/></D:prop></D:propfind>""")

# RFC 4791, 7.8.1 (calendar-data with a subset asked for, and a time-range).
CALENDAR_QUERY = xml("""
<?xml version="1.0" encoding="utf-8" ?>
<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
  <D:prop><D:getetag/><C:calendar-data><C:comp name="VCALENDAR"><C:prop name="VERSION"/>
    <C:comp name="VEVENT"><C:prop name="SUMMARY"/><C:prop name="UID"/></C:comp></C:comp>
  </C:calendar-data></D:prop>
  <C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT">
    <C:time-range start="20060104T000000Z" end="20060105T000000Z"/></C:comp-filter></C:comp-filter></C:filter>
</C:calendar-query>""")

# RFC 4791, 7.9.1 (its calendar renamed).
MULTIGET = xml("""
<?xml version="1.0" encoding="utf-8" ?>
<C:calendar-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
  <D:prop><D:getetag/><C:calendar-data/></D:prop>
  <D:href>/bernard/office/abcd1.ics</D:href><D:href>/bernard/office/mtg1.ics</D:href>
</C:calendar-multiget>""")

# RFC 6578, 3.8.
SYNC_COLLECTION = xml("""
<?xml version="1.0" encoding="utf-8" ?>
<D:sync-collection xmlns:D="DAV:">
  <D:sync-token>http://example.com/ns/sync/1234</D:sync-token>
  <D:sync-level>1</D:sync-level>
  <D:prop xmlns:R="urn:ns.example.com:boxschema"><D:getetag/><R:bigbox/></D:prop>
</D:sync-collection>""")


def test_propfind_names_the_properties_asked_in_any_prefix():
    request = parse_propfind(PROPFIND_PROP)
    assert request.kind == "prop"
    assert request.names[0] == "{http://ns.example.com/boxschema/}bigbox"
    assert len(request.names) == 4


def test_an_empty_propfind_is_allprop_without_calendar_data():
    request = parse_propfind(b"")
    assert request == PropRequest("allprop")
    assert request.wants(GETETAG)
    assert not request.wants(CALENDAR_DATA)
    assert not request.wants(clark(CALDAV, "calendar-timezone"))


def test_a_long_list_of_properties_is_400():
    """Each property a resource lacks is written back for every resource: the list is bounded."""
    names = "".join(f"<x:p{index}/>" for index in range(101))
    with pytest.raises(DavError) as caught:
        parse_propfind(
            f'<d:propfind xmlns:d="DAV:" xmlns:x="urn:x"><d:prop>{names}</d:prop></d:propfind>'.encode()
        )
    assert caught.value.status == 400


def test_propname_lists_every_name():
    request = parse_propfind(b'<d:propfind xmlns:d="DAV:"><d:propname/></d:propfind>')
    assert request.lists(clark(CALDAV, "calendar-timezone")) and not request.wants(GETETAG)


def test_allprop_with_include_adds_the_included():
    body = b'<d:propfind xmlns:d="DAV:"><d:allprop/><d:include><d:sync-token/></d:include></d:propfind>'
    assert parse_propfind(body).wants(clark(DAV, "sync-token"))


def test_calendar_query_reads_the_time_range():
    query = parse_report(CALENDAR_QUERY)
    assert isinstance(query, CalendarQuery)
    assert (query.start, query.end) == (
        datetime(2006, 1, 4, tzinfo=timezone.utc),
        datetime(2006, 1, 5, tzinfo=timezone.utc),
    )
    assert query.props.wants(CALENDAR_DATA) and query.props.wants(GETETAG)
    assert not query.matches_nothing


@pytest.mark.parametrize("component", ["VTODO", "VJOURNAL"])
def test_a_query_for_other_components_matches_nothing(component):
    body = CALENDAR_QUERY.replace(b'comp-filter name="VEVENT"', f'comp-filter name="{component}"'.encode())
    assert parse_report(body).matches_nothing


def test_a_query_without_time_range_reads_every_event():
    body = xml("""<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
      <D:prop><D:getetag/>
      </D:prop><C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"/></C:comp-filter>
      </C:filter></C:calendar-query>""")
    query = parse_report(body)
    assert (query.start, query.end, query.matches_nothing) == (None, None, False)


@pytest.mark.parametrize("value", ["20060104T000000", "2006-01-04T00:00:00Z", "20061304T000000Z", ""])
def test_time_ranges_are_utc_date_times(value):
    body = CALENDAR_QUERY.replace(b"20060104T000000Z", value.encode())
    with pytest.raises(DavError) as caught:
        parse_report(body)
    assert caught.value.status == 400 and "time-range" in str(caught.value)


def test_a_property_filter_is_refused_with_supported_filter():
    body = CALENDAR_QUERY.replace(b"<C:time-range", b'<C:prop-filter name="UID"/><C:time-range')
    with pytest.raises(DavError) as caught:
        parse_report(body)
    assert (caught.value.status, caught.value.condition) == (403, clark(CALDAV, "supported-filter"))


def test_multiget_lists_the_hrefs():
    report = parse_report(MULTIGET)
    assert isinstance(report, Multiget)
    assert report.hrefs == ("/bernard/office/abcd1.ics", "/bernard/office/mtg1.ics")


def test_sync_collection_reads_token_level_and_props():
    report = parse_report(SYNC_COLLECTION)
    assert isinstance(report, SyncCollection)
    assert report.token == "http://example.com/ns/sync/1234"  # noqa: S105 (the RFC's example)
    assert report.props.names == (GETETAG, "{urn:ns.example.com:boxschema}bigbox")
    assert report.limit is None


def test_sync_collection_reads_a_limit():
    body = SYNC_COLLECTION.replace(b"<D:prop", b"<D:limit><D:nresults>100</D:nresults></D:limit><D:prop")
    assert parse_report(body).limit == 100


def test_other_reports_are_refused_with_supported_report():
    body = b'<D:expand-property xmlns:D="DAV:"/>'
    with pytest.raises(DavError) as caught:
        parse_report(body)
    assert (caught.value.status, caught.value.condition) == (403, clark(DAV, "supported-report"))
    assert str(caught.value).endswith(
        ": the reports of this server are calendar-query, calendar-multiget, sync-collection"
        " and free-busy-query"
    )


FREE_BUSY_QUERY = b"""<C:free-busy-query xmlns:C="urn:ietf:params:xml:ns:caldav">
  <C:time-range start="20060104T140000Z" end="20060105T220000Z"/></C:free-busy-query>"""


def test_free_busy_query_reads_its_time_range():
    report = parse_report(FREE_BUSY_QUERY)
    assert report == FreeBusyQuery(
        datetime(2006, 1, 4, 14, tzinfo=timezone.utc), datetime(2006, 1, 5, 22, tzinfo=timezone.utc)
    )
    assert parse_report(FREE_BUSY_QUERY.replace(b' end="20060105T220000Z"', b"")).end is None


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b'<C:free-busy-query xmlns:C="urn:ietf:params:xml:ns:caldav"/>', "a free-busy-query holds one"),
        (
            FREE_BUSY_QUERY.replace(b'start="20060104T140000Z" end="20060105T220000Z"', b""),
            "time-range: a start",
        ),
        (FREE_BUSY_QUERY.replace(b"20060104T14", b"20060106T14"), "time-range: the end must be after"),
        (FREE_BUSY_QUERY.replace(b"20060104T140000Z", b"2006-01-04"), "time-range start: a UTC date-time"),
        (FREE_BUSY_QUERY.replace(b"/></C:", b"/><C:time-range/></C:"), "a free-busy-query holds one"),
    ],
)
def test_malformed_free_busy_queries_are_a_400_with_the_reason(body, reason):
    with pytest.raises(DavError) as caught:
        parse_report(body)
    assert caught.value.status == 400
    assert str(caught.value).startswith(reason)


# -- hostile bodies -----------------------------------------------------------------------------

BILLION_LAUGHS = xml("""<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">
<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<D:propfind xmlns:D="DAV:"><D:prop><D:displayname>&lol2;</D:displayname></D:prop></D:propfind>""")
EXTERNAL_ENTITY = xml("""<?xml version="1.0"?><!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<D:propfind xmlns:D="DAV:"><D:prop><D:displayname>&xxe;</D:displayname></D:prop></D:propfind>""")


@pytest.mark.parametrize(
    "body",
    [BILLION_LAUGHS, EXTERNAL_ENTITY, b"<D:propfind", b"\xff\xfe<x/>", b"<propfind/>",
     b'<D:propfind xmlns:D="DAV:"><D:prop><unnamespaced/></D:prop></D:propfind>',
     b'<D:propfind xmlns:D="DAV:"><D:prop/><D:allprop/></D:propfind>',
     b"<a>" * 300 + b"</a>" * 300],
    ids=["billion-laughs", "external-entity", "truncated", "not-utf8", "no-namespace", "unnamespaced-prop",
         "prop-and-allprop", "deep"],
)  # fmt: skip
def test_hostile_propfind_bodies_are_400(body):
    with pytest.raises(DavError) as caught:
        parse_propfind(body)
    assert caught.value.status == 400
    assert "root:" not in str(caught.value)  # nothing of /etc/passwd in the message


def test_a_huge_body_is_413():
    with pytest.raises(DavError) as caught:
        parse_report(b" " * (3 * 1024 * 1024))
    assert caught.value.status == 413


def test_a_report_needs_a_body():
    with pytest.raises(DavError) as caught:
        parse_report(b"")
    assert caught.value.status == 400


XML_FRAGMENTS = st.sampled_from([
    "<D:prop>", "</D:prop>", "<D:getetag/>", "<C:calendar-data/>", '<C:comp-filter name="VCALENDAR">',
    '<C:comp-filter name="VEVENT">', "</C:comp-filter>", '<C:time-range start="20260101T000000Z"/>',
    '<C:time-range end="x"/>', "<C:filter>", "</C:filter>", "<D:href>/w/caldav/calendars/all/1.ics</D:href>",
    "<D:sync-token>", "</D:sync-token>", "<D:sync-level>2</D:sync-level>", "<D:allprop/>", "<D:propname/>",
    "<C:is-not-defined/>", "&amp;", "&bogus;", "<![CDATA[x]]>", "<!-- c -->", "\x00", "é", "<D:limit>",
    "<D:nresults>-1</D:nresults>", "</D:limit>", '<C:prop-filter name="UID">',
])  # fmt: skip
ROOTS = st.sampled_from(["D:propfind", "C:calendar-query", "C:calendar-multiget", "D:sync-collection", "x"])


@settings(derandomize=True, max_examples=400, deadline=None)
@given(root=ROOTS, inner=st.lists(XML_FRAGMENTS | st.text(max_size=8), max_size=12))
def test_fuzzed_bodies_parse_or_raise_dav_errors(root, inner):
    """Whatever the body, the parsers answer plain data or a DavError with a 4xx status."""
    body = f'<{root} xmlns:D="DAV:" xmlns:C="{CALDAV}">{"".join(inner)}</{root}>'.encode()
    for parse in (parse_propfind, parse_report):
        try:
            parse(body)
        except DavError as error:
            assert 400 <= error.status < 500


@settings(derandomize=True, max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_fuzzed_bytes_parse_or_raise_dav_errors(body):
    for parse in (parse_propfind, parse_report):
        try:
            parse(body)
        except DavError as error:
            assert 400 <= error.status < 500


# -- paths, depth, credentials, sync tokens ----------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "target"),
    [("/w/caldav", Target("root")), ("/w/caldav/", Target("root")),
     ("/w/caldav/principal/", Target("principal")),
     ("/w/caldav/calendars", Target("home")), ("/w/caldav/calendars/all/", Target("collection", ALL_ROOMS)),
     ("/w/caldav/calendars/room-all/", Target("collection", "all")),
     ("/w/caldav/calendars/room-SIM1/42.ics", Target("object", "SIM1", 42)),
     ("/w/caldav/calendars/all/2147483647.ics", Target("object", ALL_ROOMS, 2147483647)),
     ("http://host:8069/w/caldav/calendars/room-SIM%31/42.ics", Target("object", "SIM1", 42))],
)  # fmt: skip
def test_paths_name_resources(path, target):
    assert parse_path(path) == target


@pytest.mark.parametrize(
    "path",
    ["/w/caldavx", "/w/caldav/calendars/SIM1/", "/w/caldav/calendars/room-/", "/w/caldav/calendars/all/0.ics",
     "/w/caldav/calendars/all/1.ics/x", "/w/caldav/calendars/all/../../principal/1.ics", "/w/caldav/other",
     "/w/caldav/calendars/all/2147483648.ics", "/w/caldav/calendars/all/1.ICS",
     "/w/caldav/calendars/room-%00/", "/w/caldav/calendars/room-a.b/",
     f"/w/caldav/calendars/room-{'A' * 33}/"],
)  # fmt: skip
def test_other_paths_name_nothing(path):
    assert parse_path(path) is None


def test_paths_are_written_as_they_are_read():
    assert parse_path(collection_path(ALL_ROOMS)) == Target("collection", ALL_ROOMS)
    assert parse_path(object_path("all", 3)) == Target("object", "all", 3)
    assert collection_path("all") != collection_path(ALL_ROOMS), "a room coded 'all' is not every room"


@pytest.mark.parametrize("href", ["http://[/w/caldav/calendars/all/1.ics", "http://[zz]/w/caldav/", "%zz"])
def test_malformed_hrefs_name_nothing(href):
    assert parse_path(href) is None


@pytest.mark.parametrize(
    ("header", "depth"), [("0", 0), ("1", 1), ("infinity", 1), (None, 1), (" Infinity ", 1)]
)
def test_depth_infinity_is_served_as_one(header, depth):
    assert parse_depth(header) == depth


def test_other_depths_are_400():
    with pytest.raises(DavError) as caught:
        parse_depth("2")
    assert caught.value.status == 400


def basic(user_password: bytes) -> str:
    return "Basic " + base64.b64encode(user_password).decode()


@pytest.mark.parametrize(
    ("header", "secret"),
    [(basic(b"anyone:s3cret"), "s3cret"), (basic(b":s3cret"), "s3cret"), (basic(b"me:a:b"), "a:b"),
     ("Bearer s3cret", "s3cret"), (basic(b"me:"), None), (basic(b"nocolon"), None), ("Basic !!", None),
     ("Basic Ã©", None), ("Basic é===", None), ("Bearer ", None),
     (basic(b"me:\xff"), None), ("Digest x", None), ("", None), (None, None)],
)  # fmt: skip
def test_credentials_are_the_password_or_bearer_token(header, secret):
    assert credentials(header) == secret


@pytest.mark.parametrize(("stamp", "valid"), [(4, True), (2, True), (7, True), (1, False), (8, False)])
def test_sync_tokens_must_lie_between_the_floor_and_the_feed(stamp, valid):
    """Older than forgotten deletions, or newer than the feed (a database restored from a backup): expired."""
    if valid:
        check_sync_token(stamp, 2, 7)
    else:
        with pytest.raises(SyncTokenExpired):
            check_sync_token(stamp, 2, 7)


def test_sync_tokens_are_read_back_for_their_signature_only():
    token = sync_token_uri(41, "sig")
    assert read_sync_token(token, "sig") == 41
    for wrong in [sync_token_uri(41, "other"), "http://example.com/ns/sync/1234", token + "x" * 600, ""]:
        with pytest.raises(DavError) as caught:
            read_sync_token(wrong, "sig")
        assert (caught.value.status, caught.value.condition) == (403, clark(DAV, "valid-sync-token"))


# -- answers ---------------------------------------------------------------------------------------


def parsed(body: bytes):
    return etree.fromstring(body)


def test_multistatus_puts_missing_properties_in_a_404_propstat():
    resource = Resource("/a/", {GETETAG: '"x"', DISPLAYNAME: "Sim <1> & co", clark(DAV, "resourcetype"): ()})
    request = PropRequest("prop", (GETETAG, DISPLAYNAME, "{urn:x}unknown"))
    root = parsed(multistatus([resource], request))
    [ok, missing] = root.findall(f"{{{DAV}}}response/{{{DAV}}}propstat")
    assert ok.findtext(f"{{{DAV}}}status") == "HTTP/1.1 200 OK"
    assert ok.findtext(f"{{{DAV}}}prop/{{{DAV}}}displayname") == "Sim <1> & co"
    assert missing.findtext(f"{{{DAV}}}status") == "HTTP/1.1 404 Not Found"
    assert [child.tag for child in missing.find(f"{{{DAV}}}prop")] == ["{urn:x}unknown"]


def test_propname_lists_names_without_values():
    resource = Resource("/a/", present({GETETAG: '"x"', DISPLAYNAME: "Sim", "{urn:x}absent": None}))
    root = parsed(multistatus([resource], PropRequest("propname")))
    prop = root.find(f"{{{DAV}}}response/{{{DAV}}}propstat/{{{DAV}}}prop")
    assert [(child.tag, child.text) for child in prop] == [(GETETAG, None), (DISPLAYNAME, None)]


def test_gone_hrefs_and_the_sync_token_close_the_multistatus():
    token = "urn:t"  # noqa: S105 (not a secret)
    root = parsed(multistatus([], PropRequest("prop", (GETETAG,)), gone=["/a/1.ics"], sync_token=token))
    [response] = root.findall(f"{{{DAV}}}response")
    assert response.findtext(f"{{{DAV}}}status") == "HTTP/1.1 404 Not Found"
    assert root.findtext(f"{{{DAV}}}sync-token") == "urn:t"


def test_nested_values_are_written_as_elements():
    value = (
        *empty(DAV, "collection"),
        Node(clark(CALDAV, "comp"), (), {"name": "VEVENT"}),
        *href_value("/p/"),
    )
    root = parsed(multistatus([Resource("/a/", {"{urn:x}v": value})], PropRequest("allprop")))
    prop = root.find(f"{{{DAV}}}response/{{{DAV}}}propstat/{{{DAV}}}prop/{{urn:x}}v")
    assert [child.tag for child in prop] == [f"{{{DAV}}}collection", f"{{{CALDAV}}}comp", f"{{{DAV}}}href"]
    assert prop[1].get("name") == "VEVENT" and prop[2].text == "/p/"


def test_error_bodies_name_the_precondition_and_the_reason():
    body = error_body(DavError(403, "read-only", clark(DAV, "need-privileges")))
    root = parsed(body)
    assert root.tag == f"{{{DAV}}}error"
    assert root[0].tag == f"{{{DAV}}}need-privileges"
    assert "read-only" in root.itertext()
