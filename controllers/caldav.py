from werkzeug.exceptions import NotFound

from odoo import http
from odoo.http import request

from ..booking_feed.dav_paths import (
    DAV_ROOT,
)
from ..booking_feed.dav_request import (
    MAX_BODY_BYTES,
    READ_METHODS,
    WRITE_PRIVILEGES,
)
from .public_calendar import make_response


def dav_route(routes, methods):
    """A public, stateless route: CalDAV clients authenticate every request with the token.

    A body larger than ``MAX_BODY_BYTES`` is refused (413) before it is read.
    """
    return http.route(
        routes,
        type="http",
        auth="public",
        methods=methods,
        csrf=False,
        save_session=False,
        max_content_length=MAX_BODY_BYTES,
    )


class CalDavController(http.Controller):
    """Read-only CalDAV (RFC 4791, 6578): each published room as a calendar clients sync.

    The routes pass the method, path, headers and body to
    ``calendar.feed.dav``, which answers; nothing else happens here.
    """

    @dav_route("/.well-known/caldav", ["GET", "HEAD", "PROPFIND", "OPTIONS"])
    def caldav_discovery(self, **_params):
        """RFC 6764: clients given only the server's address find the calendars here."""
        location = request.env["calendar.feed.dav"]._discovery_location()
        if not location:
            raise NotFound()
        return request.redirect(location, code=301)

    @dav_route([DAV_ROOT.rstrip("/"), f"{DAV_ROOT}<path:_subpath>"], [*READ_METHODS, *WRITE_PRIVILEGES])
    def caldav(self, **_params):
        httprequest = request.httprequest
        answer = request.env["calendar.feed.dav"]._answer(
            httprequest.method, httprequest.path, httprequest.headers, httprequest.get_data()
        )
        if answer is None:
            raise NotFound()
        response = make_response(answer)
        if answer.status != 401:
            request.env["calendar.feed.usage"]._record(answer.key_id, "caldav", response.status_code)
        return response
