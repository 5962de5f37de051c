from werkzeug.exceptions import NotFound

from odoo import http
from odoo.http import request

from ..models.calendar_feed_push_oauth_mixin import CONSENT_PATH


class PushConsent(http.Controller):
    @http.route(CONSENT_PATH, type="http", auth="user", methods=["GET"])
    def push_consent(self, state=None, code=None, **_params):
        """Where the OAuth consent screen sends the administrator back (with a code, or an error)."""
        push = request.env["calendar.feed.push"]._redeem_consent(state, code)
        if not push:
            raise NotFound()
        return request.redirect(f"/odoo/action-external_calendar_api.calendar_feed_push_action/{push.id}")
