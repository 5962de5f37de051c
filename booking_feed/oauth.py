"""OAuth 2.0 for push targets that take a bearer token (Google's CalDAV API): RFC 6749.

Only the client's two token requests, a few lines each over :mod:`.remote`
(hard deadline, bounded answer, no redirect to another host): redeem the
code the consent screen returned (4.1.3) and refresh the access token
(6). A dependency on an OAuth library would buy nothing more for these;
the tests check them against a token endpoint built on oauthlib.
"""

import json
from dataclasses import dataclass
from urllib.parse import quote, urlencode

from .remote import Problem, exchange
from .translatable import _lt

GOOGLE_AUTHORIZE_URL = "https://accounts.google.com/o/oauth2/v2/auth"
GOOGLE_TOKEN_URL = "https://oauth2.googleapis.com/token"  # noqa: S105 (an address, not a secret)
GOOGLE_SCOPE = "https://www.googleapis.com/auth/calendar"
DEADLINE = 20
MAX_ANSWER_BYTES = 64 * 1024
TOKEN_REFUSED = _lt("the token endpoint refused: %(error)s")
NOT_CONNECTED = _lt("connect the account first (or paste a refresh token)")
NOT_A_TOKEN = _lt("the token endpoint's answer holds no access token (HTTP %(status)s)")


@dataclass(frozen=True)
class Token:
    """An access token, its lifetime in seconds, and a new refresh token if one came with it."""

    access_token: str
    expires_in: int
    refresh_token: str | None = None


def google_calendar_url(calendar_id: str) -> str:
    """The CalDAV collection of a Google calendar: ``primary``, an address, or an id such as
    ``…@group.calendar.google.com`` (Google Calendar > Settings > Integrate calendar)."""
    return f"https://apidata.googleusercontent.com/caldav/v2/{quote(calendar_id.strip(), safe='@')}/events/"


def consent_url(authorize_url, client_id, redirect_uri, state, scope=GOOGLE_SCOPE) -> str:
    """Where the administrator consents; ``offline`` and ``consent`` so that a refresh token comes back."""
    query = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "scope": scope,
        "state": state,
        "access_type": "offline",
        "prompt": "consent",
    }
    return f"{authorize_url}{'&' if '?' in authorize_url else '?'}{urlencode(query)}"


def redeem_code(session, token_url, client_id, client_secret, *, code, redirect_uri):
    """``(Token, None)`` for the code of the consent screen, or ``(None, Problem)``."""
    grant = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
    return _token_request(session, token_url, client_id, client_secret, grant)


def refresh(session, token_url, client_id, client_secret, *, refresh_token):
    """``(Token, None)``: a new access token for the refresh token, or ``(None, Problem)``."""
    grant = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    return _token_request(session, token_url, client_id, client_secret, grant)


def _token_request(session, token_url, client_id, client_secret, grant):
    body = urlencode({**grant, "client_id": client_id, "client_secret": client_secret}).encode()
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}
    answer = exchange(
        session, "POST", token_url, headers=headers, body=body, deadline=DEADLINE, max_bytes=MAX_ANSWER_BYTES
    )
    if answer.status is None or (answer.problem and answer.status < 400):
        return None, answer.problem
    try:
        data = json.loads(answer.body)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        return None, Problem(NOT_A_TOKEN, (("status", answer.status),))
    if answer.status >= 400 or "error" in data:
        error = str(data.get("error") or f"HTTP {answer.status}")[:100]
        return None, Problem(TOKEN_REFUSED, (("error", error),))
    access_token, expires_in = data.get("access_token"), data.get("expires_in", 3600)
    if not isinstance(access_token, str) or not access_token or not isinstance(expires_in, int):
        return None, Problem(NOT_A_TOKEN, (("status", answer.status),))
    refresh_token = data.get("refresh_token")
    return Token(access_token, expires_in, refresh_token if isinstance(refresh_token, str) else None), None
