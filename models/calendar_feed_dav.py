from dataclasses import replace
from datetime import UTC, datetime
from urllib.parse import quote

from odoo import api, models
from odoo.tools import SQL

from ..booking_feed.api import ICS_CONTENT_TYPE, TEXT_CONTENT_TYPE, Answer, FeedError, NotBuiltYet, body_etag
from ..booking_feed.dav_request import (
    ALL_ROOMS,
    APPLE_ICAL,
    CALDAV,
    CALENDAR_DATA,
    CALENDARSERVER,
    DAV,
    DAV_ROOT,
    HOME_PATH,
    PRINCIPAL_PATH,
    READ_METHODS,
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
    XML_CONTENT_TYPE,
    Node,
    Resource,
    empty,
    error_body,
    hrefs,
    http_date,
    multistatus,
    wrapped,
)
from ..booking_feed.ics import object_envelope, timezone_calendar
from ..booking_feed.query import FeedQuery
from ..booking_feed.sync import filter_signature
from .calendar_event import ODOO_COLORS
from .calendar_feed_query import JSON_STATUSES

DAV_HEADERS = (("DAV", "1, 3, calendar-access"), ("Allow", ", ".join(READ_METHODS)))
#: Objects are revalidated at each use: their ETag says whether they changed.
OBJECT_HEADERS = (("Cache-Control", "private, no-cache"),)
OBJECT_CONTENT_TYPE = "text/calendar; charset=utf-8; component=vevent"
RESOURCETYPE = clark(DAV, "resourcetype")
DISPLAYNAME = clark(DAV, "displayname")
GETETAG = clark(DAV, "getetag")
CURRENT_USER_PRINCIPAL = clark(DAV, "current-user-principal")
READ_ONLY = tuple(
    Node(clark(DAV, "privilege"), (node,)) for node in empty(DAV, "read", "read-current-user-privilege-set")
)
EVENTS_ONLY = (Node(clark(CALDAV, "comp"), (), {"name": "VEVENT"}),)
REPORTS = wrapped(
    (DAV, "supported-report"), (DAV, "report"),
    [Node(clark(CALDAV, "calendar-query")), Node(clark(CALDAV, "calendar-multiget")),
     Node(clark(DAV, "sync-collection"))],
)  # fmt: skip


