"""An RFC 6749 authorization server for tests: the token endpoint a calendar push authenticates
against, with tokens a test can expire or revoke at will.

Built on oauthlib, so the grants, client authentication and error answers are the RFC's and not
ours; it only keeps clients, codes and tokens in memory. Imports are the standard library and
oauthlib only, so Odoo's tests and the Odoo-free ones import it alike (see ``dav_servers``).
"""

import base64
import hmac
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace
from urllib.parse import unquote_plus, urlsplit

from oauthlib.oauth2 import FatalClientError, OAuth2Error, RequestValidator, WebApplicationServer

CALENDAR_SCOPE = "https://www.googleapis.com/auth/calendar"
GRANT_TYPES = ("authorization_code", "refresh_token")
USER = "admin@example.com"  # the one resource owner, who consents to everything


class _Validator(RequestValidator):
    """One confidential client; authorization codes, refresh tokens and access tokens (with the
    ``time.monotonic()`` they expire at) in dictionaries."""

    def __init__(self, client_id, client_secret):
        super().__init__()
        self.client_id, self.client_secret = client_id, client_secret
        self.codes = {}  # code: (redirect_uri, scopes)
        self.refresh_tokens = {}  # token: scopes
        self.access_tokens = {}  # token: expiry

    def client_authentication_required(self, request, *args, **kwargs):
        return True

    def authenticate_client(self, request, *args, **kwargs):
        """HTTP Basic, or ``client_id`` and ``client_secret`` in the body (RFC 6749 2.3.1)."""
        client_id, client_secret = request.client_id, request.client_secret
        scheme, _, credentials = (request.headers.get("Authorization") or "").partition(" ")
        if scheme.lower() == "basic":
            try:
                decoded = base64.b64decode(credentials, validate=True).decode()
            except ValueError:  # not base64, or not text: no client
                return False
            client_id, _, client_secret = (unquote_plus(part) for part in decoded.partition(":"))
        if client_id != self.client_id or not hmac.compare_digest(client_secret or "", self.client_secret):
            return False
        request.client_id, request.client = client_id, SimpleNamespace(client_id=client_id)
        return True

    def validate_client_id(self, client_id, request, *args, **kwargs):
        return client_id == self.client_id

    def validate_redirect_uri(self, client_id, redirect_uri, request, *args, **kwargs):
        return True

    def get_default_redirect_uri(self, client_id, request, *args, **kwargs):
        return None

    def validate_response_type(self, client_id, response_type, client, request, *args, **kwargs):
        return response_type == "code"

    def validate_scopes(self, client_id, scopes, client, request, *args, **kwargs):
        return True

    def get_default_scopes(self, client_id, request, *args, **kwargs):
        return [CALENDAR_SCOPE]

    def save_authorization_code(self, client_id, code, request, *args, **kwargs):
        self.codes[code["code"]] = (request.redirect_uri, request.scopes)

    def validate_code(self, client_id, code, client, request, *args, **kwargs):
        if code not in self.codes:
            return False
        request.user, request.scopes = USER, self.codes[code][1]
        return True

    def confirm_redirect_uri(self, client_id, code, redirect_uri, client, request, *args, **kwargs):
        return self.codes.get(code, (None,))[0] == redirect_uri

    def invalidate_authorization_code(self, client_id, code, request, *args, **kwargs):
        self.codes.pop(code, None)

    def validate_grant_type(self, client_id, grant_type, client, request, *args, **kwargs):
        return grant_type in GRANT_TYPES

    def validate_refresh_token(self, refresh_token, client, request, *args, **kwargs):
        request.user = USER
        return refresh_token in self.refresh_tokens

    def get_original_scopes(self, refresh_token, request, *args, **kwargs):
        return self.refresh_tokens[refresh_token]

    def rotate_refresh_token(self, request):
        return False  # as Google: a refresh token lasts until revoked

    def save_bearer_token(self, token, request, *args, **kwargs):
        self.access_tokens[token["access_token"]] = time.monotonic() + token["expires_in"]
        if "refresh_token" in token:
            self.refresh_tokens[token["refresh_token"]] = request.scopes


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        self.server.owner.answer(self, b"")

    def do_POST(self):
        self.server.owner.answer(self, self.rfile.read(int(self.headers.get("Content-Length") or 0)))

    def log_message(self, *args):
        pass


class TokenEndpoint:
    """``POST /token`` (authorization_code and refresh_token grants, the client authenticated
    by HTTP Basic or in the body) and ``GET /authorize`` (consents at once: 302 to the
    redirect_uri with ``code`` and ``state``), served from a daemon thread on a free port.
    Access tokens last ``lifetime`` seconds; refresh tokens until ``revoke_refresh_tokens()``.
    ``token_requests`` counts the POSTs to ``/token``, refused ones included.
    """

    def __init__(self, client_id, client_secret, *, lifetime=3600):
        self._validator = _Validator(client_id, client_secret)
        self._oauth = WebApplicationServer(self._validator, token_expires_in=lifetime)
        self.token_requests = 0
        self._lock = threading.Lock()
        self._server = None
        self.url = self.token_url = self.authorize_url = None

    def issue_refresh_token(self):
        """A refresh token for the client, as an admin would paste it from a consent made elsewhere."""
        token = secrets.token_urlsafe(32)
        self._validator.refresh_tokens[token] = [CALENDAR_SCOPE]
        return token

    def is_valid(self, access_token):
        """Whether this endpoint issued ``access_token`` and it has not expired."""
        return self._validator.access_tokens.get(access_token, 0) > time.monotonic()

    def expire_access_tokens(self):
        for token in list(self._validator.access_tokens):
            self._validator.access_tokens[token] = 0

    def revoke_refresh_tokens(self):
        self._validator.refresh_tokens.clear()

    def answer(self, request, body):
        uri = self.url.rstrip("/") + request.path
        path = urlsplit(request.path).path
        if request.command == "POST" and path == "/token":
            with self._lock:
                self.token_requests += 1
            headers, text, status = self._oauth.create_token_response(
                uri, "POST", body.decode(), dict(request.headers)
            )
        elif request.command == "GET" and path == "/authorize":
            headers, text, status = self._authorize(uri, dict(request.headers))
        else:
            headers, text, status = {}, "Not found", 404
        payload = (text or "").encode()
        request.send_response(status)
        for name, value in {"Content-Type": "text/plain", **headers, "Content-Length": len(payload)}.items():
            request.send_header(name, str(value))
        request.end_headers()
        request.wfile.write(payload)

    def _authorize(self, uri, headers):
        try:
            scopes, _request_info = self._oauth.validate_authorization_request(uri, "GET", None, headers)
            return self._oauth.create_authorization_response(
                uri, "GET", None, headers, scopes, {"user": USER}
            )
        except FatalClientError as error:  # no client or redirect_uri to send the error to
            return {"Content-Type": "application/json"}, error.json, error.status_code
        except OAuth2Error as error:
            return {"Location": error.in_uri(error.redirect_uri)}, None, 302

    def start(self):
        if self._server is not None:
            return
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads, self._server.owner = True, self
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/"
        self.token_url, self.authorize_url = f"{self.url}token", f"{self.url}authorize"
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()

    def stop(self):
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc_info):
        self.stop()
