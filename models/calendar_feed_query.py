import json
from collections import Counter
from dataclasses import replace
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from odoo import api, fields, models
from odoo.tools import escape_psql, file_open

from ..booking_feed import (
    CONFIRMED,
    TENTATIVE,
    assemble_document,
    dump_event,
    render_calendar,
    render_vevent,
    room_to_json,
)
from ..booking_feed.api import (
    DATA_HEADERS,
    FEED_PATH,
    FILTER_PARAMETERS,
    ICS_CONTENT_TYPE,
    JSON_CONTENT_TYPE,
    ROUTES,
    YAML_CONTENT_TYPE,
    Answer,
    FeedError,
    NotBuiltYet,
    attachment_disposition,
    data_answer,
    error_answer,
)
from ..booking_feed.display import display_answer, parse_display_options
from ..booking_feed.encoding import choose_encoding
from ..booking_feed.query import QueryError, check_parameters, parse_feed_query
from ..booking_feed.records import load_record
from ..booking_feed.sync import Cursor, check_sync_token, encode_sync_token, parse_paging, scoped_signature

#: Statuses the JSON API can publish and filter on.
JSON_STATUSES = (CONFIRMED, TENTATIVE)
PAGE_LIMIT_MAX = 1000
NEXT_LIMIT_DEFAULT = 1
NEXT_LIMIT_MAX = 100