class CalendarFeedDav(models.AbstractModel):
    """Answers to CalDAV requests (RFC 4791, 6578): every published room as a read-only calendar.

    The tree: ``/w/caldav/`` (root), ``principal/``, ``calendars/`` (the
    home), a calendar per room in the token's scope (``calendars/room-<code>/``)
    and one of all of them (``calendars/all/``), each holding one object per
    live booking of the feed's window (``<booking id>.ics``). Everything is
    read from the feed's entries: the objects are the ICS feed's VEVENTs,
    ETags digests of their bytes, sync tokens the entries' change stamps.
    """

    _name = "calendar.feed.dav"
    _description = "External Calendar CalDAV Answers"

    @api.model
    def _answer(self, method, path, headers, body):
        """The answer to a CalDAV request, or None for the 404 of a path that does not exist.

        The endpoint off, nothing exists. On, the secret of the main link or
        of a named key is the password (or a bearer token); without one the
        answer is a 401 that makes clients ask for it. ``headers`` are the
        request's (Authorization, Depth).
        """
        Feed = self.env["calendar.feed"].sudo()
        settings = Feed._get_settings()
        if not settings.enabled:
            return None
        key = Feed._authenticate(credentials(headers.get("Authorization")))
        if key is None:
            realm = settings.name.replace('"', "'").replace("\\", "/")
            challenge = f'Basic realm="{realm}", charset="UTF-8"'
            return Answer(TEXT_CONTENT_TYPE, b"A calendar token is needed.\n", status=401,
                          headers=(("WWW-Authenticate", challenge),))  # fmt: skip
        # sudo() past this point: the token was checked (as in calendar.feed.query).
        dav = self.with_context(external_calendar_scope=key._get_scope() if key else None,
                                external_calendar_seen_scope=key._get_seen_scope())  # fmt: skip
        try:
            answer = dav._answer_method(method, path, headers, body)
        except DavError as error:
            answer = Answer(XML_CONTENT_TYPE, error_body(error, dav._error_details(error, method, path)),
                            status=error.status)  # fmt: skip
        except FeedError as error:
            answer = Answer(
                TEXT_CONTENT_TYPE, f"{error}\n".encode(), status=error.status, headers=error.headers
            )
        return replace(answer, headers=(*answer.headers, *DAV_HEADERS), key_id=key.id or None)

    @api.model
    def _answer_method(self, method, path, headers, body):
        if method == "OPTIONS":
            return Answer(TEXT_CONTENT_TYPE, b"")
        if method in WRITE_PRIVILEGES:
            raise DavError(403, "this calendar is read-only", clark(DAV, "need-privileges"))
        target = parse_path(path)
        if target is None or not self._exists(target):
            raise DavError(404, "nothing here: the calendars are under " + HOME_PATH)
        feed = self.env["calendar.feed"].sudo()._get_up_to_date()
        if not feed.built_at:
            raise NotBuiltYet()
        if method == "PROPFIND":
            props = parse_propfind(body)
            resources = self._propfind(feed, target, parse_depth(headers.get("Depth")), props)
            return Answer(XML_CONTENT_TYPE, multistatus(resources, props), status=207)
        if method == "REPORT":
            return Answer(XML_CONTENT_TYPE, self._report(feed, target, parse_report(body)), status=207)
        return self._get(feed, target)

    @api.model
    def _error_details(self, error, method, path):
        """need-privileges names the resource and the privilege a write would need (RFC 3744, 7.1.1)."""
        if error.condition != clark(DAV, "need-privileges"):
            return ()
        privilege = Node(clark(DAV, "privilege"), empty(DAV, WRITE_PRIVILEGES[method]))
        # The path as sent, encoded: decoded, it may hold characters XML cannot (NUL).
        return (Node(clark(DAV, "resource"), (Node(clark(DAV, "href"), quote(path)), privilege)),)

    # -- the tree ----------------------------------------------------------------

    @api.model
    def _exists(self, target):
        """Whether the token opens ``target``'s calendar (objects are looked up when read)."""
        return target.collection in (None, ALL_ROOMS) or target.collection in self._room_codes()

    @api.model
    def _rooms(self):
        """The published rooms the token opens, in the rooms' order."""
        scope = self.env.context.get("external_calendar_scope")
        domain = self.env["calendar.feed.query"]._published_room_domain(scope)
        return self.env["calendar.room"].sudo().search(domain)

    @api.model
    def _room_codes(self):
        return set(self._rooms().mapped("code"))

    @api.model
    def _propfind(self, feed, target, depth, props):
        """The resources a PROPFIND of ``depth`` on ``target`` describes, the target first."""
        settings = feed._get_settings()
        name = self.env._("Room bookings") if target.kind != "principal" else settings.name
        plain = {CURRENT_USER_PRINCIPAL: hrefs(PRINCIPAL_PATH)}
        if target.kind == "root":
            root = Resource(DAV_ROOT, {**plain, RESOURCETYPE: empty(DAV, "collection"), DISPLAYNAME: name})
            children = [self._propfind(feed, Target(kind), 0, props)[0] for kind in ("principal", "home")]
            return [root, *(children if depth else [])]
        if target.kind == "principal":
            return [Resource(PRINCIPAL_PATH, {
                **plain, RESOURCETYPE: empty(DAV, "collection", "principal"), DISPLAYNAME: name,
                clark(DAV, "principal-URL"): hrefs(PRINCIPAL_PATH),
                clark(CALDAV, "calendar-home-set"): hrefs(HOME_PATH),
            })]  # fmt: skip
        if target.kind == "home":
            home = Resource(HOME_PATH, {**plain, RESOURCETYPE: empty(DAV, "collection"), DISPLAYNAME: name})
            rooms = self.env["calendar.room"].browse(), *self._rooms()
            return [home, *(self._collection_resource(feed, room) for room in (rooms if depth else []))]
        if target.kind == "collection":
            room = self._rooms().filtered(lambda room: room.code == target.collection)
            members = self._object_resources(target.collection, self._members(target.collection), props)
            return [self._collection_resource(feed, room), *(members if depth else [])]
        entries = self._members(target.collection, [("event_id", "=", target.event_id)])
        if not entries:
            raise DavError(404, "no such booking in this calendar")
        return self._object_resources(target.collection, entries, props)

    @api.model
    def _collection_resource(self, feed, room):
        """The calendar of ``room``, or of every room the token opens for an empty ``room``."""
        settings = feed._get_settings()
        code = room.code or ALL_ROOMS
        token = self._collection_token(feed, code)
        color = ODOO_COLORS[room.color] if 0 < room.color < len(ODOO_COLORS) else None
        return Resource(collection_path(code), {
            CURRENT_USER_PRINCIPAL: hrefs(PRINCIPAL_PATH),
            RESOURCETYPE: (*empty(DAV, "collection"), *empty(CALDAV, "calendar")),
            DISPLAYNAME: room.name or settings.name,
            clark(CALDAV, "calendar-description"): (room.location if room else settings.description) or None,
            clark(CALDAV, "supported-calendar-component-set"): EVENTS_ONLY,
            clark(CALDAV, "calendar-timezone"): timezone_calendar(settings.timezone).decode(),
            clark(CALENDARSERVER, "getctag"): token,
            clark(DAV, "sync-token"): token,
            clark(APPLE_ICAL, "calendar-color"): color,
            clark(DAV, "current-user-privilege-set"): READ_ONLY,
            clark(DAV, "supported-report-set"): REPORTS,
            clark(DAV, "owner"): hrefs(PRINCIPAL_PATH),
        })  # fmt: skip

    # -- the objects of a calendar ---------------------------------------------------

    @api.model
    def _query(self, code, start=None, end=None):
        """The feed query of a calendar: its room (or every room), the statuses a calendar holds."""
        room_codes = () if code == ALL_ROOMS else (code,)
        return FeedQuery(room_codes=room_codes, start=start, end=end, statuses=JSON_STATUSES)

    @api.model
    def _members(self, code, extra=(), start=None, end=None):
        """The live entries of calendar ``code`` in the feed's window (narrowed to ``[start, end)``)."""
        Query = self.env["calendar.feed.query"]
        Entry = self.env["calendar.feed.entry"].sudo()
        query = self._query(code, start, end)
        first, last = query.narrow(self.env["calendar.feed"]._get_settings().window(datetime.now(UTC)))
        if first >= last:
            return Entry.browse()
        scope = self.env.context.get("external_calendar_scope")
        return Entry.search(
            [*Query._match_domain(query, first, last, scope), ("removed_at", "=", False), *extra]
        )

    @api.model
    def _signature(self, code):
        """What a sync token is bound to: the calendar, and the rooms of the key it was issued to."""
        scope = self.env.context.get("external_calendar_scope")
        return filter_signature(
            [("caldav", [code]), *([("scope", list(scope))] if scope is not None else [])]
        )

    @api.model
    def _changed_domain(self, code, since):
        """Entries changed after ``since`` whose bookings this calendar ever showed (departures too)."""
        context = self.env.context
        return self.env["calendar.feed.query"]._changed_since_domain(
            since, self._query(code), context.get("external_calendar_scope"),
            context.get("external_calendar_seen_scope"),
        )  # fmt: skip

    @api.model
    def _collection_token(self, feed, code):
        """The sync token (and ctag) of a calendar: the stamp of its last change.

        Never older than the feed's sync floor, so it never goes back when old tombstones are forgotten.
        """
        Entry = self.env["calendar.feed.entry"].sudo()
        [(last,)] = Entry._read_group(self._changed_domain(code, 0), [], ["change_stamp:max"])
        return sync_token_uri(max(last or 0, feed.sync_floor), self._signature(code))

    @api.model
    def _object_rows(self, entries, with_data=False):
        """``(event_id, modified_at, etag, length, data)`` of the objects of ``entries``, in their order.

        ETags are digests of the bytes GET sends, computed where the blocks are
        (a test holds them equal); ``data`` is None unless ``with_data``.
        """
        head, tail = (part.decode() for part in object_envelope())
        body = SQL("convert_to(%s || ics_block || %s, 'UTF8')", head, tail)
        rows = self.env.execute_query(SQL(
            """SELECT id, event_id, modified_at, left(encode(sha256(%s), 'hex'), 32), octet_length(%s), %s
                 FROM calendar_feed_entry WHERE id = ANY(%s)""",
            body, body, body if with_data else SQL("NULL"), entries.ids,
        ))  # fmt: skip
        by_id = {row[0]: [*row[1:5], row[5] and bytes(row[5])] for row in rows}
        scope = self.env.context.get("external_calendar_scope")
        if scope is not None:  # bookings of rooms outside a key's scope are published without them
            trimmed = entries.filtered(
                lambda entry: not set(entry.room_codes.strip(",").split(",")) <= set(scope)
            )
            settings = self.env["calendar.feed"]._get_settings()
            blocks = self.env["calendar.feed.query"]._published_texts(trimmed, "ics_block", scope, settings)
            for entry, block in zip(trimmed, blocks, strict=True):
                data = b"".join([head.encode(), block.encode(), tail.encode()])
                by_id[entry.id][2:] = [body_etag(data), len(data), data if with_data else None]
        return [by_id[entry_id] for entry_id in entries.ids]

    @api.model
    def _object_resources(self, code, entries, props):
        """One resource per entry of calendar ``code``; calendar-data only when asked for."""
        rows = self._object_rows(entries, with_data=props.wants(CALENDAR_DATA))
        return [Resource(object_path(code, event_id), {
            GETETAG: f'"{etag}"', clark(DAV, "getcontenttype"): OBJECT_CONTENT_TYPE,
            clark(DAV, "getcontentlength"): str(length),
            clark(DAV, "getlastmodified"): http_date(modified_at),
            RESOURCETYPE: (), CALENDAR_DATA: data.decode() if data else None,
        }) for event_id, modified_at, etag, length, data in rows]  # fmt: skip

    # -- reports and GET ---------------------------------------------------------------

    @api.model
    def _report(self, feed, target, report):
        """The multistatus body of a REPORT on a calendar."""
        if target.kind != "collection":
            raise DavError(403, "reports are answered by calendars", clark(DAV, "supported-report"))
        code = target.collection
        if isinstance(report, SyncCollection):
            return self._sync_collection(feed, code, report)
        if isinstance(report, Multiget):
            asked = {}
            missing = []
            for href in report.hrefs:
                named = parse_path(href)
                if named and named.kind == "object" and named.collection == code:
                    asked[named.event_id] = href
                else:
                    missing.append(href)
            entries = self._members(code, [("event_id", "in", list(asked))])
            missing += [
                href for event_id, href in asked.items() if event_id not in entries.mapped("event_id")
            ]
            return multistatus(
                self._object_resources(code, entries, report.props), report.props, gone=missing
            )
        entries = self.env["calendar.feed.entry"].browse()
        if not report.matches_nothing:
            entries = self._members(code, start=report.start, end=report.end)
        return multistatus(self._object_resources(code, entries, report.props), report.props)

    @api.model
    def _sync_collection(self, feed, code, report):
        """RFC 6578: the objects changed since the token, and the hrefs of those gone as 404."""
        signature = self._signature(code)
        since = read_sync_token(report.token, signature) if report.token else None
        if since is not None and since < feed.sync_floor:
            raise invalid_sync_token()
        if since is None:
            live, gone = self._members(code), []
        else:
            changed = self.env["calendar.feed.entry"].sudo().search(self._changed_domain(code, since))
            live = self._members(code, [("id", "in", changed.ids)])
            gone = changed - live
        if report.limit is not None and len(live) + len(gone) > report.limit:
            raise DavError(507, f"more than {report.limit} changes: sync without a limit",
                           clark(DAV, "number-of-matches-within-limits"))  # fmt: skip
        return multistatus(
            self._object_resources(code, live, report.props), report.props,
            gone=[object_path(code, entry.event_id) for entry in gone],
            sync_token=sync_token_uri(feed.change_stamp, signature),
        )  # fmt: skip

    @api.model
    def _get(self, feed, target):
        """GET or HEAD: an object's calendar, a calendar's ICS feed, or a line for people."""
        if target.kind == "collection":
            params = {} if target.collection == ALL_ROOMS else {"room": [target.collection]}
            scope = self.env.context.get("external_calendar_scope")
            return self.env["calendar.feed.query"]._answer_ics(feed, params, scope)
        if target.kind != "object":
            return Answer(
                TEXT_CONTENT_TYPE,
                b"A CalDAV server: add this address to a calendar app as a CalDAV account.\n",
            )
        entries = self._members(target.collection, [("event_id", "=", target.event_id)])
        if not entries:
            raise DavError(404, "no such booking in this calendar")
        [(_event_id, modified_at, etag, _length, data)] = self._object_rows(entries, with_data=True)
        return Answer(ICS_CONTENT_TYPE, data, etag=etag, last_modified=modified_at, headers=OBJECT_HEADERS)
