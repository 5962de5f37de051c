"""Change webhooks in the Standard Webhooks form (standardwebhooks.com).

A message is a JSON body signed with HMAC-SHA256 over ``{id}.{timestamp}.{body}``
with the secret's decoded bytes, sent with the ``webhook-id``,
``webhook-timestamp`` and ``webhook-signature`` headers, so that receivers
verify it with the published libraries (Svix's, ``standardwebhooks``) or ten
lines of their own. Delivery is plain ``requests`` in a thread given a hard
deadline (requests' timeout bounds each read, not a receiver that trickles),
no redirect followed, no proxy or ``.netrc`` of the server's environment, and
at most a few kilobytes of the answer read, undecoded: a receiver's answer is
as untrusted as any input.
"""

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import requests

from .deadline import call_within
from .remote import check_url  # noqa: F401 (webhook URLs are checked as every remote URL)
from .translatable import _lt

SECRET_PREFIX = "whsec_"  # noqa: S105 (the form of secrets, not one)
SECRET_BYTES = 32
TIMEOUT_SECONDS = 10
#: Of a receiver's answer only this much is read (and kept, for the delivery log).
MAX_ANSWER_BYTES = 4096
#: Waits before each retry of a failed message: the first at once (a cron trigger for "now" is
#: notified, while one a few seconds ahead waits for the workers' next poll, up to a minute and
#: more), then longer, in all under 24 hours; after the last, the webhook is failing until the
#: next change.
RETRY_DELAYS = (
    timedelta(0),
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=1),
    timedelta(hours=3),
    timedelta(hours=6),
    timedelta(hours=12),
)
#: Over this many changed bookings a message says ``truncated`` and the receiver pulls the rest.
MAX_CHANGES = 500
USER_AGENT = "external_calendar_api-webhooks/1"
# Shown to administrators, translated where shown.
NO_COMPLETE_ANSWER = _lt("no complete answer within %(seconds)s s")
REDIRECT_NOT_FOLLOWED = _lt("redirects are not followed; give the final URL")


def generate_secret() -> str:
    """A new secret: ``whsec_`` and the base64 of 32 random bytes (the spec asks at least 24)."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def secret_key(secret: str) -> bytes:
    """The bytes a secret stands for; ValueError unless it is ``whsec_`` and base64 of 24 bytes or more."""
    try:
        key = base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("not base64 after whsec_") from None
    if not secret.startswith(SECRET_PREFIX) or len(key) < 24:
        raise ValueError("a secret is whsec_ and the base64 of at least 24 bytes")
    return key


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` header of a message: ``v1,`` and the base64 of its HMAC-SHA256."""
    key = secret_key(secret)
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def message_body(message_type: str, data: dict | bytes, now: datetime) -> bytes:
    """``{"type", "timestamp", "data"}`` as compact UTF-8 JSON; ``data`` may be a JSON document
    already made (the feed's delta, assembled from stored texts), which goes in as it is."""
    timestamp = now.astimezone(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
    if isinstance(data, dict):
        data = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
    envelope = json.dumps({"type": message_type, "timestamp": timestamp}, separators=(",", ":")).encode()
    return envelope[:-1] + b',"data":' + data + b"}"


@dataclass(frozen=True)
class Delivery:
    """What became of one attempt: the answer's status (None if there was none), time, error.

    The error is an English template and its values, so that the addon shows it translated
    (:meth:`describe`); ``error`` is the English text.
    """

    status_code: int | None
    duration: float
    error_template: str = ""
    error_values: tuple[tuple[str, object], ...] = ()

    @property
    def error(self) -> str:
        return self.describe()

    def describe(self, translate=str) -> str:
        """The error in the language of ``translate`` (a gettext-like function), or English."""
        return translate(self.error_template) % dict(self.error_values) if self.error_template else ""

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    @property
    def gone(self) -> bool:
        """The receiver answered 410 Gone: it wants no more messages."""
        return self.status_code == 410


def deliver(url, secret, message_id, body, *, deadline=TIMEOUT_SECONDS) -> Delivery:
    """POST one signed message, timestamped now; never raises, never takes much over ``deadline``.

    Errors are kept short and without the URL, whose query may hold a credential.
    """
    started = time.monotonic()
    # A receiver that trickles keeps only a daemon thread, not the caller.
    finished, outcome = call_within(deadline + 1, lambda: _post(url, secret, message_id, body, deadline))
    if not finished:
        values = (("seconds", deadline),)
        return Delivery(None, time.monotonic() - started, NO_COMPLETE_ANSWER, values)
    status, template, values = outcome
    return Delivery(status, time.monotonic() - started, template, values)


def _post(url, secret, message_id, body, timeout):
    """``(status or None, error template, its values)`` of one POST."""
    try:
        timestamp = int(time.time())
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "Accept-Encoding": "identity",  # a compressed answer could inflate a thousandfold
            "webhook-id": message_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(secret, message_id, timestamp, body),
        }
        with requests.Session() as session:
            session.trust_env = False  # no proxy settings or .netrc credentials of the server's
            with session.post(
                url, data=body, headers=headers, timeout=timeout, allow_redirects=False, stream=True
            ) as response:
                answer = response.raw.read(MAX_ANSWER_BYTES, decode_content=False)
                status = response.status_code
    except Exception as error:  # whatever the network, the receiver or the URL does
        return None, "%(error)s", (("error", type(error).__name__),)
    if 200 <= status < 300:
        return status, "", ()
    if 300 <= status < 400:
        return status, REDIRECT_NOT_FOLLOWED, ()
    # The receiver's own words as they are, else the bare status.
    said = answer.decode("utf-8", "replace")[:500] or f"HTTP {status}"
    return status, "%(answer)s", (("answer", said),)