class CalendarFeedQuery(models.AbstractModel):
    """Answers to the public feed routes, as plain :class:`~..booking_feed.api.Answer` data.

    The controller hands over the raw query string; everything from the
    token check to the bytes of the answer happens here, so each route's
    controller is one line and every rule about answers is in one place.
    Answers are read from the stored feed and its entries: no booking is
    read at request time.
    """

    _name = "calendar.feed.query"
    _description = "External Calendar Feed Answers"

    @api.model
    def _answer(self, route_name, args, bearer_token=None, accept_encoding=None):
        """The answer to ``route_name`` for the query string ``args`` (a MultiDict), or None for 404.

        Without the current token of an enabled endpoint (``?token=`` or a
        bearer token), the main one or a named key's, there is no answer at
        all: the caller answers the same 404 as for a path that does not
        exist. A key limited to some rooms gets answers about those rooms
        only. The answer is in the coding that ``accept_encoding`` (the
        request's header) prefers, and says which key it was for
        (``key_id``, None for the main link). Each route of ``ROUTES`` is
        answered by its ``_answer_<route>`` method.
        """
        if route_name == "openapi":
            return self._answer_openapi()
        Feed = self.env["calendar.feed"].sudo()
        key = Feed._authenticate(args.get("token") or bearer_token)
        if key is None:
            return None
        # sudo() past this point: the token was checked, and the feed holds only
        # what the administrator chose to publish.
        feed = Feed._get_up_to_date()
        route = ROUTES[route_name]
        try:
            if route.needs_build and not feed.built_at:
                raise NotBuiltYet()
            if not route.ignores_unknown:
                check_parameters(set(args), route.parameters)
            read = route.parameters if route.reads_token else route.parameters - {"token"}
            params = {name: args.getlist(name) for name in read & set(args)}
            scope = key._get_scope() if key else None
            query = self.with_context(external_calendar_seen_scope=key._get_seen_scope())
            answer = getattr(query, f"_answer_{route_name}")(feed, params, scope)
            if answer is None:  # e.g. a display of a room the token does not open
                return None
            answer = answer.encoded(choose_encoding(accept_encoding))
        except FeedError as error:
            answer = error_answer(error, as_json=route.is_json)
        return replace(answer, key_id=key.id or None)

    @api.model
    def _answer_openapi(self):
        """The OpenAPI document, while the endpoint is enabled."""
        if not self.env["calendar.feed"].sudo()._get_settings().enabled:
            return None
        with file_open("external_calendar_api/static/api/openapi.yml", "rb") as document:
            return Answer(YAML_CONTENT_TYPE, document.read(), headers=DATA_HEADERS)

    @staticmethod
    def _stored_answer(feed, feed_format, content_type):
        """The stored body, read only if the client's copy is not current."""
        return Answer(
            content_type, lambda: feed[f"{feed_format}_body"].encode(),  # noqa: PLW0108 (read when sent)
            etag=feed[f"{feed_format}_etag"], last_modified=feed.last_modified,
            headers=DATA_HEADERS, stored_gzip=lambda: feed._read_gzip(feed_format),
        )  # fmt: skip

    # -- one method per route: params are name -> list of values, token excluded; --
    # -- scope: the room codes of a limited key, None for every published room      --

    @api.model
    def _answer_ics(self, feed, params, scope):
        """The ICS feed subscribers read, narrowed by ``room``, ``from`` and ``to`` if given: the
        live bookings only, so a removed one simply vanishes from every calendar app."""
        if not params and scope is None:
            return self._stored_answer(feed, "ics", ICS_CONTENT_TYPE)
        settings = feed._get_settings()
        query = self._parse_query(params, settings, scope)
        start, end = query.narrow(settings.window(datetime.now(timezone.utc)))
        domain = [*self._match_domain(query, start, end, scope), ("removed_at", "=", False)]
        body, _name = self._calendar_of(domain if start < end else None, query, scope, settings)
        return data_answer(ICS_CONTENT_TYPE, body, feed.last_modified)

    @api.model
    def _answer_import(self, feed, params, scope, now=None):
        """The ICS file people import by hand (of ``room`` if given): the live bookings and, for
        the retention period, the removed ones as CANCELLED with a higher SEQUENCE (RFC 5546
        PUBLISH), so that importing a newer file cancels them in the importer's copy."""
        settings = feed._get_settings()
        query = self._parse_query(params, settings, scope)
        window = settings.window(now or datetime.now(timezone.utc))
        # Tombstones in the window: one that merely ended before it was never cancelled.
        domain = self._match_domain(query, window.start, window.end, scope)
        body, name = self._calendar_of(domain, query, scope, settings)
        answer = data_answer(ICS_CONTENT_TYPE, body, feed.last_modified)
        disposition = ("Content-Disposition", attachment_disposition(name, "ics"))
        return replace(answer, headers=(*answer.headers, disposition))

    @api.model
    def _calendar_of(self, domain, query, scope, settings):
        """``(ICS bytes, calendar name)`` of the entries of ``domain`` (None: no entry), named after
        the rooms asked for or the key's."""
        blocks = []
        if domain is not None:
            entries = self.env["calendar.feed.entry"].sudo().search_fetch(domain, ["ics_block", "room_codes"])
            texts = self._published_texts(entries, "ics_block", scope, settings)
            blocks = [block.encode() for block in texts]
        rooms = self.env["calendar.room"].sudo().search([("code", "in", query.room_codes or scope or [])])
        name = " - ".join([settings.name, *rooms.mapped("name")]) if rooms else settings.name
        properties = settings.calendar_properties(name if rooms else None)
        return render_calendar(blocks, **properties), name

    @api.model
    def _answer_events(self, feed, params, scope):
        """The JSON feed: all of it, or filtered, paged or incremental (``since``)."""
        if not params and scope is None:
            return self._stored_answer(feed, "json", JSON_CONTENT_TYPE)
        settings = feed._get_settings()
        query = self._parse_query(params, settings, scope, statuses=JSON_STATUSES)
        # Tokens and cursors are bound to the key's rooms too: another scope is another delta.
        filters = [(name, values) for name, values in params.items() if name in FILTER_PARAMETERS]
        signature = scoped_signature(filters, scope)
        paging = parse_paging(params, signature, default_limit=0, max_limit=PAGE_LIMIT_MAX)
        seen_scope = self.env.context.get("external_calendar_seen_scope")
        body = self._events_document(
            feed, settings, query, paging, signature, scope=scope, seen_scope=seen_scope
        )
        return data_answer(JSON_CONTENT_TYPE, body, feed.last_modified)

    @api.model
    def _answer_rooms(self, feed, params, scope):
        """Published rooms with the number of their live bookings in the (narrowed) window."""
        settings = feed._get_settings()
        query = self._parse_query(params, settings, scope, statuses=JSON_STATUSES)
        start, end = query.narrow(settings.window(datetime.now(timezone.utc)))
        # One read of the window's live entries, counted per room (not one query per room).
        domain = [*self._match_domain(query, start, end, scope), ("removed_at", "=", False)]
        entries = self.env["calendar.feed.entry"].sudo().search_fetch(domain, ["room_codes"])
        counts = Counter(
            code for codes in entries.mapped("room_codes") for code in codes.strip(",").split(",")
        )
        rooms = self.env["calendar.room"].sudo().search(self._published_room_domain(scope))
        counted = [room_to_json(room._to_feed_room(), eventCount=counts[room.code]) for room in rooms]
        head = feed._json_head(settings, start, end, rooms=counted)
        body = json.dumps(head, ensure_ascii=False, separators=(",", ":")).encode()
        return data_answer(JSON_CONTENT_TYPE, body, feed.last_modified)

    @api.model
    def _answer_next(self, feed, params, scope):
        """The next bookings (``limit``, default 1) matching ``q`` and ``room``."""
        settings = feed._get_settings()
        query = self._parse_query(params, settings, scope, statuses=JSON_STATUSES)
        limit_param = {"limit": params.get("limit", [str(NEXT_LIMIT_DEFAULT)])}
        limit = parse_paging(
            limit_param, "", default_limit=NEXT_LIMIT_DEFAULT, max_limit=NEXT_LIMIT_MAX
        ).limit
        body = self._next_events_document(feed, settings, query, limit, scope=scope)
        # ETag only: the answer changes with the minute, not only when the feed does.
        return data_answer(JSON_CONTENT_TYPE, body, None)

    @api.model
    def _answer_display(self, feed, params, scope):
        """The door sign of ``room``, or the board of every room the token opens; None (404) for a
        room the token does not open, as for a path that does not exist."""
        options = parse_display_options(params)
        if not params.get("token"):
            raise QueryError("token: a display needs its token in the URL, to read the feed with")
        settings = feed._get_settings()
        title = settings.name
        if options.room_code:
            room = (
                self.env["calendar.room"]
                .sudo()
                .search([("code", "=", options.room_code), *self._published_room_domain(scope)])
            )
            if not room:
                return None
            title = room.name
        Display = self.env["calendar.feed.display"]
        lang = Display._get_lang()
        return display_answer(
            options, title=title, token=params["token"][0], timezone=settings.timezone, lang=lang,
            labels=Display.with_context(lang=lang)._get_labels(), feed_path=FEED_PATH,
        )  # fmt: skip

    # -- reading the entries ---------------------------------------------------

    @api.model
    def _parse_query(self, params, settings, scope=None, statuses=()):
        """The filters of ``params``, with room codes checked against the published rooms in ``scope``."""
        query = parse_feed_query(params, timezone=settings.timezone, statuses=statuses)
        if unknown := self._get_unknown_room_codes(query.room_codes, scope):
            raise QueryError(f"room: no published room with code {', '.join(unknown)}")
        return query

    @api.model
    def _published_room_domain(self, scope):
        domain = [("is_published", "=", True)]
        return domain if scope is None else [*domain, ("code", "in", list(scope))]

    @api.model
    def _get_unknown_room_codes(self, codes, scope=None):
        """The codes among ``codes`` that are not published rooms (in ``scope``), sorted.

        A room outside a key's scope is unknown to that key, exactly as a room that does not exist.
        """
        domain = [("code", "in", codes), *self._published_room_domain(scope)]
        published = self.env["calendar.room"].sudo().search(domain)
        return sorted(set(codes) - set(published.mapped("code")))

    @api.model
    def _rooms_domain(self, query, scope, column="room_codes"):
        """Entries whose ``column`` (``room_codes`` or ``seen_room_codes``) names a room asked
        for, or one of ``scope``; no condition when neither restricts the rooms."""
        # Asked rooms are within the scope (checked by _parse_query); a key without
        # published rooms (scope empty) sees nothing.
        room_codes = query.room_codes or scope
        if room_codes is None:
            return []
        if not room_codes:
            return [("id", "=", False)]
        # Room codes may hold "_": LIKE wildcards are matched literally.
        return [*["|"] * (len(room_codes) - 1),
                *[(column, "=like", f"%,{escape_psql(code)},%") for code in room_codes]]  # fmt: skip

    @api.model
    def _match_domain(self, query, start, end, scope=None):
        """Entries overlapping ``[start, end)`` that match ``query``'s rooms (within ``scope``),
        words and statuses."""
        domain = [
            *self.env["calendar.feed.entry"]._overlap_domain(start, end),
            *self._rooms_domain(query, scope),
        ]
        domain += [("title", "=ilike", f"%{escape_psql(word)}%") for word in query.text.split()]
        if query.statuses:
            domain.append(("status", "in", list(query.statuses)))
        return domain

    @api.model
    def _changed_since_domain(self, since, query, scope, seen_scope=None):
        """Entries changed after the stamp ``since`` whose bookings were ever in the rooms asked
        for (or ``seen_scope``, else ``scope``): they saw them, so they learn of their departures too."""
        return [
            ("change_stamp", ">", since),
            *self._rooms_domain(query, scope if seen_scope is None else seen_scope, "seen_room_codes"),
        ]

    @api.model
    def _events_document(self, feed, settings, query, paging, signature, *, scope=None, seen_scope=None):
        """A filtered, paged or incremental JSON document, as bytes (``seen_scope``: the room codes
        whose bookings' departures a delta reports, a key's or webhook's rooms even unpublished;
        ``scope`` by default).

        Without ``since``: the live bookings matching ``query``. With it:
        the bookings changed since that sync token that match (``events``)
        and those that were deleted, cancelled or no longer match
        (``deleted``). Pages follow (start, id) and read the snapshot of the
        first page, so the last page's ``syncToken`` misses nothing.
        """
        if paging.since is not None:
            check_sync_token(paging.since, feed.sync_floor, feed.change_stamp)
        start, end = query.narrow(settings.window(datetime.now(timezone.utc)))
        Entry = self.env["calendar.feed.entry"].sudo()
        snapshot = paging.cursor.stamp if paging.cursor else feed.change_stamp
        domain = [("change_stamp", "<=", snapshot)]
        if paging.cursor:
            after_start = paging.cursor.after_start
            domain += ["|", ("start_at", ">", after_start), "&", ("start_at", "=", after_start),
                       ("event_id", ">", paging.cursor.after_id)]  # fmt: skip
        matching = [*self._match_domain(query, start, end, scope), ("removed_at", "=", False)]
        if paging.since is None:
            domain += matching
        else:
            domain += self._changed_since_domain(paging.since, query, scope, seen_scope)
        page = Entry.search(
            domain, order="start_at, event_id", limit=paging.limit + 1 if paging.limit else None
        )
        has_more = bool(paging.limit) and len(page) > paging.limit
        page = page[: paging.limit] if has_more else page
        events = page if paging.since is None else Entry.search([*matching, ("id", "in", page.ids)])
        if has_more:
            last = page[-1]
            cursor = Cursor(snapshot, fields.Datetime.to_string(last.start_at), last.event_id, paging.since)
            head = {"nextCursor": cursor.encode(signature), "syncToken": None}
        else:
            head = {"nextCursor": None, "syncToken": encode_sync_token(snapshot, signature)}
        if paging.since is not None:
            head["deleted"] = [{"id": entry.event_id, "uid": entry.uid} for entry in page - events]
        events = page & events  # keep the page's order
        objects = self._published_texts(events, "json_object", scope, settings)
        return assemble_document(objects, feed._json_head(settings, start, end, **head))

    @api.model
    def _next_events_document(self, feed, settings, query, limit, *, scope=None, now=None):
        """The next ``limit`` live bookings starting from ``now`` that match ``query``, as bytes.

        ``now`` is taken at the start of its minute: for a whole minute the
        answer is the same bytes and ETag, so a display polling more often
        than that gets 304s.
        """
        now = (now or datetime.now(timezone.utc)).replace(second=0, microsecond=0)
        window = settings.window(now)
        start = max(now, window.start)
        domain = [
            *self._match_domain(query, start, window.end, scope),
            ("removed_at", "=", False),
            ("start_at", ">=", start.replace(tzinfo=None)),
        ]
        entries = (
            self.env["calendar.feed.entry"].sudo().search(domain, order="start_at, event_id", limit=limit)
        )
        objects = self._published_texts(entries, "json_object", scope, settings)
        return assemble_document(objects, feed._json_head(settings, start, window.end))

    @api.model
    def _published_texts(self, entries, column, scope, settings):
        """The stored ``ics_block`` or ``json_object`` of each entry, as ``scope`` may see it.

        A booking that also books rooms outside the scope is rendered again
        from its stored record without them: a key never names rooms it
        was not given. Other bookings are sent as stored.
        """
        if scope is None:
            return entries.mapped(column)
        zone = ZoneInfo(settings.timezone)
        texts = []
        for entry in entries:
            if not self._names_rooms_outside(entry.room_codes, scope):
                texts.append(entry[column])
                continue
            event = load_record(entry.record)
            event = replace(event, rooms=tuple(room for room in event.rooms if room.code in scope))
            texts.append(render_vevent(event).decode() if column == "ics_block" else dump_event(event, zone))
        return texts

    @staticmethod
    def _names_rooms_outside(room_codes, scope):
        """Whether an entry's ``room_codes`` (``,A,B,``) name a room outside ``scope`` (None: every room)."""
        return scope is not None and not set(room_codes.strip(",").split(",")) <= set(scope)
