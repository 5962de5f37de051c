"""Read-only CalDAV over HTTP: a real client (the ``caldav`` package) and the RFCs' requests, raw."""

import base64
import logging
import random
from contextlib import closing, contextmanager
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from icalendar import Calendar
from lxml import etree

from odoo.tests import HttpCase, TransactionCase, tagged

from ..booking_feed.dav_request import CALDAV, DAV
from ..booking_feed.tests.conformance import check_ics
from .common import FeedCase, RandomChanges, optional_test_dependency, require
from .test_feed_fuzz import ErrorRecords
from .test_json_sync import STEPS

caldav = optional_test_dependency("caldav")

ROOT, HOME = "/w/caldav/", "/w/caldav/calendars/"
SIM, DEBRIEF, ALL = f"{HOME}room-TSIM1/", f"{HOME}room-TDEBRIEF/", f"{HOME}all/"
NS = {"d": DAV, "c": CALDAV, "cs": "http://calendarserver.org/ns/", "ical": "http://apple.com/ns/ical/"}


def propfind(*names):
    props = "".join(f"<{name}/>" for name in names)
    return (
        f'<d:propfind xmlns:d="DAV:" xmlns:c="{CALDAV}" xmlns:cs="{NS["cs"]}" xmlns:ical="{NS["ical"]}">'
        f"<d:prop>{props}</d:prop></d:propfind>"
    )


def calendar_query(start=None, end=None):
    bounds = "".join(
        f' {name}="{value:%Y%m%dT%H%M%SZ}"' for name, value in (("start", start), ("end", end)) if value
    )
    return (
        f'<c:calendar-query xmlns:d="DAV:" xmlns:c="{CALDAV}"><d:prop><d:getetag/></d:prop><c:filter>'
        f'<c:comp-filter name="VCALENDAR"><c:comp-filter name="VEVENT"><c:time-range{bounds}/>'
        "</c:comp-filter></c:comp-filter></c:filter></c:calendar-query>"
    )


def sync_collection(token=""):
    return (
        f'<d:sync-collection xmlns:d="DAV:"><d:sync-token>{token}</d:sync-token>'
        "<d:sync-level>1</d:sync-level><d:prop><d:getetag/></d:prop></d:sync-collection>"
    )


def responses(response):
    """``{href: {property tag: element}}`` of the 200 propstats, and ``{href: status}`` of the others."""
    root = etree.fromstring(response.content)
    found, statuses = {}, {}
    for item in root.iterfind("d:response", NS):
        href = item.findtext("d:href", namespaces=NS)
        statuses[href] = item.findtext("d:status", namespaces=NS)
        for propstat in item.iterfind("d:propstat", NS):
            if propstat.findtext("d:status", namespaces=NS) == "HTTP/1.1 200 OK":
                found[href] = {child.tag: child for child in propstat.find("d:prop", NS)}
    return found, statuses


class CalDavRequests:
    """Requests to our CalDAV, raw (``dav``) or by a real client (``calendars``); mixed into an HttpCase."""

    def dav(self, method, path, body=None, *, depth=None, token=None, headers=None):
        headers = dict(headers or {})
        if token is not False:
            secret = base64.b64encode(f"anyone:{token or self.token}".encode()).decode()
            headers["Authorization"] = f"Basic {secret}"
        if depth is not None:
            headers["Depth"] = str(depth)
        if body is not None:
            headers["Content-Type"] = "application/xml; charset=utf-8"
        self.env.flush_all()
        return self.url_open(
            path, data=body and body.encode(), method=method, headers=headers, allow_redirects=False
        )

    @contextmanager
    def calendars(self):
        """The calendars a real client finds from the server's address and the token."""
        # The test server answers the client's requests too, which lack the test's cookie.
        require(self, caldav=caldav)
        with self.allow_requests(all_requests=True):
            url = f"{self.base_url()}/.well-known/caldav"
            yield caldav.DAVClient(url=url, username="it", password=self.token).principal().calendars()


