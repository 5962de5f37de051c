import json

from werkzeug.exceptions import NotFound
from werkzeug.http import is_resource_modified

from odoo import http
from odoo.http import request
from odoo.tools import file_open

from ..booking_feed.query import QueryError, check_parameters, parse_feed_query
from ..models.calendar_feed import (
    FEED_PATH,
    FILTER_PARAMETERS,
    ICS_CONTENT_TYPE,
    JSON_CONTENT_TYPE,
    REFRESH_INTERVAL,
    SyncTokenExpired,
    body_etag,
)

# LearningSpace spells the JSON route with a dash; integrators may keep their URL.
LEARNINGSPACE_JSON_ROUTE = "/w/api/v2/public-calendar.json"
# Private: the URL carries a secret, so shared caches must not keep it.
CACHE_CONTROL = f"private, max-age={int(REFRESH_INTERVAL.total_seconds())}"
NARROWING_PARAMETERS = {"room", "from", "to"}
EVENTS_PARAMETERS = {"token", *FILTER_PARAMETERS, "limit", "cursor", "since"}
ROOMS_PARAMETERS = {"token", "from", "to"}
NEXT_PARAMETERS = {"token", "q", "room", "limit"}
OPENAPI_PATH = "/w/api/v2/openapi.yml"
NOT_BUILT_MESSAGE = "The calendar feed has not been built yet; try again in a minute."


def feed_route(routes, cors=None):
    """A public, stateless GET/HEAD route: calendar servers have no session to keep."""
    options = {"cors": cors} if cors else {}
    return http.route(
        routes, type="http", auth="public", methods=["GET", "HEAD"], csrf=False, save_session=False, **options
    )


class PublicCalendarController(http.Controller):
    """Public feed routes: no login, a secret token instead.

    Calendar servers fetch these without a session, so none is created or
    saved. Anything but the current token of an enabled endpoint gets the
    same 404 as a path that does not exist.
    """

    @feed_route(f"{FEED_PATH}.ics")
    def public_calendar_ics(self, **_params):
        feed = self._get_authorized_feed()
        args = request.httprequest.args
        # Calendar apps may add parameters of their own: only ours are read.
        filters = {name: args.getlist(name) for name in NARROWING_PARAMETERS & set(args)}
        if not filters:
            return self._stored_response(feed, "ics", ICS_CONTENT_TYPE, self._not_built_yet)
        if not feed.built_at:
            return self._not_built_yet()
        try:
            query = parse_feed_query(filters, timezone=feed._get_settings()["timezone"])
        except QueryError as error:
            return self._bad_request(str(error))
        if unknown := feed._check_room_codes(query.room_codes):
            return self._bad_request(f"room: no published room with code {', '.join(unknown)}")
        body, etag = feed._get_ics(query)
        return self._conditional_response(body, ICS_CONTENT_TYPE, etag, feed.last_modified)

    @feed_route([f"{FEED_PATH}.json", LEARNINGSPACE_JSON_ROUTE], cors="*")
    def public_calendar_json(self, **_params):
        feed = self._get_authorized_feed()
        if set(request.httprequest.args) <= {"token"}:
            return self._stored_response(feed, "json", JSON_CONTENT_TYPE, self._json_not_built_yet)
        return self._json_answer(feed, feed._answer_events, EVENTS_PARAMETERS)

    @feed_route(f"{FEED_PATH}/rooms.json", cors="*")
    def public_calendar_rooms(self, **_params):
        feed = self._get_authorized_feed()
        return self._json_answer(feed, feed._answer_room_counts, ROOMS_PARAMETERS)

    @feed_route(f"{FEED_PATH}/next.json", cors="*")
    def public_calendar_next(self, **_params):
        feed = self._get_authorized_feed()
        return self._json_answer(feed, feed._answer_next, NEXT_PARAMETERS)

    @feed_route(OPENAPI_PATH, cors="*")
    def openapi_document(self, **_params):
        if not request.env["calendar.feed"].sudo()._get_settings()["enabled"]:
            raise NotFound()
        with file_open("external_calendar_api/static/api/openapi.yml", "rb") as document:
            body = document.read()
        return request.make_response(
            body,
            headers=[("Content-Type", "application/yaml; charset=utf-8"), ("Cache-Control", CACHE_CONTROL)],
        )

    def _json_answer(self, feed, answer, allowed):
        """Check the parameters against ``allowed``, call ``answer`` with them, answer JSON."""
        if not feed.built_at:
            return self._json_not_built_yet()
        args = request.httprequest.args
        try:
            check_parameters(set(args), allowed)
            body = answer({name: args.getlist(name) for name in args if name != "token"})
        except QueryError as error:
            return self._json_error(400, "bad_request", str(error))
        except SyncTokenExpired:
            return self._json_error(
                410, "sync_token_expired", "since: this sync token is too old; do a full sync without since"
            )
        return self._conditional_response(body, JSON_CONTENT_TYPE, body_etag(body), feed.last_modified)

    @staticmethod
    def _json_error(status, code, message):
        body = json.dumps({"error": {"code": code, "message": message}})
        return request.make_response(body, headers=[("Content-Type", JSON_CONTENT_TYPE)], status=status)

    def _get_authorized_feed(self):
        """The up-to-date feed, if the request carries the current token."""
        token = request.httprequest.args.get("token") or self._bearer_token()
        Feed = request.env["calendar.feed"].sudo()
        if not Feed._check_access_token(token):
            raise NotFound()
        # sudo() past this point: the token was checked, and the feed holds only
        # what the administrator chose to publish.
        return Feed._get_fresh()

    @staticmethod
    def _bearer_token():
        scheme, _, credentials = request.httprequest.headers.get("Authorization", "").partition(" ")
        return credentials.strip() if scheme.lower() == "bearer" else None

    def _stored_response(self, feed, feed_format, content_type, not_built_yet):
        """The stored feed, or a 304 decided from its validators before the body is read.

        Before the first successful build there is nothing to serve: 503 with
        Retry-After, which calendar servers and HTTP clients retry (the cause,
        if the build failed, is logged and shown on the settings page).
        """
        etag = feed[f"{feed_format}_etag"]
        if not etag:
            return not_built_yet()
        if not is_resource_modified(request.httprequest.environ, etag=etag, last_modified=feed.last_modified):
            return self._conditional_response(b"", content_type, etag, feed.last_modified)
        body = feed[f"{feed_format}_body"].encode()
        return self._conditional_response(body, content_type, etag, feed.last_modified)

    @staticmethod
    def _conditional_response(body, content_type, etag, last_modified):
        """200 with validators, or 304 when the client's copy is current (werkzeug's rules)."""
        response = request.make_response(
            body, headers=[("Content-Type", content_type), ("Cache-Control", CACHE_CONTROL)]
        )
        response.set_etag(etag)
        response.last_modified = last_modified
        return response.make_conditional(request.httprequest)

    def _json_not_built_yet(self):
        response = self._json_error(503, "not_built_yet", NOT_BUILT_MESSAGE)
        response.headers["Retry-After"] = "60"
        return response

    @staticmethod
    def _not_built_yet():
        return request.make_response(
            NOT_BUILT_MESSAGE + "\n",
            headers=[("Content-Type", "text/plain; charset=utf-8"), ("Retry-After", "60")],
            status=503,
        )

    @staticmethod
    def _bad_request(reason):
        return request.make_response(
            reason + "\n", headers=[("Content-Type", "text/plain; charset=utf-8")], status=400
        )
