from dataclasses import replace
from datetime import datetime, timezone
from typing import NamedTuple

from odoo import api, models
from odoo.tools import SQL

from ..booking_feed.api import TEXT_CONTENT_TYPE, Answer, FeedError, NotBuiltYet, body_etag, error_answer
from ..booking_feed.dav_request import (
    ALL_ROOMS,
    APPLE_ICAL,
    CALDAV,
    CALENDAR_DATA,
    DAV,
    DAV_ROOT,
    HOME_PATH,
    PRINCIPAL_PATH,
    WRITE_PRIVILEGES,
    DavError,
    Multiget,
    SyncCollection,
    Target,
    clark,
    collection_path,
    credentials,
    invalid_sync_token,
    object_path,
    parse_depth,
    parse_path,
    parse_propfind,
    parse_report,
    read_sync_token,
    sync_token_uri,
)
from ..booking_feed.dav_response import (
    CALENDAR_TIMEZONE,
    CHALLENGE,
    CURRENT_USER_PRINCIPAL,
    DAV_HEADERS,
    DISPLAYNAME,
    EVENTS_ONLY,
    GETCONTENTLENGTH,
    GETCONTENTTYPE,
    GETCTAG,
    GETETAG,
    GETLASTMODIFIED,
    NEED_PRIVILEGES,
    OBJECT_CONTENT_TYPE,
    OBJECT_HEADERS,
    READ_ONLY,
    REPORTS,
    RESOURCETYPE,
    XML_CONTENT_TYPE,
    Resource,
    empty,
    error_body,
    href_value,
    need_privileges,
    present,
)
from ..booking_feed.dav_response import multistatus as multistatus_body
from ..booking_feed.ics import calendar_object, timezone_calendar
from ..booking_feed.query import FeedQuery
from ..booking_feed.sync import SyncTokenExpired, check_sync_token, scoped_signature
from ..booking_feed.text import clean_text
from .calendar_event import ODOO_COLORS
from .calendar_feed_query import JSON_STATUSES

#: Entries' columns of an object: the booking, its ETag (made at build time; now for rows written by
#: a version that did not store it), size and last change (RFC 1123).
OBJECT_COLUMNS = SQL(
    """calendar_feed_entry.id, calendar_feed_entry.event_id,
       COALESCE(calendar_feed_entry.object_etag, left(encode(sha256(convert_to(
           %s || calendar_feed_entry.ics_block || %s, 'UTF8')), 'hex'), 32)),
       octet_length(calendar_feed_entry.ics_block) + %s,
       to_char(calendar_feed_entry.modified_at, 'Dy, DD Mon YYYY HH24:MI:SS "GMT"'),
       calendar_feed_entry.room_codes""",
    *(part.decode() for part in calendar_object(b"[]").split(b"[]")),  # rows written without one
    len(calendar_object(b"")),  # the object's envelope
)


class ObjectRow(NamedTuple):
    """A calendar object as read from its entry; ``last_modified`` in RFC 1123 form."""

    entry_id: int
    event_id: int
    etag: str
    length: int
    last_modified: str
    data: bytes | None


