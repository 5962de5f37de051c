import base64
import secrets
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import consteq

from ..booking_feed.oauth import (
    GOOGLE_AUTHORIZE_URL,
    GOOGLE_TOKEN_URL,
    NOT_CONNECTED,
    consent_url,
    redeem_code,
    refresh,
)
from ..booking_feed.remote import Problem, new_session

#: Fields only Settings administrators read, never copied with a record nor exported.
SECRET = {"groups": "base.group_system", "copy": False, "exportable": False}
#: An access token this close to its expiry is refreshed first.
TOKEN_MARGIN = timedelta(minutes=2)
#: Where the consent screen sends the administrator back.
CONSENT_PATH = "/external_calendar_api/push/consent"


class CalendarFeedPushOauthMixin(models.AbstractModel):
    """How a push target authenticates: HTTP Basic, or an OAuth 2.0 bearer token (RFC 6749).

    For OAuth, the administrator either pastes a refresh token or clicks
    Connect: the consent screen comes back to :data:`CONSENT_PATH` with a
    code, redeemed for a refresh token. The ``state`` it carries is random,
    single-use and compared in constant time, so nobody else's code (an
    attacker's account) can be bound to a target.
    """

    _name = "calendar.feed.push.oauth.mixin"
    _description = "External Calendar Push Authentication"

    oauth_client_id = fields.Char("OAuth Client ID")
    oauth_client_secret = fields.Char("OAuth Client Secret", **SECRET)
    oauth_refresh_token = fields.Char(
        "Refresh Token", help="Given by Connect, or pasted from another tool.", **SECRET
    )
    oauth_access_token = fields.Char("Access Token", readonly=True, **SECRET)
    oauth_expires_at = fields.Datetime("Access Token Expiry", readonly=True, copy=False)
    oauth_authorize_url = fields.Char("Consent URL", default=GOOGLE_AUTHORIZE_URL)
    oauth_token_url = fields.Char("Token URL", default=GOOGLE_TOKEN_URL)
    oauth_state = fields.Char("Consent State", readonly=True, **SECRET)

    def action_connect(self):
        """Open the provider's consent screen; it comes back to :data:`CONSENT_PATH`."""
        self.ensure_one()
        push = self.sudo()
        if not (push.oauth_client_id and push.oauth_client_secret):
            raise UserError(self.env._("Enter the OAuth client ID and secret first."))
        state = f"{self.id}.{secrets.token_urlsafe(32)}"
        super(CalendarFeedPushOauthMixin, push).write({"oauth_state": state})
        url = consent_url(push.oauth_authorize_url, push.oauth_client_id, self._consent_redirect_uri(), state)
        return {"type": "ir.actions.act_url", "url": url, "target": "self"}

    @api.model
    def _consent_redirect_uri(self):
        return self.env["ir.config_parameter"].sudo().get_param("web.base.url", "").rstrip("/") + CONSENT_PATH

    @api.model
    def _redeem_consent(self, state, code):
        """Keep the refresh token the consent screen's ``code`` gives; the target ``state`` names,
        or an empty recordset when ``state`` is not the one Connect made. For Settings
        administrators only, as the targets are."""
        self.check_access("write")
        push_id, _dot, _nonce = (state or "").partition(".")
        push = self.browse(int(push_id)).exists().sudo() if push_id.isdigit() and len(push_id) < 10 else self
        if not (push and push.oauth_state and consteq(state, push.oauth_state)):
            return self.browse()
        token, problem = redeem_code(
            new_session(),
            push.oauth_token_url,
            push.oauth_client_id,
            push.oauth_client_secret,
            code=code or "",
            redirect_uri=self._consent_redirect_uri(),
        )
        # Written after the request, so that no row is locked during it; the state is used once.
        super(CalendarFeedPushOauthMixin, push).write({"oauth_state": False})
        if problem:
            push.write({"state": "failing", "last_error": problem.describe(self.env._)})
        else:
            push.write(
                {
                    "oauth_refresh_token": token.refresh_token or push.oauth_refresh_token,
                    "oauth_access_token": token.access_token,
                    "oauth_expires_at": fields.Datetime.now() + timedelta(seconds=token.expires_in),
                }
            )
        return push.with_env(self.env)

    def _authorization(self):
        """``(Authorization header value, None)``, or ``(None, Problem)`` when a token could not be had.

        An access token about to expire is refreshed first (a request to the
        token endpoint, made with nothing written yet).
        """
        self.ensure_one()
        push = self.sudo()
        if push.auth == "basic":
            if not push.username:
                return None, None
            secret = f"{push.username}:{push.password or ''}".encode()
            return "Basic " + base64.b64encode(secret).decode(), None
        now = fields.Datetime.now()
        if push.oauth_access_token and push.oauth_expires_at and push.oauth_expires_at - TOKEN_MARGIN > now:
            return "Bearer " + push.oauth_access_token, None
        if not push.oauth_refresh_token:
            return None, Problem(NOT_CONNECTED)
        request = (push.oauth_token_url, push.oauth_client_id, push.oauth_client_secret)
        refresh_token = push.oauth_refresh_token
        self.env["calendar.feed"]._commit_in_cron()  # nothing open during the token request
        token, problem = refresh(new_session(), *request, refresh_token=refresh_token)
        if problem:
            return None, problem
        values = {
            "oauth_access_token": token.access_token,
            "oauth_expires_at": now + timedelta(seconds=token.expires_in),
        }
        if token.refresh_token:
            values["oauth_refresh_token"] = token.refresh_token
        super(CalendarFeedPushOauthMixin, push).write(values)  # not a change of the connection
        return "Bearer " + token.access_token, None