@tagged("post_install", "-at_install")
class TestCalDav(CalDavRequests, FeedCase, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.token = cls.enable_endpoint()
        cls.book_one_of_each()
        cls.sim_room.color = 4
        cls.sim_key = cls.env["calendar.feed.key"].generate(
            {"name": "Sim", "room_ids": [(6, 0, cls.sim_room.ids)]}
        )

    @contextmanager
    def sim_calendar(self):
        with self.calendars() as calendars:
            [calendar] = [calendar for calendar in calendars if str(calendar.url).endswith(SIM)]
            yield calendar

    def object_href(self, calendar, booking):
        return f"{calendar}{booking.id}.ics"

    # -- discovery and authentication ----------------------------------------------------------

    def test_discovery_redirects_to_the_root(self):
        response = self.dav("PROPFIND", "/.well-known/caldav", token=False)
        self.assertEqual(response.status_code, 301)
        self.assertTrue(response.headers["Location"].endswith(ROOT))

    def test_missing_or_wrong_credentials_get_a_basic_challenge(self):
        revoked = self.env["calendar.feed.key"].generate({"name": "Revoked"})
        self.env["calendar.feed.key"].browse(revoked["id"]).action_archive()
        for token in (False, "wrong", self.token[:-1], revoked["token"]):
            response = self.dav("PROPFIND", ROOT, depth=0, token=token)
            self.assertEqual(response.status_code, 401, token)
            self.assertTrue(response.headers["WWW-Authenticate"].startswith('Basic realm="'), token)

    def test_an_unauthenticated_options_still_says_what_the_server_is(self):
        """Clients (and caldav-server-tester) probe with OPTIONS before they send a password."""
        for method in ("OPTIONS", "PROPFIND"):
            response = self.dav(method, SIM, token=False)
            self.assertEqual(response.status_code, 401, method)
            self.assertEqual(response.headers["DAV"], "1, 3, calendar-access", method)
            self.assertEqual(response.headers["Allow"], "OPTIONS, GET, HEAD, PROPFIND, REPORT", method)
        self.assertEqual(self.env["calendar.feed.usage"].search_count([("route", "=", "caldav")]), 0)

    def test_a_disabled_endpoint_is_not_found(self):
        self.set_feed_param("enabled", False)
        for path in ("/.well-known/caldav", ROOT, SIM):
            self.assertEqual(self.dav("PROPFIND", path, depth=0).status_code, 404, path)

    def test_options_advertise_calendar_access(self):
        response = self.dav("OPTIONS", SIM)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.headers["DAV"], "1, 3, calendar-access")
        self.assertEqual(response.headers["Allow"], "OPTIONS, GET, HEAD, PROPFIND, REPORT")

    # -- a real client ---------------------------------------------------------------------------

    def test_a_client_finds_a_calendar_per_room_and_one_of_all(self):
        with self.calendars() as calendars:
            names = {calendar.get_display_name(): str(calendar.url) for calendar in calendars}
        self.assertEqual(set(names), {"Room bookings", "Sim Room 1", "Debriefing"})
        self.assertTrue(names["Sim Room 1"].endswith(SIM))

    def test_a_client_reads_the_feeds_events_one_object_each(self):
        with self.sim_calendar() as calendar:
            paths = [urlsplit(str(item.url)).path for item in calendar.events()]
        feed = check_ics(
            self.url_open(f"/w/api/v2/public_calendar.ics?token={self.token}&room=TSIM1").content
        )
        published = {str(event["UID"]): event for event in feed.walk("VEVENT")}
        self.assertEqual(len(paths), 2)
        for path in paths:
            parsed = check_ics(self.dav("GET", path).content)  # the bytes, as the client got them
            self.assertNotIn("METHOD", parsed, "RFC 4791, 4.1")
            [event] = parsed.walk("VEVENT")
            self.assertEqual(event.to_ical(), published[str(event["UID"])].to_ical())

    def test_a_client_searches_by_time_and_syncs_by_token(self):
        day_one = datetime.combine(self.local_date(1), datetime.min.time(), ZoneInfo(self.feed_zone))
        with self.sim_calendar() as calendar:
            found = calendar.search(start=day_one, end=day_one + timedelta(days=1), event=True)
            self.assertEqual([str(item.icalendar_component["SUMMARY"]) for item in found], ["Sim only"])
            first = calendar.objects_by_sync_token(load_objects=True)
            self.assertEqual(len(list(first)), 2)
            self.sim_only.name = "Sim only, moved"
            self.env.flush_all()
            second = calendar.objects_by_sync_token(sync_token=first.sync_token, load_objects=True)
            [changed] = list(second)
            self.assertEqual(str(changed.icalendar_component["SUMMARY"]), "Sim only, moved")

    # -- PROPFIND -------------------------------------------------------------------------------

    def test_a_calendar_describes_itself(self):
        names = [
            "d:displayname",
            "d:resourcetype",
            "c:supported-calendar-component-set",
            "cs:getctag",
            "d:sync-token",
            "ical:calendar-color",
            "c:calendar-timezone",
            "d:current-user-privilege-set",
            "d:supported-report-set",
            "d:current-user-principal",
            "x:nothing xmlns:x='urn:x'",
        ]
        response = self.dav("PROPFIND", SIM, propfind(*names), depth=0)
        self.assertEqual(response.status_code, 207)
        found, _statuses = responses(response)
        props = found[SIM]
        self.assertEqual(props[f"{{{DAV}}}displayname"].text, "Sim Room 1")
        self.assertEqual(
            {child.tag for child in props[f"{{{DAV}}}resourcetype"]},
            {f"{{{DAV}}}collection", f"{{{CALDAV}}}calendar"},
        )
        [component] = props[f"{{{CALDAV}}}supported-calendar-component-set"]
        self.assertEqual(component.get("name"), "VEVENT")
        self.assertEqual(props[f"{{{NS['ical']}}}calendar-color"].text, "#5794dd")
        reported = etree.fromstring(self.dav("REPORT", SIM, sync_collection()).content)
        self.assertEqual(props[f"{{{DAV}}}sync-token"].text, reported.findtext("d:sync-token", namespaces=NS))
        self.assertTrue(props[f"{{{NS['cs']}}}getctag"].text)
        zone = Calendar.from_ical(props[f"{{{CALDAV}}}calendar-timezone"].text)
        self.assertEqual([str(tz["TZID"]) for tz in zone.walk("VTIMEZONE")], [self.feed_zone])
        privileges = props[f"{{{DAV}}}current-user-privilege-set"].iterfind("d:privilege/*", NS)
        self.assertEqual(
            {element.tag for element in privileges},
            {f"{{{DAV}}}read", f"{{{DAV}}}read-current-user-privilege-set"},
        )
        reports = {
            element.tag for element in props[f"{{{DAV}}}supported-report-set"].iterfind(".//d:report/*", NS)
        }
        self.assertIn(f"{{{DAV}}}sync-collection", reports)
        self.assertIn(f"{{{CALDAV}}}free-busy-query", reports)
        self.assertNotIn("{urn:x}nothing", props)
        [missing] = etree.fromstring(response.content).iterfind(
            "d:response/d:propstat[d:status='HTTP/1.1 404 Not Found']", NS
        )
        self.assertEqual([child.tag for child in missing.find("d:prop", NS)], ["{urn:x}nothing"])

    def test_access_control_is_not_advertised_without_what_rfc_3744_requires(self):
        """RFC 4791 (2) asks for WebDAV ACL; the DAV header claims it only once its properties are served
        (RFC 3744, 5 and 9; the README says why they are not)."""
        required = ["d:acl", "d:supported-privilege-set", "d:acl-restrictions", "d:inherited-acl-set",
                    "d:principal-collection-set"]  # fmt: skip
        response = self.dav("PROPFIND", SIM, propfind(*required), depth=0)
        found, _statuses = responses(response)
        served = {f"{{{DAV}}}{name[2:]}" for name in required} & set(found.get(SIM, {}))
        self.assertEqual("access-control" in response.headers["DAV"], len(served) == len(required), served)

    def test_the_principal_leads_to_the_calendar_home(self):
        found, _statuses = responses(
            self.dav("PROPFIND", ROOT, propfind("d:current-user-principal"), depth=0)
        )
        principal = found[ROOT][f"{{{DAV}}}current-user-principal"].findtext("d:href", namespaces=NS)
        found, _statuses = responses(
            self.dav("PROPFIND", principal, propfind("c:calendar-home-set"), depth=0)
        )
        self.assertEqual(
            found[principal][f"{{{CALDAV}}}calendar-home-set"].findtext("d:href", namespaces=NS), HOME
        )

    def test_depth_one_lists_objects_whose_etags_are_those_of_get(self):
        found, _statuses = responses(
            self.dav(
                "PROPFIND", SIM, propfind("d:getetag", "d:getcontentlength", "d:getlastmodified"), depth=1
            )
        )
        objects = {href: props for href, props in found.items() if href != SIM}
        self.assertEqual(
            set(objects), {self.object_href(SIM, self.sim_only), self.object_href(SIM, self.both)}
        )
        for href, props in objects.items():
            response = self.dav("GET", href)
            self.assertEqual(response.status_code, 200)
            self.assertEqual(response.headers["ETag"], props[f"{{{DAV}}}getetag"].text)
            self.assertEqual(len(response.content), int(props[f"{{{DAV}}}getcontentlength"].text))
            entry = self.env["calendar.feed.entry"].search(
                [("event_id", "=", int(href.rsplit("/", 1)[1][:-4]))]
            )
            self.assertEqual(  # RFC 1123, the booking's last published change
                parsedate_to_datetime(props[f"{{{DAV}}}getlastmodified"].text),
                entry.modified_at.replace(tzinfo=timezone.utc),
            )
            not_modified = self.dav("GET", href, headers={"If-None-Match": response.headers["ETag"]})
            self.assertEqual(not_modified.status_code, 304)
            self.assertEqual(self.dav("HEAD", href).headers["ETag"], response.headers["ETag"])

    def test_depth_zero_and_unknown_resources(self):
        found, _statuses = responses(self.dav("PROPFIND", SIM, propfind("d:displayname"), depth=0))
        self.assertEqual(list(found), [SIM])
        for path in (f"{HOME}room-NOPE/", f"{SIM}999999.ics", self.object_href(SIM, self.debrief_only)):
            self.assertEqual(self.dav("PROPFIND", path, depth=0).status_code, 404, path)
            self.assertEqual(self.dav("GET", path).status_code, 404, path)

    # -- REPORT ------------------------------------------------------------------------------------

    def test_calendar_query_selects_by_time_range(self):
        day_one = datetime.combine(self.local_date(1), datetime.min.time(), timezone.utc) - timedelta(hours=3)
        query = calendar_query(day_one, day_one + timedelta(days=1))
        found, _statuses = responses(self.dav("REPORT", ALL, query, depth=1))
        self.assertEqual(
            set(found), {self.object_href(ALL, self.sim_only), self.object_href(ALL, self.debrief_only)}
        )
        found, _statuses = responses(self.dav("REPORT", SIM, calendar_query(), depth=1))
        self.assertEqual(set(found), {self.object_href(SIM, self.sim_only), self.object_href(SIM, self.both)})

    def test_multiget_returns_known_objects_and_404_for_others(self):
        known, foreign = self.object_href(SIM, self.sim_only), self.object_href(SIM, self.debrief_only)
        body = (
            f'<c:calendar-multiget xmlns:d="DAV:" xmlns:c="{CALDAV}"><d:prop><d:getetag/><c:calendar-data/>'
            f"</d:prop><d:href>{known}</d:href><d:href>{foreign}</d:href></c:calendar-multiget>"
        )
        found, statuses = responses(self.dav("REPORT", SIM, body, depth=1))
        self.assertIn("Sim only", found[known][f"{{{CALDAV}}}calendar-data"].text)
        self.assertEqual(statuses[foreign], "HTTP/1.1 404 Not Found")

    def test_sync_collection_returns_only_what_changed(self):
        found, _statuses = responses(self.dav("REPORT", SIM, sync_collection()))
        self.assertEqual(len(found), 2)
        token = etree.fromstring(self.dav("REPORT", SIM, sync_collection()).content).findtext(
            "d:sync-token", namespaces=NS
        )
        self.debrief_only.name = "Elsewhere"  # another room: nothing for this calendar
        self.sim_only.name = "Renamed"
        response = self.dav("REPORT", SIM, sync_collection(token))
        found, statuses = responses(response)
        self.assertEqual(list(statuses), [self.object_href(SIM, self.sim_only)])
        token = etree.fromstring(response.content).findtext("d:sync-token", namespaces=NS)
        self.sim_only.unlink()
        self.both.booking_status = "cancelled"
        found, statuses = responses(self.dav("REPORT", SIM, sync_collection(token)))
        self.assertEqual(found, {})
        self.assertEqual(
            set(statuses), {self.object_href(SIM, self.sim_only), self.object_href(SIM, self.both)}
        )
        self.assertEqual(set(statuses.values()), {"HTTP/1.1 404 Not Found"})

    def test_a_cancelled_booking_is_gone_not_published_cancelled(self):
        href = self.object_href(SIM, self.both)
        self.assertEqual(self.dav("GET", href).status_code, 200)
        self.both.booking_status = "cancelled"
        self.assertEqual(self.dav("GET", href).status_code, 404)
        body = (
            f'<c:calendar-query xmlns:d="DAV:" xmlns:c="{CALDAV}"><d:prop><c:calendar-data/></d:prop>'
            '<c:filter><c:comp-filter name="VCALENDAR"/></c:filter></c:calendar-query>'
        )
        for calendar in (SIM, ALL):
            response = self.dav("REPORT", calendar, body, depth=1)
            self.assertNotIn(href.rsplit("/", 1)[1], response.text)
            self.assertNotIn("STATUS:CANCELLED", response.text)

    def test_a_change_moves_the_tokens_of_the_calendars_it_touches_and_no_others(self):
        def tokens():
            found, _statuses = responses(
                self.dav("PROPFIND", HOME, propfind("d:sync-token", "cs:getctag"), depth=1)
            )
            return {
                href: (props[f"{{{DAV}}}sync-token"].text, props[f"{{{NS['cs']}}}getctag"].text)
                for href, props in found.items()
                if href != HOME
            }

        before = tokens()
        self.sim_only.name = "Renamed in the Sim room"
        after = tokens()
        self.assertEqual(after[DEBRIEF], before[DEBRIEF], "a calendar the change does not touch")
        self.assertNotEqual(after[SIM][0], before[SIM][0])
        self.assertNotEqual(after[SIM][1], before[SIM][1])
        self.assertNotEqual(after[ALL][0], before[ALL][0])
        response = self.dav("REPORT", DEBRIEF, sync_collection(before[DEBRIEF][0]))
        self.assertEqual(responses(response), ({}, {}), "nothing to send, and the same token back")
        token = etree.fromstring(response.content).findtext("d:sync-token", namespaces=NS)
        self.assertEqual(token, before[DEBRIEF][0])
        found, _statuses = responses(self.dav("REPORT", SIM, sync_collection(before[SIM][0])))
        self.assertEqual(list(found), [self.object_href(SIM, self.sim_only)])

    def test_unknown_or_expired_sync_tokens_get_valid_sync_token(self):
        all_token = etree.fromstring(self.dav("REPORT", ALL, sync_collection()).content).findtext(
            "d:sync-token", namespaces=NS
        )
        self.feed.sync_floor = self.feed.change_stamp + 1  # as when tombstones were forgotten
        expired = etree.fromstring(self.dav("REPORT", SIM, sync_collection()).content).findtext(
            "d:sync-token", namespaces=NS
        )
        self.feed.sync_floor = self.feed.change_stamp + 2
        for token in ("http://example.com/ns/sync/1234", all_token, expired):
            response = self.dav("REPORT", SIM, sync_collection(token))
            self.assertEqual(response.status_code, 403, token)
            self.assertIsNotNone(etree.fromstring(response.content).find("d:valid-sync-token", NS), token)

    # -- read only ---------------------------------------------------------------------------------

    def test_writes_are_refused_and_change_nothing(self):
        href = self.object_href(SIM, self.sim_only)
        before = self.dav("GET", href).content
        count = self.env["calendar.event"].search_count([])
        vevent = "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\r\nSUMMARY:Mine\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
        for method, path, body in [
            ("PUT", f"{SIM}1.ics", vevent),
            ("PUT", href, vevent),
            ("DELETE", href, None),
            ("MKCALENDAR", f"{HOME}new/", None),
            ("PROPPATCH", SIM, propfind("d:displayname")),
            ("MOVE", href, None),
            ("COPY", href, None),
            ("POST", SIM, vevent),
        ]:
            response = self.dav(method, path, body)
            self.assertEqual(response.status_code, 403, method)
            self.assertIsNotNone(etree.fromstring(response.content).find("d:need-privileges", NS), method)
        self.assertEqual(self.dav("GET", href).content, before)
        self.assertEqual(self.env["calendar.event"].search_count([]), count)
        self.assertEqual(self.dav("PUT", href, vevent, token=False).status_code, 401)

    # -- keys ----------------------------------------------------------------------------------

    def test_a_key_sees_its_rooms_only(self):
        token = self.sim_key["token"]
        found, _statuses = responses(
            self.dav("PROPFIND", HOME, propfind("d:displayname"), depth=1, token=token)
        )
        self.assertEqual(set(found), {HOME, ALL, SIM})
        self.assertEqual(self.dav("PROPFIND", DEBRIEF, depth=0, token=token).status_code, 404)
        found, _statuses = responses(self.dav("PROPFIND", ALL, propfind("d:getetag"), depth=1, token=token))
        both = self.object_href(ALL, self.both)
        self.assertEqual(set(found) - {ALL}, {self.object_href(ALL, self.sim_only), both})
        response = self.dav("GET", both, token=token)
        self.assertNotIn("Debriefing", response.text, "a key never names rooms it was not given")
        self.assertEqual(response.headers["ETag"], found[both][f"{{{DAV}}}getetag"].text)
        main_token = etree.fromstring(self.dav("REPORT", ALL, sync_collection()).content).findtext(
            "d:sync-token", namespaces=NS
        )
        self.assertEqual(self.dav("REPORT", ALL, sync_collection(main_token), token=token).status_code, 403)

    def test_uses_are_logged_per_key(self):
        self.dav("PROPFIND", SIM, depth=0, token=self.sim_key["token"])
        usage = self.env["calendar.feed.usage"].search([("key_id", "=", self.sim_key["id"])])
        self.assertEqual(usage.mapped("route"), ["caldav"])
        self.assertEqual(usage.status, 207)

    # -- what the cold review found ------------------------------------------------------------

    def test_the_challenge_is_ascii_whatever_the_calendars_name(self):
        self.set_feed_param("name", "Foglalások – Tárgyaló ő 日本")
        response = self.dav("PROPFIND", ROOT, depth=0, token=False)
        self.assertEqual(response.status_code, 401)
        self.assertEqual(response.headers["WWW-Authenticate"], 'Basic realm="calendar", charset="UTF-8"')

    def test_a_non_ascii_authorization_header_is_a_401(self):
        for header in ("Basic Ã©", "Basic é==", "Bearer Ã©"):
            response = self.dav("PROPFIND", ROOT, depth=0, token=False, headers={"Authorization": header})
            self.assertEqual(response.status_code, 401, header)

    def test_names_with_control_characters_are_published_cleaned(self):
        self.sim_room.write({"name": "Sim\x0bRoom 1\uffff", "location": "Floor\x0c 2"})  # pasted from Word
        found, _statuses = responses(
            self.dav("PROPFIND", HOME, propfind("d:displayname", "c:calendar-description"), depth=1)
        )
        self.assertEqual(found[SIM][f"{{{DAV}}}displayname"].text, "SimRoom 1")
        self.assertEqual(found[SIM][f"{{{CALDAV}}}calendar-description"].text, "Floor 2")

    def test_a_room_coded_all_is_a_room_like_any_other(self):
        room = self.env["calendar.room"].create({"name": "Atrium", "code": "all"})
        self.book(room, self.local_time(1, 14), self.local_time(1, 15), name="In the atrium")
        found, _statuses = responses(self.dav("PROPFIND", HOME, propfind("d:displayname"), depth=1))
        self.assertEqual(found[f"{HOME}room-all/"][f"{{{DAV}}}displayname"].text, "Atrium")
        self.assertEqual(found[ALL][f"{{{DAV}}}displayname"].text, "Room bookings")
        found, _statuses = responses(self.dav("REPORT", f"{HOME}room-all/", calendar_query(), depth=1))
        self.assertEqual(len(found), 1)

    def test_a_token_newer_than_the_feed_is_refused(self):
        """As after a restore from a backup: stamps are issued again, a newer token would miss them."""
        token = etree.fromstring(self.dav("REPORT", SIM, sync_collection()).content).findtext(
            "d:sync-token", namespaces=NS
        )
        self.feed.change_stamp -= 1
        response = self.dav("REPORT", SIM, sync_collection(token))
        self.assertEqual(response.status_code, 403)
        self.assertIsNotNone(etree.fromstring(response.content).find("d:valid-sync-token", NS))

    def test_calendars_answer_without_a_stored_time_zone(self):
        self.env["ir.config_parameter"].search([("key", "=", "external_calendar_api.tz")]).unlink()
        self.assertEqual(self.dav("PROPFIND", SIM, propfind("d:getetag"), depth=1).status_code, 207)
        self.assertEqual(self.dav("REPORT", SIM, sync_collection()).status_code, 207)

    def test_malformed_multiget_hrefs_come_back_as_404(self):
        hrefs = ["http://[/w/caldav/calendars/all/1.ics", "%zz", f"{ALL}{self.sim_only.id}.ics", ROOT]
        body = (
            f'<c:calendar-multiget xmlns:d="DAV:" xmlns:c="{CALDAV}"><d:prop><d:getetag/></d:prop>'
            + "".join(f"<d:href>{href}</d:href>" for href in hrefs)
            + "</c:calendar-multiget>"
        )
        _found, statuses = responses(self.dav("REPORT", SIM, body))
        self.assertEqual(
            {href: statuses[href] for href in hrefs}, dict.fromkeys(hrefs, "HTTP/1.1 404 Not Found")
        )

    def test_propname_and_a_room_without_bookings(self):
        self.env["calendar.room"].create({"name": "Empty", "code": "TEMPTY"})
        body = '<d:propfind xmlns:d="DAV:"><d:propname/></d:propfind>'
        found, _statuses = responses(self.dav("PROPFIND", HOME, body, depth=1))
        self.assertIn(f"{{{NS['cs']}}}getctag", found[f"{HOME}room-TEMPTY/"])
        self.assertIn(f"{{{CALDAV}}}calendar-timezone", found[f"{HOME}room-TEMPTY/"])
        found, _statuses = responses(self.dav("PROPFIND", HOME, propfind("cs:getctag"), depth=1))
        self.assertTrue(found[f"{HOME}room-TEMPTY/"][f"{{{NS['cs']}}}getctag"].text)

    def test_an_update_keeps_the_stamps_of_tombstones(self):
        """Pruning them later would raise the sync floor to the update's stamp, expiring every token."""
        self.debrief_only.unlink()
        self.dav("PROPFIND", SIM, depth=0)  # the build that makes its tombstone
        Entry = self.env["calendar.feed.entry"]
        tombstone = Entry.search([("event_id", "=", self.debrief_only.id)])
        live = Entry.search([("event_id", "=", self.sim_only.id)])
        stamps = (tombstone.change_stamp, live.change_stamp)
        self.env.cr.execute("UPDATE calendar_feed_entry SET ics_block = 'rendered by an older version'")
        Entry.invalidate_model()
        Entry._render_all_again()
        self.assertEqual(tombstone.change_stamp, stamps[0])
        self.assertGreater(live.change_stamp, stamps[1])

    def test_an_update_that_renders_objects_differently_is_synced(self):
        token = etree.fromstring(self.dav("REPORT", SIM, sync_collection()).content).findtext(
            "d:sync-token", namespaces=NS
        )
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE calendar_feed_entry SET ics_block = 'rendered by an older version' WHERE event_id = %s",
            [self.sim_only.id],
        )
        self.env["calendar.feed.entry"].invalidate_model()
        self.env["calendar.feed.entry"]._render_all_again()  # what an update of the addon does
        found, _statuses = responses(self.dav("REPORT", SIM, sync_collection(token)))
        self.assertEqual(list(found), [self.object_href(SIM, self.sim_only)])


