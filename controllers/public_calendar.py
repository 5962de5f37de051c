from werkzeug.exceptions import NotFound

from odoo import http
from odoo.http import request

from ..booking_feed.query import QueryError, parse_feed_query
from ..models.calendar_feed import FEED_PATH, ICS_CONTENT_TYPE, JSON_CONTENT_TYPE, REFRESH_INTERVAL

# LearningSpace spells the JSON route with a dash; integrators may keep their URL.
LEARNINGSPACE_JSON_ROUTE = "/w/api/v2/public-calendar.json"
# Private: the URL carries a secret, so shared caches must not keep it.
CACHE_CONTROL = f"private, max-age={int(REFRESH_INTERVAL.total_seconds())}"
ICS_PARAMETERS = {"token", "room", "from", "to"}


class PublicCalendarController(http.Controller):
    """Public feed routes: no login, a secret token instead.

    Calendar servers fetch these without a session, so none is created or
    saved. Anything but the current token of an enabled endpoint gets the
    same 404 as a path that does not exist.
    """

    @http.route(
        f"{FEED_PATH}.ics",
        type="http",
        auth="public",
        methods=["GET", "HEAD"],
        csrf=False,
        save_session=False,
    )
    def public_calendar_ics(self, **_params):
        feed = self._get_authorized_feed()
        settings = feed._get_settings()
        args = request.httprequest.args
        try:
            # Calendar apps may add parameters of their own: only ours are read.
            query = parse_feed_query(
                {name: args.getlist(name) for name in ICS_PARAMETERS & set(args)},
                timezone=settings["timezone"],
            )
        except QueryError as error:
            return self._bad_request(str(error))
        if unknown := feed._check_room_codes(query.room_codes):
            return self._bad_request(f"room: no published room with code {', '.join(unknown)}")
        body, etag = feed._get_ics(query)
        return self._conditional_response(body, ICS_CONTENT_TYPE, etag, feed.last_modified)

    @http.route(
        [f"{FEED_PATH}.json", LEARNINGSPACE_JSON_ROUTE],
        type="http",
        auth="public",
        methods=["GET", "HEAD"],
        csrf=False,
        save_session=False,
        cors="*",
    )
    def public_calendar_json(self, **_params):
        feed = self._get_authorized_feed()
        body, etag = feed._get_json()
        return self._conditional_response(body, JSON_CONTENT_TYPE, etag, feed.last_modified)

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

    @staticmethod
    def _conditional_response(body, content_type, etag, last_modified):
        """200 with validators, or 304 when the client's copy is current (werkzeug's rules)."""
        response = request.make_response(
            body, headers=[("Content-Type", content_type), ("Cache-Control", CACHE_CONTROL)]
        )
        response.set_etag(etag)
        response.last_modified = last_modified
        return response.make_conditional(request.httprequest)

    @staticmethod
    def _bad_request(reason):
        return request.make_response(
            reason + "\n", headers=[("Content-Type", "text/plain; charset=utf-8")], status=400
        )
