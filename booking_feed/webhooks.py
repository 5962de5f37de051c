"""Change webhooks in the Standard Webhooks form (standardwebhooks.com).

A message is a JSON body signed with HMAC-SHA256 over ``{id}.{timestamp}.{body}``
with the secret's decoded bytes, sent with the ``webhook-id``,
``webhook-timestamp`` and ``webhook-signature`` headers, so that receivers
verify it with the published libraries (Svix's, ``standardwebhooks``) or ten
lines of their own. Delivery is plain ``requests``: a timeout, no redirect
followed, and at most a few kilobytes of the answer read, since a receiver's
answer is as untrusted as any input.
"""

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import requests

SECRET_PREFIX = "whsec_"  # noqa: S105 (the form of secrets, not one)
SECRET_BYTES = 32
TIMEOUT_SECONDS = 10
#: Of a receiver's answer only this much is read (and kept, for the delivery log).
MAX_ANSWER_BYTES = 4096
#: Waits before each retry of a failed message: the first within a minute, then longer, in all
#: under 24 hours; after the last, the webhook is failing until the next change.
RETRY_DELAYS = tuple(
    timedelta(**delay)
    for delay in ({"seconds": 30}, {"minutes": 2}, {"minutes": 10}, {"minutes": 30}, {"hours": 1},
                  {"hours": 3}, {"hours": 6}, {"hours": 12})
)  # fmt: skip
#: Over this many changed bookings a message says ``truncated`` and the receiver pulls the rest.
MAX_CHANGES = 500
USER_AGENT = "external_calendar_api-webhooks/1"


def generate_secret() -> str:
    """A new secret: ``whsec_`` and the base64 of 32 random bytes (the spec asks at least 24)."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` header of a message: ``v1,`` and the base64 of its HMAC-SHA256."""
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def check_url(url: str) -> str | None:
    """Why ``url`` cannot receive webhooks, or None: http or https, with a host, no credentials."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises on a port that is not a number)
    except ValueError:
        return "not a URL"
    if parts.scheme not in ("http", "https"):
        return "only http and https URLs receive webhooks"
    if not parts.hostname:
        return "the URL has no host"
    if parts.username or parts.password:
        return "credentials do not belong in the URL"
    return None


def message_body(message_type: str, data: dict, now: datetime) -> bytes:
    """``{"type", "timestamp", "data"}`` as compact UTF-8 JSON."""
    timestamp = now.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    return json.dumps(
        {"type": message_type, "timestamp": timestamp, "data": data},
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode()


@dataclass(frozen=True)
class Delivery:
    """What became of one attempt: the answer's status (None if there was none), time, error."""

    status_code: int | None
    duration: float
    error: str = ""

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    @property
    def gone(self) -> bool:
        """The receiver answered 410 Gone: it wants no more messages."""
        return self.status_code == 410


def deliver(url, secret, message_id, body, *, now=None, timeout=TIMEOUT_SECONDS) -> Delivery:
    """POST one signed message; never raises for what the network or the receiver does."""
    timestamp = int((now or datetime.now(UTC)).timestamp())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, message_id, timestamp, body),
    }
    started = time.monotonic()
    try:
        with requests.post(
            url, data=body, headers=headers, timeout=timeout, allow_redirects=False, stream=True
        ) as response:
            answer = response.raw.read(MAX_ANSWER_BYTES, decode_content=True)
            status = response.status_code
    except requests.RequestException as error:
        return Delivery(None, time.monotonic() - started, f"{type(error).__name__}: {error}"[:500])
    error = ""
    if not 200 <= status < 300:
        error = answer.decode("utf-8", "replace")[:500] or f"HTTP {status}"
        if 300 <= status < 400:
            error = "redirects are not followed; give the final URL"
    return Delivery(status, time.monotonic() - started, error)