SEED = 20261126
FUZZ_REQUESTS = 300
FRAGMENTS = [
    "<d:prop>",
    "</d:prop>",
    "<d:getetag/>",
    "<c:calendar-data/>",
    '<c:comp-filter name="VCALENDAR">',
    '<c:comp-filter name="VEVENT">',
    "</c:comp-filter>",
    '<c:time-range start="20260101T000000Z"/>',
    '<c:time-range end="99999999T999999Z"/>',
    '<c:time-range start="20260101T000000Z" end="20280101T000000Z"/>',
    '<c:time-range start="29991231T000000Z" end="20260101T000000Z"/>',
    "<c:filter>",
    "</c:filter>",
    "<d:href>/w/caldav/calendars/all/1.ics</d:href>",
    "<d:href>/w/caldav/calendars/all/99999999999.ics</d:href>",
    "<d:href>%zz</d:href>",
    "<d:sync-token>",
    "</d:sync-token>",
    "urn:x-external-calendar:sync:eyJ2IjoxLCJzIjo5OTk5OTk5OTk5OSwiZiI6IngifQ",
    "<d:allprop/>",
    "<d:propname/>",
    "<c:is-not-defined/>",
    "&amp;",
    "&bogus;",
    "<![CDATA[x]]>",
    "é",
    "<d:limit><d:nresults>0",
    "</d:nresults></d:limit>",
    '<c:prop-filter name="UID">',
    "<!DOCTYPE x [<!ENTITY a 'b'>]>",
    "\x00",
]
ROOT_ELEMENTS = [
    "d:propfind",
    "c:calendar-query",
    "c:calendar-multiget",
    "d:sync-collection",
    "c:free-busy-query",
    "x",
    "d:propertyupdate",
]
PATHS = [
    "/.well-known/caldav",
    ROOT,
    HOME,
    SIM,
    ALL,
    DEBRIEF,
    f"{SIM}1.ics",
    f"{HOME}room-%00/",
    f"{HOME}all/2147483648.ics",
    f"{HOME}room-{'A' * 500}/",
    "/w/caldav/principal/",
    "/w/caldav/../web",
    f"{SIM}{'9' * 12}.ics",
]


