import json
from dataclasses import replace
from datetime import datetime, timezone

from odoo import api, models
from odoo.tools import file_open

from ..booking_feed import assemble_document, room_to_json
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
from ..booking_feed.query import QueryError, check_parameters
from ..booking_feed.statuses import LISTED_STATUSES
from ..booking_feed.sync import parse_paging

PAGE_LIMIT_MAX = 1000
NEXT_LIMIT_DEFAULT = 1
NEXT_LIMIT_MAX = 100


class CalendarFeedQuery(models.AbstractModel):
    """Answers to the public feed routes (ICS, JSON, displays), as plain
    :class:`~..booking_feed.api.Answer` data.

    The controller hands over the raw query string; the token is checked
    here, the bookings are read through ``calendar.feed.reader``, and the
    answer's bytes are made here, so each route's controller is one line.
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
        answered by the ``_answer_<route>`` method of its front end (this
        model, or the one the route names).
        """
        if route_name == "openapi":
            return self._answer_openapi()
        token = args.get("token") or bearer_token
        settings, audience, feed = self.env["calendar.feed"].sudo()._open_for(token)
        if audience is None:
            return None
        # sudo() past this point: the token was checked, and the feed holds only
        # what the administrator chose to publish.
        route = ROUTES[route_name]
        try:
            if route.needs_build and not feed.built_at:
                raise NotBuiltYet()
            if not route.ignores_unknown:
                check_parameters(set(args), route.parameters)
            read = route.parameters if route.reads_token else route.parameters - {"token"}
            params = {name: args.getlist(name) for name in read & set(args)}
            front_end = self.env[route.front_end]
            answer = getattr(front_end, f"_answer_{route_name}")(feed, settings, audience, params)
            if answer is None:  # e.g. a display of a room the token does not open
                return None
            answer = answer.encoded(choose_encoding(accept_encoding))
        except FeedError as error:
            answer = error_answer(error, as_json=route.is_json)
        return replace(answer, key_id=audience.key_id)

    @api.model
    def _answer_options(self, args, bearer_token=None):
        """OPTIONS on a route Odoo answers no CORS preflight for: the methods it allows, for a token
        that opens it; None (the 404 of a path that does not exist) without one. Nothing is built."""
        _settings, audience, _feed = (
            self.env["calendar.feed"].sudo()._open_for(args.get("token") or bearer_token, build=False)
        )
        if audience is None:
            return None
        return Answer("", b"", status=204, headers=(("Allow", "GET, HEAD"),), key_id=audience.key_id)

    @api.model
    def _answer_openapi(self):
        """The OpenAPI document, while the endpoint is enabled."""
        if not self.env["calendar.feed"].sudo()._get_settings().enabled:
            return None
        with file_open("external_calendar_api/static/api/openapi.yml", "rb") as document:
            return Answer(YAML_CONTENT_TYPE, document.read(), headers=DATA_HEADERS)

    # -- one method per route: params are name -> list of values, token excluded --

    @api.model
    def _answer_ics(self, feed, settings, audience, params):
        """The ICS feed subscribers read, narrowed by ``room``, ``from`` and ``to`` if given: the
        live bookings only, so a removed one simply vanishes from every calendar app."""
        if not params and audience.reads_as_published:
            return feed._stored_answer("ics")
        body, _name = self.env["calendar.feed.reader"]._calendar_asked(settings, audience, params)
        return data_answer(ICS_CONTENT_TYPE, body, feed.last_modified)

    @api.model
    def _answer_import(self, feed, settings, audience, params, now=None):
        """The ICS file people import by hand (of ``room`` if given): the live bookings and, for
        the retention period, the removed ones as CANCELLED with a higher SEQUENCE (RFC 5546
        PUBLISH), so that importing a newer file cancels them in the importer's copy."""
        Reader = self.env["calendar.feed.reader"]
        body, name = Reader._calendar_asked(settings, audience, params, with_tombstones=True, now=now)
        answer = data_answer(ICS_CONTENT_TYPE, body, feed.last_modified)
        disposition = ("Content-Disposition", attachment_disposition(name, "ics"))
        return replace(answer, headers=(*answer.headers, disposition))

    @api.model
    def _answer_events(self, feed, settings, audience, params):
        """The JSON feed: all of it, or filtered, paged or incremental (``since``)."""
        if not params and audience.reads_as_published:
            return feed._stored_answer("json")
        Reader = self.env["calendar.feed.reader"]
        query = Reader._parse_query(params, settings, audience, statuses=LISTED_STATUSES)
        # Tokens and cursors are bound to the audience's rooms too: another key's is another delta.
        signature = audience.signature([item for item in params.items() if item[0] in FILTER_PARAMETERS])
        paging = parse_paging(params, signature, default_limit=0, max_limit=PAGE_LIMIT_MAX)
        page = Reader._events_page(feed, settings, audience, query, paging=paging, signature=signature)
        return data_answer(JSON_CONTENT_TYPE, assemble_document(*page), feed.last_modified)

    @api.model
    def _answer_rooms(self, feed, settings, audience, params):
        """Published rooms with the number of their live bookings in the (narrowed) window."""
        Reader = self.env["calendar.feed.reader"]
        query = Reader._parse_query(params, settings, audience, statuses=LISTED_STATUSES)
        start, end = query.narrow(settings.window(datetime.now(timezone.utc)))
        counts = Reader._room_counts(audience, query, start, end)
        rooms = [
            room_to_json(room._to_feed_room(), eventCount=counts[room.code])
            for room in Reader._rooms(audience)
        ]
        head = Reader._json_head(feed, settings, start, end, rooms=rooms)
        body = json.dumps(head, ensure_ascii=False, separators=(",", ":")).encode()
        return data_answer(JSON_CONTENT_TYPE, body, feed.last_modified)

    @api.model
    def _answer_next(self, feed, settings, audience, params):
        """The next bookings (``limit``, default 1) matching ``q`` and ``room``."""
        Reader = self.env["calendar.feed.reader"]
        query = Reader._parse_query(params, settings, audience, statuses=LISTED_STATUSES)
        limit_param = {"limit": params.get("limit", [str(NEXT_LIMIT_DEFAULT)])}
        limit = parse_paging(
            limit_param, "", default_limit=NEXT_LIMIT_DEFAULT, max_limit=NEXT_LIMIT_MAX
        ).limit
        page = Reader._next_events(feed, settings, audience, query, limit=limit)
        # ETag only: the answer changes with the minute, not only when the feed does.
        return data_answer(JSON_CONTENT_TYPE, assemble_document(*page), None)

    @api.model
    def _answer_display(self, feed, settings, audience, params):
        """The door sign of ``room``, or the board of every room the token opens; None (404) for a
        room the token does not open, as for a path that does not exist."""
        options = parse_display_options(params)
        if not params.get("token"):
            raise QueryError("token: a display needs its token in the URL, to read the feed with")
        title = settings.name
        if options.room_code:
            room = self.env["calendar.feed.reader"]._rooms(audience, [options.room_code])
            if not room:
                return None
            title = room.name
        Display = self.env["calendar.feed.display"]
        lang = Display._get_lang(settings)
        labels = Display.with_context(lang=lang)._get_labels()
        return display_answer(
            options,
            title=title,
            token=params["token"][0],
            timezone=settings.timezone,
            lang=lang,
            labels=labels,
            feed_path=FEED_PATH,
        )
