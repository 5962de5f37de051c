from dataclasses import replace
from datetime import datetime, timezone

from odoo import api, models
from odoo.fields import Domain

from ..booking_feed import dav_resources
from ..booking_feed.api import (
    ICS_CONTENT_TYPE,
    TEXT_CONTENT_TYPE,
    Answer,
    FeedError,
    NotBuiltYet,
    data_answer,
    error_answer,
)
from ..booking_feed.dav_paths import (
    ALL_ROOMS,
    DAV_ROOT,
    HOME_PATH,
    object_path,
    parse_path,
)
from ..booking_feed.dav_request import (
    CALENDAR_DATA,
    DAV,
    WRITE_PRIVILEGES,
    DavError,
    FreeBusyQuery,
    Multiget,
    SyncCollection,
    clark,
    credentials,
    invalid_sync_token,
    parse_depth,
    parse_propfind,
    parse_report,
    read_sync_token,
    sync_token_uri,
)
from ..booking_feed.dav_response import (
    CALENDAR_TIMEZONE,
    CHALLENGE,
    DAV_HEADERS,
    GETCTAG,
    NEED_PRIVILEGES,
    OBJECT_CONTENT_TYPE,
    OBJECT_HEADERS,
    XML_CONTENT_TYPE,
    error_body,
    multistatus,
    need_privileges,
)
from ..booking_feed.freebusy import RoomFreeBusy, asked_range
from ..booking_feed.ics import timezone_calendar
from ..booking_feed.query import FeedQuery
from ..booking_feed.sync import SyncTokenExpired, check_sync_token
from ..booking_feed.text import clean_text
from .calendar_event import ODOO_COLORS


