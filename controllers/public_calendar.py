from werkzeug.exceptions import NotFound
from werkzeug.http import is_resource_modified

from odoo import http
from odoo.http import request

from ..booking_feed.api import (
    DISPLAY_PATH,
    FEED_PATH,
    IMPORT_PATH,
    LEARNINGSPACE_JSON_PATH,
    OPENAPI_PATH,
    bearer_token,
)


def make_response(answer):
    """The HTTP response of ``answer``; a 304 is decided before the body is read."""
    httprequest = request.httprequest
    response = request.make_response(
        b"", headers=[("Content-Type", answer.content_type), *answer.headers], status=answer.status
    )
    if answer.status == 204:  # no content, so no type of it either
        response.headers.remove("Content-Type")
    if answer.etag:
        response.set_etag(answer.etag)
        response.last_modified = answer.last_modified
        if not is_resource_modified(
            httprequest.environ, etag=answer.etag, last_modified=answer.last_modified
        ):
            return response.make_conditional(httprequest)
    chunks = answer.chunks()
    response.response = chunks  # sent one after the other, never joined
    response.content_length = sum(len(chunk) for chunk in chunks)
    return response.make_conditional(httprequest) if answer.etag else response


def feed_route(routes, cors=None):
    """A public, stateless GET/HEAD route: calendar servers have no session to keep."""
    options = {"cors": cors} if cors else {}
    return http.route(
        routes, type="http", auth="public", methods=["GET", "HEAD"], csrf=False, save_session=False, **options
    )


class PublicCalendarController(http.Controller):
    """Public feed routes: no login, a secret token instead.

    Each route hands its raw query string to ``calendar.feed.query`` and
    turns the answer into a response. Calendar servers fetch these without a
    session, so none is created or saved. No answer (anything but the
    current token of an enabled endpoint) is the same 404 as a path that
    does not exist.
    """

    @feed_route(f"{FEED_PATH}.ics")
    def public_calendar_ics(self, **_params):
        return self._respond("ics")

    @feed_route(IMPORT_PATH)
    def public_calendar_import(self, **_params):
        return self._respond("import")

    @feed_route([f"{FEED_PATH}.json", LEARNINGSPACE_JSON_PATH], cors="*")
    def public_calendar_json(self, **_params):
        return self._respond("events")

    @feed_route(f"{FEED_PATH}/rooms.json", cors="*")
    def public_calendar_rooms(self, **_params):
        return self._respond("rooms")

    @feed_route(f"{FEED_PATH}/next.json", cors="*")
    def public_calendar_next(self, **_params):
        return self._respond("next")

    @feed_route(f"{FEED_PATH}/freebusy.ics")
    def public_calendar_freebusy(self, **_params):
        return self._respond("freebusy")

    @feed_route(f"{FEED_PATH}/free.json", cors="*")
    def public_calendar_free(self, **_params):
        return self._respond("free")

    @feed_route(DISPLAY_PATH)
    def room_display(self, **_params):
        return self._respond("display")

    @feed_route(OPENAPI_PATH, cors="*")
    def openapi_document(self, **_params):
        return self._respond("openapi")

    def _respond(self, route_name):
        """The answer of ``calendar.feed.query``, logged as a use of its key (or the main link).

        Odoo adds OPTIONS to every route and answers it itself on CORS routes
        (the preflight); on the others it is answered here, and is no use.
        """
        httprequest = request.httprequest
        Query = request.env["calendar.feed.query"]
        token = bearer_token(httprequest.headers.get("Authorization"))
        if httprequest.method == "OPTIONS":
            answer = Query._answer_options(httprequest.args, token)
        else:
            answer = Query._answer(
                route_name, httprequest.args, token, httprequest.headers.get("Accept-Encoding")
            )
        if answer is None:
            raise NotFound()
        response = make_response(answer)
        if route_name != "openapi" and httprequest.method != "OPTIONS":
            request.env["calendar.feed.usage"]._record(answer.key_id, route_name, response.status_code)
        return response