@tagged("post_install", "-at_install")
class TestCalDavFuzz(FeedCase, HttpCase):
    """Seeded hostile requests: 2xx, 3xx or a 4xx with a reason; never a 500, a traceback, a logged error."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.token = cls.enable_endpoint()
        cls.book(cls.sim_room, cls.local_time(1, 9), cls.local_time(1, 10), name="Sim")
        cls.key_token = cls.env["calendar.feed.key"].generate(
            {"name": "Sim", "room_ids": [(6, 0, cls.sim_room.ids)]}
        )["token"]

    def hostile_request(self, rng):
        method = rng.choice(
            ["PROPFIND", "PROPFIND", "REPORT", "REPORT", "GET", "HEAD", "OPTIONS", "PUT", "LOCK"]
        )
        root = rng.choice(ROOT_ELEMENTS)
        inner = "".join(rng.choice(FRAGMENTS) for _ in range(rng.randint(0, 10)))
        body = rng.choice([f'<{root} xmlns:d="DAV:" xmlns:c="{CALDAV}">{inner}</{root}>', inner, ""])
        secret = rng.choice([self.token, self.token, self.key_token, "x", ""])
        headers = {
            "Authorization": rng.choice(
                [
                    "Basic Ã©",
                    "Bearer Ã©",
                    "Basic " + base64.b64encode(f"u:{secret}".encode()).decode(),
                    f"Bearer {secret}",
                    "Basic !!",
                    "Basic",
                ]
            )
        }
        if rng.random() < 0.7:
            headers["Depth"] = rng.choice(["0", "1", "infinity", "2", "-1", "", "1, 1", "é"])
        if rng.random() < 0.2:
            headers["If-None-Match"] = rng.choice(['"x"', "*", '"' * 300])
        return method, rng.choice(PATHS), body, headers

    def test_hostile_requests_never_fail_the_server(self):
        rng = random.Random(SEED)
        errors = ErrorRecords()
        logging.getLogger("odoo").addHandler(errors)
        try:
            for _ in range(FUZZ_REQUESTS):
                method, path, body, headers = self.hostile_request(rng)
                response = self.url_open(
                    path,
                    data=body.encode("utf-8", "surrogatepass"),
                    method=method,
                    headers=headers,
                    allow_redirects=False,
                )
                where = f"{method} {path} {body!r} {headers!r}"
                self.assertIn(
                    response.status_code, (200, 207, 301, 304, 400, 401, 403, 404, 405, 413, 507), where
                )
                self.assertNotIn("Traceback", response.text, where)
                self.assertNotIn("Set-Cookie", response.headers, where)
                if response.status_code in (400, 403) and path.startswith(ROOT):
                    self.assertTrue(
                        etree.fromstring(response.content).findtext("{urn:x-external-calendar}message"), where
                    )
        finally:
            logging.getLogger("odoo").removeHandler(errors)
        self.assertEqual([record.getMessage()[:300] for record in errors.records], [])


@tagged("post_install", "-at_install")
class TestCalDavIncrementalSync(RandomChanges, FeedCase, TransactionCase):
    """Following sync-collection deltas always gives what listing the calendar gives (seeded)."""

    def report(self, calendar, body):
        headers = {"Authorization": f"Bearer {self.token}", "Depth": "1"}
        answer = self.env["calendar.feed.dav"]._answer("REPORT", calendar, headers, body.encode())
        self.assertEqual(answer.status, 207, answer.read())
        root = etree.fromstring(answer.read())
        etags = {item.findtext("d:href", namespaces=NS): item.findtext(".//d:getetag", namespaces=NS)
                 for item in root.iterfind("d:response", NS)}  # fmt: skip
        return etags, root.findtext("d:sync-token", namespaces=NS)

    def test_deltas_reproduce_the_calendar(self):
        self.token = self.enable_endpoint()
        for seed in range(60):
            calendar = [SIM, ALL, DEBRIEF][seed % 3]
            with closing(self.env.cr.savepoint()):
                rng = random.Random(seed)
                bookings = self.env["calendar.event"]
                for _ in range(3):
                    bookings = self.random_change(rng, bookings)
                client, token = self.report(calendar, sync_collection())
                for step in range(STEPS):
                    bookings = self.random_change(rng, bookings)
                    delta, token = self.report(calendar, sync_collection(token))
                    client |= delta
                    client = {href: etag for href, etag in client.items() if etag is not None}
                    listed, _token = self.report(calendar, calendar_query())
                    self.assertEqual(client, listed, f"seed {seed}, step {step}")