class CalendarFeedDav(models.AbstractModel):
    """Answers to CalDAV requests (RFC 4791, 6578): every published room as a read-only calendar.

    The tree is described in ``booking_feed.dav_resources``: a calendar per
    room the token opens and one of all of them, each holding one object per
    live booking of the feed's window (``<booking id>.ics``). Objects are the
    ICS feed's VEVENTs read through ``calendar.feed.reader``, their ETags
    made at build time, sync tokens the entries' change stamps.
    """

    _name = "calendar.feed.dav"
    _description = "External Calendar CalDAV Answers"

    @api.model
    def _discovery_location(self):
        """Where ``/.well-known/caldav`` sends clients (RFC 6764), or None while the endpoint is off."""
        return DAV_ROOT if self.env["calendar.feed"].sudo()._get_settings().enabled else None

    @api.model
    def _answer(self, method, path, headers, body):
        """The answer to a CalDAV request, or None for the 404 of a path that does not exist.

        The endpoint off, nothing exists. On, the secret of the main link or
        of a named key is the password (or a bearer token); without one the
        answer is a 401 that makes clients ask for it. ``headers`` are the
        request's (Authorization, Depth).
        """
        settings, audience, feed = (
            self.env["calendar.feed"].sudo()._open_for(credentials(headers.get("Authorization")), build=False)
        )
        if not settings.enabled:
            return None
        if audience is None:  # what the server is, even to a client that probes before it logs in
            challenge = (*CHALLENGE, *DAV_HEADERS)
            return Answer(TEXT_CONTENT_TYPE, b"A calendar token is needed.\n", status=401, headers=challenge)
        # sudo() past this point: the token was checked.
        try:
            answer = self._answer_method(feed, settings, audience, method, path, headers=headers, body=body)
        except DavError as error:
            details = need_privileges(method, path) if error.condition == NEED_PRIVILEGES else ()
            answer = Answer(XML_CONTENT_TYPE, error_body(error, details), status=error.status)
        except FeedError as error:  # not built yet
            answer = error_answer(error, as_json=False)
        return replace(answer, headers=(*answer.headers, *DAV_HEADERS), key_id=audience.key_id)

    @api.model
    def _answer_method(self, feed, settings, audience, method, path, *, headers, body):
        """The answer of an authenticated request; errors are raised as DavError (or NotBuiltYet)."""
        if method == "OPTIONS":
            return Answer(TEXT_CONTENT_TYPE, b"")
        if method in WRITE_PRIVILEGES:
            raise DavError(403, "this calendar is read-only", NEED_PRIVILEGES)
        target = parse_path(path)
        if target is None or not self._exists(audience, target):
            raise DavError(404, "nothing here: the calendars are under " + HOME_PATH)
        feed = feed._get_for_request()  # only now: OPTIONS, writes and wrong paths build nothing
        if not feed.built_at:
            raise NotBuiltYet()
        request = _Request(feed, settings, audience, target)
        if method == "PROPFIND":
            props = parse_propfind(body)
            resources = self._propfind(request, parse_depth(headers.get("Depth")), props)
            return _multistatus(resources, props)
        if method == "REPORT":
            return self._report(request, parse_report(body))
        return self._get(request)

    # -- the tree ----------------------------------------------------------------

    @api.model
    def _exists(self, audience, target):
        """Whether the token opens ``target``'s calendar (objects are looked up when read)."""
        if target.collection in (None, ALL_ROOMS):
            return True
        return bool(self.env["calendar.feed.reader"]._rooms(audience, [target.collection]))

    @api.model
    def _propfind(self, request, depth, props):
        """The resources a PROPFIND of ``depth`` on the target describes, the target first."""
        target, name = request.target, clean_text(request.settings.name)
        if target.kind == "root":
            children = [dav_resources.principal(name), dav_resources.home(name)]
            return [dav_resources.root(name), *(children if depth else [])]
        if target.kind == "principal":
            return [dav_resources.principal(name)]
        if target.kind == "home":
            rooms = self.env["calendar.feed.reader"]._rooms(request.audience)
            return [
                dav_resources.home(name),
                *(self._calendars(request, [ALL_ROOMS, *rooms.mapped("code")], props) if depth else []),
            ]
        if target.kind == "collection":
            calendar = self._calendars(request, [target.collection], props)
            if not depth:  # clients ask this often, to compare the ctag or sync token
                return calendar
            return [*calendar, *self._objects(request, self._members(request), props)]
        objects = self._objects(
            request, self._members(request, Domain("event_id", "=", target.event_id)), props
        )
        if not objects:
            raise DavError(404, "no such booking in this calendar")
        return objects

    @api.model
    def _calendars(self, request, codes, props):
        """The calendar of each code (a room's, or every room's), in that order."""
        settings, audience = request.settings, request.audience
        rooms = {room.code: room for room in self.env["calendar.feed.reader"]._rooms(audience, codes)}
        stamps = self._calendar_stamps(request, codes)
        zone = timezone_calendar(settings.timezone).decode() if props.lists(CALENDAR_TIMEZONE) else None
        resources = []
        for code in codes:
            calendar = (
                self._describe(rooms[code])
                if code != ALL_ROOMS
                else dav_resources.Calendar(
                    ALL_ROOMS, clean_text(settings.name), clean_text(settings.description)
                )
            )
            # What a sync-collection REPORT would return; both move only when the calendar changes.
            signature = self._signature(audience, code)
            token = sync_token_uri(stamps[code], signature)
            ctag = f"{stamps[code]}-{signature}" if props.lists(GETCTAG) else None
            resources.append(dav_resources.calendar(calendar, sync_token=token, ctag=ctag, timezone=zone))
        return resources

    @staticmethod
    def _describe(room):
        """A room's calendar, named and placed as the feeds publish it."""
        feed_room = room._to_feed_room()
        color = ODOO_COLORS[room.color] if 0 < room.color < len(ODOO_COLORS) else None
        return dav_resources.Calendar(room.code, feed_room.name, feed_room.location, color)

    @api.model
    def _calendar_stamps(self, request, codes):
        """``{code: stamp}`` of each calendar's last change: its ctag (for clients that poll it, as
        Thunderbird does) and sync token are made of it, so a change moves those of the calendars
        it touches and no others. It never goes back, even when old tombstones are forgotten (the
        sync floor)."""
        rooms = [code for code in codes if code != ALL_ROOMS]
        stamps = self.env["calendar.feed.reader"]._last_change_stamps(request.feed, request.audience, rooms)
        stamps[ALL_ROOMS] = stamps.pop(None)
        return {code: max(stamps[code], request.feed.sync_floor) for code in codes}

    @staticmethod
    def _signature(audience, code):
        """What a sync token is bound to: the calendar, and the rooms of the audience it was issued to."""
        return audience.signature([("caldav", [code])])

    # -- the objects of a calendar ---------------------------------------------------

    @api.model
    def _members(self, request, narrower=Domain.TRUE, start=None, end=None):
        """The domain of the live entries of the target's calendar in the feed's window, narrowed to
        ``[start, end)`` and by ``narrower``."""
        query = _query(request.target.collection, start, end)
        first, last = query.narrow(request.settings.window(datetime.now(timezone.utc)))
        if first >= last:
            return Domain.FALSE
        return self.env["calendar.feed.reader"]._live_domain(request.audience, query, first, last) & narrower

    @api.model
    def _objects(self, request, domain, props):
        """One resource per entry of ``domain``; calendar-data only when asked."""
        objects = self.env["calendar.feed.reader"]._calendar_objects(
            request.settings, request.audience, domain, with_data=props.wants(CALENDAR_DATA)
        )
        return [dav_resources.calendar_object(request.target.collection, row) for row in objects]

    # -- reports and GET ---------------------------------------------------------------

    @api.model
    def _report(self, request, report):
        """A REPORT on a calendar: sync-collection, calendar-multiget, calendar-query or free-busy-query."""
        if request.target.kind != "collection":
            raise DavError(403, "reports are answered by calendars", clark(DAV, "supported-report"))
        if isinstance(report, FreeBusyQuery):
            return self._free_busy(request, report)
        if isinstance(report, SyncCollection):
            return self._sync_collection(request, report)
        if isinstance(report, Multiget):
            return self._multiget(request, report)
        domain = (
            Domain.FALSE
            if report.matches_nothing
            else self._members(request, start=report.start, end=report.end)
        )
        return _multistatus(self._objects(request, domain, report.props), report.props)

    @api.model
    def _free_busy(self, request, report, now=None):
        """free-busy-query (RFC 4791, 7.10): one VFREEBUSY of the calendar's busy periods in the range
        asked (at most 366 days, clipped to the window); the calendar of all rooms is busy when any
        of its rooms is booked."""
        settings, audience, code = request.settings, request.audience, request.target.collection
        window = settings.window(now or datetime.now(timezone.utc))
        start, end = asked_range(FeedQuery(start=report.start, end=report.end), window)
        Reader = self.env["calendar.feed.reader"]
        if code == ALL_ROOMS:
            periods = Reader._busy_periods_together(
                settings, Reader._rooms(audience).mapped("code"), start, end
            )
            calendars = [RoomFreeBusy(ALL_ROOMS, clean_text(settings.name), tuple(periods))]
        else:
            calendars = Reader._rooms_freebusy(settings, Reader._rooms(audience, [code]), start, end)
        body = Reader._freebusy_calendar(request.feed, calendars, start, end, method=None)
        return data_answer(ICS_CONTENT_TYPE, body, None)  # no Last-Modified: opening hours are not the feed's

    @api.model
    def _multiget(self, request, report):
        """The objects at the report's hrefs; hrefs of nothing in this calendar come back as 404."""
        code = request.target.collection
        asked = {href: parse_path(href) for href in report.hrefs}
        mine = {
            href: named.event_id
            for href, named in asked.items()
            if named and named.kind == "object" and named.collection == code
        }
        domain = self._members(request, Domain("event_id", "in", list(mine.values())))
        resources = self._objects(request, domain, report.props)
        found = {resource.href for resource in resources}
        missing = [href for href in report.hrefs if object_path(code, mine.get(href, 0)) not in found]
        return _multistatus(resources, report.props, gone=missing)

    @api.model
    def _sync_collection(self, request, report):
        """RFC 6578: the objects changed since the token, and the hrefs of those gone as 404."""
        feed, code = request.feed, request.target.collection
        signature = self._signature(request.audience, code)
        gone = []
        if not report.token:
            resources = self._objects(request, self._members(request), report.props)
        else:
            try:
                since = read_sync_token(report.token, signature)
                check_sync_token(since, feed.sync_floor, feed.change_stamp)
            except SyncTokenExpired:
                raise invalid_sync_token() from None
            objects, gone_ids = self.env["calendar.feed.reader"]._changed_objects(
                request.settings,
                request.audience,
                _query(code),
                since,
                with_data=report.props.wants(CALENDAR_DATA),
            )
            resources = [dav_resources.calendar_object(code, row) for row in objects]
            gone = [object_path(code, event_id) for event_id in gone_ids]
        if report.limit is not None and len(resources) + len(gone) > report.limit:
            raise DavError(
                507,
                f"more than {report.limit} changes: sync without a limit",
                clark(DAV, "number-of-matches-within-limits"),
            )
        token = sync_token_uri(self._calendar_stamps(request, [code])[code], signature)
        return _multistatus(resources, report.props, gone=gone, sync_token=token)

    @api.model
    def _get(self, request):
        """GET or HEAD: an object's calendar, a calendar's ICS feed, or a line for people."""
        target, Reader = request.target, self.env["calendar.feed.reader"]
        if (
            target.kind == "collection"
            and target.collection == ALL_ROOMS
            and request.audience.reads_as_published
        ):
            return request.feed._stored_answer("ics")
        if target.kind == "collection":
            query = _query(target.collection)
            body, _name = Reader._calendar(request.settings, request.audience, query, self._members(request))
            return data_answer(ICS_CONTENT_TYPE, body, request.feed.last_modified)
        if target.kind != "object":
            return Answer(TEXT_CONTENT_TYPE, b"A CalDAV server: add this address to a calendar app.\n")
        domain = self._members(request, Domain("event_id", "=", target.event_id))
        rows = Reader._calendar_objects(request.settings, request.audience, domain, with_data=True)
        if not rows:
            raise DavError(404, "no such booking in this calendar")
        [row] = rows
        # No Last-Modified of the booking's: an object can change without it (a key's rooms, a rendering).
        return Answer(OBJECT_CONTENT_TYPE, row.data, etag=row.etag, headers=OBJECT_HEADERS)


class _Request:
    """What every step of one authenticated CalDAV request reads: the feed, its settings, who is
    asking and the path's target."""

    __slots__ = ("audience", "feed", "settings", "target")

    def __init__(self, feed, settings, audience, target):
        self.feed, self.settings, self.audience, self.target = feed, settings, audience, target


def _multistatus(resources, props, **extra):
    return Answer(XML_CONTENT_TYPE, multistatus(resources, props, **extra), status=207)


def _query(code, start=None, end=None):
    """The feed query of calendar ``code``: its room, or every room."""
    return FeedQuery(room_codes=() if code == ALL_ROOMS else (code,), start=start, end=end)
