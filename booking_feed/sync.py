"""Opaque sync tokens and paging cursors of the JSON feed.

Both carry the feed's change stamp (a number that grows with every build
that changed something) and a signature of the filters they were issued
for, so a token reused with other filters is refused instead of silently
giving a wrong delta. They are base64url JSON: opaque to clients, but not
secret, and checked on the way in.
"""

import base64
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from .api import FeedError
from .query import QueryError, checked_values, whole_number

TOKEN_VERSION = 1
#: Stamps and ids are PostgreSQL integers: a token claiming more was not issued here.
MAX_NUMBER = 2**31 - 1
_CURSOR_START_FORMAT = "%Y-%m-%d %H:%M:%S"


class SyncTokenExpired(FeedError):
    """The sync token predates deletions the feed has forgotten, or postdates the feed (a database
    restored from a backup): a full sync is needed."""

    status = 410
    code = "sync_token_expired"

    def __init__(self):
        super().__init__(
            "since: this sync token is too old or not from this database; do a full sync without since"
        )


def filter_signature(query_items) -> str:
    """A short digest of the filters (``(name, values)`` pairs) a token is bound to."""
    canonical = json.dumps(sorted((name, sorted(values)) for name, values in query_items))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def check_sync_token(stamp: int, floor: int, latest: int) -> None:
    """Refuse a token older than the forgotten deletions (``floor``) or newer than the feed (``latest``):
    after a restore from a backup, stamps are issued again, and such a token would miss their changes
    (while it is newer; once the feed passes it, nothing tells them apart)."""
    if not floor <= stamp <= latest:
        raise SyncTokenExpired()


def _encode(payload: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode().rstrip("=")


def _not_issued(name):
    return QueryError(f"{name}: not a {name} this API issued; start again without it")


def _decode(name, text, signature):
    try:
        padded = text + "=" * (-len(text) % 4)
        payload = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, RecursionError):
        raise _not_issued(name) from None
    if not isinstance(payload, dict) or payload.get("v") != TOKEN_VERSION:
        raise _not_issued(name)
    if payload.get("f") != signature:
        raise QueryError(f"{name}: issued for other filters; use the same filters, or start again without it")
    return payload


def _number(value, name, *, optional=False):
    """``value`` if it is a stamp or id this API could have issued."""
    if optional and value is None:
        return None
    if type(value) is not int or not 0 <= value <= MAX_NUMBER:
        raise _not_issued(name)
    return value


def encode_sync_token(stamp: int, signature: str) -> str:
    return _encode({"v": TOKEN_VERSION, "s": stamp, "f": signature})


def decode_sync_token(text: str, signature: str) -> int:
    return _number(_decode("since", text, signature).get("s"), "since")


@dataclass(frozen=True)
class Cursor:
    """Where the next page starts, and the snapshot the paging is reading."""

    stamp: int
    after_start: str
    after_id: int
    since: int | None = None

    def encode(self, signature: str) -> str:
        return _encode(
            {
                "v": TOKEN_VERSION,
                "s": self.stamp,
                "a": [self.after_start, self.after_id],
                "n": self.since,
                "f": signature,
            }
        )

    @classmethod
    def decode(cls, text: str, signature: str) -> "Cursor":
        payload = _decode("cursor", text, signature)
        after = payload.get("a")
        if not (isinstance(after, list) and len(after) == 2 and isinstance(after[0], str)):
            raise _not_issued("cursor")
        try:
            datetime.strptime(after[0], _CURSOR_START_FORMAT)
        except ValueError:
            raise _not_issued("cursor") from None
        return cls(
            _number(payload.get("s"), "cursor"),
            after[0],
            _number(after[1], "cursor"),
            _number(payload.get("n"), "cursor", optional=True),
        )


@dataclass(frozen=True)
class Paging:
    """``limit``, ``cursor`` and ``since`` of a JSON request, checked."""

    limit: int
    cursor: Cursor | None = None
    since: int | None = None


def parse_paging(params, signature, *, default_limit, max_limit) -> Paging:
    """Read ``limit``, ``cursor`` and ``since`` (name -> list of values).

    Without ``limit`` the answer has ``default_limit`` events; 0 means all.
    """
    limit = whole_number(params, "limit", lowest=1, highest=max_limit, default=default_limit)
    cursors, sinces = (checked_values(params, name) for name in ("cursor", "since"))
    cursor = Cursor.decode(cursors[0], signature) if cursors and cursors[0] else None
    since = decode_sync_token(sinces[0], signature) if sinces and sinces[0] else None
    if cursor and cursor.since != since:
        raise QueryError("cursor: belongs to a request with another since; repeat that request's since")
    return Paging(limit=limit, cursor=cursor, since=since)