class CalendarFeedDav(models.AbstractModel):
    """Answers to CalDAV requests (RFC 4791, 6578): every published room as a read-only calendar.

    The tree: ``/w/caldav/`` (root), ``principal/``, ``calendars/`` (the home), a calendar per
    room in the token's scope (``calendars/room-<code>/``) and one of all (``calendars/all/``),
    each holding one object per live booking of the feed's window (``<booking id>.ics``). All is
    read from the feed's entries: objects are the ICS feed's VEVENTs, ETags digests of their
    bytes made at build time (or here, for objects a key sees without some rooms), sync tokens
    the entries' change stamps. The context holds the
    token's rooms (``external_calendar_scope``, None for every room) and the rooms whose
    departures it learns of (``external_calendar_seen_scope``).
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
        Feed = self.env["calendar.feed"].sudo()
        if not Feed._get_settings().enabled:
            return None
        key = Feed._authenticate(credentials(headers.get("Authorization")))
        if key is None:
            return Answer(TEXT_CONTENT_TYPE, b"A calendar token is needed.\n", status=401, headers=CHALLENGE)
        # sudo() past this point: the token was checked (as in calendar.feed.query).
        dav = self.with_context(external_calendar_scope=key._get_scope() if key else None,
                                external_calendar_seen_scope=key._get_seen_scope())  # fmt: skip
        try:
            answer = dav._answer_method(method, path, headers, body)
        except DavError as error:
            details = need_privileges(method, path) if error.condition == NEED_PRIVILEGES else ()
            answer = Answer(XML_CONTENT_TYPE, error_body(error, details), status=error.status)
        except FeedError as error:  # not built yet
            answer = error_answer(error, as_json=False)
        return replace(answer, headers=(*answer.headers, *DAV_HEADERS), key_id=key.id or None)

    @api.model
    def _answer_method(self, method, path, headers, body):
        """The answer of an authenticated request; errors are raised as DavError (or NotBuiltYet)."""
        if method == "OPTIONS":
            return Answer(TEXT_CONTENT_TYPE, b"")
        if method in WRITE_PRIVILEGES:
            raise DavError(403, "this calendar is read-only", NEED_PRIVILEGES)
        target = parse_path(path)
        if target is None or not self._exists(target):
            raise DavError(404, "nothing here: the calendars are under " + HOME_PATH)
        feed = self.env["calendar.feed"].sudo()._get_up_to_date()
        if not feed.built_at:
            raise NotBuiltYet()
        if method == "PROPFIND":
            props = parse_propfind(body)
            resources = self._propfind(feed, target, parse_depth(headers.get("Depth")), props)
            return self._multistatus(resources, props)
        if method == "REPORT":
            return self._report(feed, target, parse_report(body))
        return self._get(feed, target)

    @staticmethod
    def _multistatus(resources, props, **extra):
        return Answer(XML_CONTENT_TYPE, multistatus_body(resources, props, **extra), status=207)

    # -- the tree ----------------------------------------------------------------

    @api.model
    def _exists(self, target):
        """Whether the token opens ``target``'s calendar (objects are looked up when read)."""
        return target.collection in (None, ALL_ROOMS) or bool(self._rooms(target.collection))

    @api.model
    def _rooms(self, code=None):
        """The published rooms the token opens (only the one of ``code`` if given), in the rooms' order."""
        scope = self.env.context.get("external_calendar_scope")
        domain = self.env["calendar.feed.query"]._published_room_domain(scope)
        return self.env["calendar.room"].sudo().search([*domain, *([("code", "=", code)] if code else [])])

    @api.model
    def _propfind(self, feed, target, depth, props):
        """The resources a PROPFIND of ``depth`` on ``target`` describes, the target first."""
        name = clean_text(feed._get_settings().name)
        plain = {CURRENT_USER_PRINCIPAL: href_value(PRINCIPAL_PATH), DISPLAYNAME: name}
        if target.kind == "root":
            root = Resource(DAV_ROOT, {**plain, RESOURCETYPE: empty(DAV, "collection")})
            children = [self._propfind(feed, Target(kind), 0, props)[0] for kind in ("principal", "home")]
            return [root, *(children if depth else [])]
        if target.kind == "principal":
            return [Resource(PRINCIPAL_PATH, {
                **plain, RESOURCETYPE: empty(DAV, "collection", "principal"),
                clark(DAV, "principal-URL"): href_value(PRINCIPAL_PATH),
                clark(CALDAV, "calendar-home-set"): href_value(HOME_PATH),
            })]  # fmt: skip
        if target.kind == "home":
            home = Resource(HOME_PATH, {**plain, RESOURCETYPE: empty(DAV, "collection")})
            return [home, *(self._collection_resources(feed, self._rooms(), props) if depth else [])]
        if target.kind == "collection":
            room = self._rooms(target.collection) if target.collection != ALL_ROOMS else None
            collection = self._collection_resources(feed, room, props, with_all=room is None)
            if not depth:  # clients ask this often, to compare the ctag or sync token
                return collection
            return [
                *collection,
                *self._object_resources(target.collection, self._members(target.collection), props),
            ]
        resources = self._object_resources(target.collection, self._members(target.collection, target), props)
        if not resources:
            raise DavError(404, "no such booking in this calendar")
        return resources

    @api.model
    def _collection_resources(self, feed, rooms, props, with_all=True):
        """The calendar of every room the token opens (if ``with_all``), then one per room of ``rooms``."""
        settings = feed._get_settings()
        codes = [*([ALL_ROOMS] if with_all else []), *(rooms.mapped("code") if rooms else [])]
        ctags = self._ctags(feed, codes) if props.lists(GETCTAG) else {}
        # The sync token of every calendar is the feed's: what a sync-collection REPORT would return.
        timezone = timezone_calendar(settings.timezone).decode() if props.lists(CALENDAR_TIMEZONE) else None
        resources = []
        for room in [*([None] if with_all else []), *(rooms or [])]:
            feed_room = room and room._to_feed_room()  # names and locations as the feeds publish them
            code = room.code if room else ALL_ROOMS
            resources.append(Resource(collection_path(code), present({
                CURRENT_USER_PRINCIPAL: href_value(PRINCIPAL_PATH),
                RESOURCETYPE: (*empty(DAV, "collection"), *empty(CALDAV, "calendar")),
                DISPLAYNAME: feed_room.name if room else clean_text(settings.name),
                clark(CALDAV, "calendar-description"): (
                    feed_room.location if room else clean_text(settings.description)) or None,
                clark(CALDAV, "supported-calendar-component-set"): EVENTS_ONLY,
                CALENDAR_TIMEZONE: timezone,
                GETCTAG: ctags.get(code),
                clark(DAV, "sync-token"): sync_token_uri(feed.change_stamp, self._signature(code)),
                clark(APPLE_ICAL, "calendar-color"): (
                    ODOO_COLORS[room.color] if room and 0 < room.color < len(ODOO_COLORS) else None),
                clark(DAV, "current-user-privilege-set"): READ_ONLY,
                clark(DAV, "supported-report-set"): REPORTS,
                clark(DAV, "owner"): href_value(PRINCIPAL_PATH),
            })))  # fmt: skip
        return resources

    @api.model
    def _ctags(self, feed, codes):
        """``{code: ctag}``: the stamp of each calendar's last change, for clients that poll it
        (Thunderbird); it never goes back, even when old tombstones are forgotten (the sync floor)."""
        seen_scope = self.env.context.get("external_calendar_seen_scope")
        rooms = [code for code in codes if code != ALL_ROOMS]
        stamps = self.env["calendar.feed.entry"].sudo()._last_change_stamps([*rooms, *(seen_scope or [])])
        stamps = {code: stamp or 0 for code, stamp in stamps.items()}  # 0: a room without bookings yet
        if ALL_ROOMS in codes:
            seen = [stamps.get(code, 0) for code in seen_scope or ()]
            stamps[ALL_ROOMS] = feed.change_stamp if seen_scope is None else max(seen, default=0)
        return {code: f"{max(stamps.get(code, 0), feed.sync_floor)}-{self._signature(code)}"
                for code in codes}  # fmt: skip

    # -- the objects of a calendar ---------------------------------------------------

    @api.model
    def _query(self, code, start=None, end=None):
        """The feed query of a calendar: its room (or every room), the statuses a calendar holds."""
        room_codes = () if code == ALL_ROOMS else (code,)
        return FeedQuery(room_codes=room_codes, start=start, end=end, statuses=JSON_STATUSES)

    @api.model
    def _members(self, code, target=None, start=None, end=None, among=None):
        """The domain of the live entries of calendar ``code`` in the feed's window, narrowed to
        ``[start, end)``, to ``target``'s object, or to the entry ids ``among``."""
        Query, query = self.env["calendar.feed.query"], self._query(code, start, end)
        window = self.env["calendar.feed"].sudo()._get_settings().window(datetime.now(timezone.utc))
        first, last = query.narrow(window)
        if first >= last:
            return [("id", "=", False)]
        scope = self.env.context.get("external_calendar_scope")
        domain = [*Query._match_domain(query, first, last, scope), ("removed_at", "=", False)]
        domain += [("event_id", "=", target.event_id)] if target is not None else []
        return domain if among is None else [*domain, ("id", "in", among)]

    @api.model
    def _signature(self, code):
        """What a sync token is bound to: the calendar, and the rooms of the key it was issued to."""
        return scoped_signature([("caldav", [code])], self.env.context.get("external_calendar_scope"))

    @api.model
    def _object_rows(self, domain, with_data=False):
        """The objects of the entries of ``domain``, in the feed's order (``data``, the object's
        bytes, only ``with_data``); bookings naming rooms outside a key's are made again here."""
        Entry = self.env["calendar.feed.entry"].sudo()
        block = SQL("calendar_feed_entry.ics_block") if with_data else SQL("NULL")
        rows = self.env.execute_query(
            Entry._search(domain, order="start_at, event_id").select(OBJECT_COLUMNS, block)
        )
        scope = self.env.context.get("external_calendar_scope")
        outside = self.env["calendar.feed.query"]._names_rooms_outside
        trimmed = Entry.browse([row[0] for row in rows if scope is not None and outside(row[5], scope)])
        remade = {}
        if trimmed:
            settings = self.env["calendar.feed"].sudo()._get_settings()
            blocks = self.env["calendar.feed.query"]._published_texts(trimmed, "ics_block", scope, settings)
            remade = {
                entry.id: calendar_object(block.encode())
                for entry, block in zip(trimmed, blocks, strict=True)
            }
        objects = [
            ObjectRow(*row[:5], calendar_object(row[6].encode()) if with_data else None) for row in rows
        ]
        for index, row in enumerate(objects):
            if data := remade.get(row.entry_id):
                objects[index] = row._replace(
                    etag=body_etag(data), length=len(data), data=data if with_data else None
                )
        return objects

    @api.model
    def _object_resources(self, code, domain, props):
        """One resource per entry of ``domain`` in calendar ``code``; calendar-data only when asked."""
        rows = self._object_rows(domain, with_data=props.wants(CALENDAR_DATA))
        return [Resource(object_path(code, row.event_id), {
            GETETAG: f'"{row.etag}"', GETCONTENTTYPE: OBJECT_CONTENT_TYPE, GETCONTENTLENGTH: str(row.length),
            GETLASTMODIFIED: row.last_modified, RESOURCETYPE: (),
            **({CALENDAR_DATA: row.data.decode()} if row.data else {}),
        }) for row in rows]  # fmt: skip

    # -- reports and GET ---------------------------------------------------------------

    @api.model
    def _report(self, feed, target, report):
        """A REPORT on a calendar: sync-collection, calendar-multiget or calendar-query."""
        if target.kind != "collection":
            raise DavError(403, "reports are answered by calendars", clark(DAV, "supported-report"))
        if isinstance(report, SyncCollection):
            return self._sync_collection(feed, target.collection, report)
        if isinstance(report, Multiget):
            return self._multiget(target.collection, report)
        domain = [("id", "=", False)] if report.matches_nothing else None
        domain = domain or self._members(target.collection, start=report.start, end=report.end)
        return self._multistatus(
            self._object_resources(target.collection, domain, report.props), report.props
        )

    @api.model
    def _multiget(self, code, report):
        """The objects at the report's hrefs; hrefs of nothing in this calendar come back as 404."""
        asked = {href: parse_path(href) for href in report.hrefs}
        mine = {href: named.event_id for href, named in asked.items()
                if named and named.kind == "object" and named.collection == code}  # fmt: skip
        domain = [*self._members(code), ("event_id", "in", list(mine.values()))]
        resources = self._object_resources(code, domain, report.props)
        found = {resource.href for resource in resources}
        missing = [href for href in report.hrefs if object_path(code, mine.get(href, 0)) not in found]
        return self._multistatus(resources, report.props, gone=missing)

    @api.model
    def _sync_collection(self, feed, code, report):
        """RFC 6578: the objects changed since the token, and the hrefs of those gone as 404."""
        signature = self._signature(code)
        gone = []
        if not report.token:
            resources = self._object_resources(code, self._members(code), report.props)
        else:
            try:
                since = read_sync_token(report.token, signature)
                check_sync_token(since, feed.sync_floor, feed.change_stamp)
            except SyncTokenExpired:
                raise invalid_sync_token() from None
            changed = self.env["calendar.feed.entry"].sudo().search(self._changed_domain(code, since))
            resources = self._object_resources(code, self._members(code, among=changed.ids), report.props)
            live = {resource.href for resource in resources}
            gone = [path for path in (object_path(code, event_id) for event_id in changed.mapped("event_id"))
                    if path not in live]  # fmt: skip
        if report.limit is not None and len(resources) + len(gone) > report.limit:
            raise DavError(507, f"more than {report.limit} changes: sync without a limit",
                           clark(DAV, "number-of-matches-within-limits"))  # fmt: skip
        token = sync_token_uri(feed.change_stamp, signature)
        return self._multistatus(resources, report.props, gone=gone, sync_token=token)

    @api.model
    def _changed_domain(self, code, since):
        """Entries changed after ``since`` whose bookings this calendar ever showed (departures too)."""
        context = self.env.context
        return self.env["calendar.feed.query"]._changed_since_domain(
            since, self._query(code), context.get("external_calendar_scope"),
            context.get("external_calendar_seen_scope"),
        )  # fmt: skip

    @api.model
    def _get(self, feed, target):
        """GET or HEAD: an object's calendar, a calendar's ICS feed, or a line for people."""
        if target.kind == "collection":
            params = {} if target.collection == ALL_ROOMS else {"room": [target.collection]}
            scope = self.env.context.get("external_calendar_scope")
            return self.env["calendar.feed.query"]._answer_ics(feed, params, scope)
        if target.kind != "object":
            return Answer(TEXT_CONTENT_TYPE, b"A CalDAV server: add this address to a calendar app.\n")
        rows = self._object_rows(self._members(target.collection, target), with_data=True)
        if not rows:
            raise DavError(404, "no such booking in this calendar")
        [row] = rows
        # No Last-Modified of the booking's: an object can change without it (a key's rooms, a rendering).
        return Answer(OBJECT_CONTENT_TYPE, row.data, etag=row.etag, headers=OBJECT_HEADERS)
