from werkzeug.exceptions import NotFound

from odoo import http
from odoo.http import request

FEED_ROUTE = "/w/api/v2/public_calendar"
# LearningSpace spells the JSON route with a dash; integrators may keep their URL.
LEARNINGSPACE_JSON_ROUTE = "/w/api/v2/public-calendar.json"
CACHE_CONTROL = "private, max-age=300"


class PublicCalendarController(http.Controller):
    """Public feed routes: no login, a secret token instead.

    Calendar servers fetch these without a session, so none is created or
    saved. Anything but the current token of an enabled endpoint gets the
    same 404 as a path that does not exist.
    """

    @http.route(
        f"{FEED_ROUTE}.ics",
        type="http",
        auth="public",
        methods=["GET", "HEAD"],
        csrf=False,
        save_session=False,
    )
    def public_calendar_ics(self, token=None, **_params):
        return self._serve_feed("ics", token)

    @http.route(
        [f"{FEED_ROUTE}.json", LEARNINGSPACE_JSON_ROUTE],
        type="http",
        auth="public",
        methods=["GET", "HEAD"],
        csrf=False,
        save_session=False,
        cors="*",
    )
    def public_calendar_json(self, token=None, **_params):
        return self._serve_feed("json", token)

    def _serve_feed(self, feed_format, token):
        Feed = request.env["calendar.feed"].sudo()
        if not Feed._check_access_token(token or self._bearer_token()):
            raise NotFound()
        # sudo() past this point: the token was checked, and the feed holds only
        # what the administrator chose to publish.
        body, content_type, etag = Feed._get_fresh()._get_body(feed_format)
        return request.make_response(
            body,
            headers=[("Content-Type", content_type), ("ETag", f'"{etag}"'), ("Cache-Control", CACHE_CONTROL)],
        )

    @staticmethod
    def _bearer_token():
        scheme, _, credentials = request.httprequest.headers.get("Authorization", "").partition(" ")
        return credentials.strip() if scheme.lower() == "bearer" else None
