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

from .query import QueryError

TOKEN_VERSION = 1


def filter_signature(query_items) -> str:
    """A short digest of the filters (``(name, values)`` pairs) a token is bound to."""
    canonical = json.dumps(sorted((name, sorted(values)) for name, values in query_items))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def _encode(payload: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode().rstrip("=")


def _decode(name, text, signature):
    try:
        padded = text + "=" * (-len(text) % 4)
        payload = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(payload, dict) or payload.get("v") != TOKEN_VERSION:
            raise ValueError
    except ValueError:
        raise QueryError(f"{name}: not a {name} this API issued; start again without it") from None
    if payload.get("f") != signature:
        raise QueryError(f"{name}: issued for other filters; use the same filters, or start again without it")
    return payload


def encode_sync_token(stamp: int, signature: str) -> str:
    return _encode({"v": TOKEN_VERSION, "s": stamp, "f": signature})


def decode_sync_token(text: str, signature: str) -> int:
    payload = _decode("since", text, signature)
    if not isinstance(payload.get("s"), int):
        raise QueryError("since: not a since this API issued; start again without it")
    return payload["s"]


@dataclass(frozen=True)
class Cursor:
    """Where the next page starts, and the snapshot the paging is reading."""

    stamp: int
    after_start: str
    after_id: int
    since: int | None = None

    def encode(self, signature: str) -> str:
        return _encode(
            {"v": TOKEN_VERSION, "s": self.stamp, "a": [self.after_start, self.after_id], "n": self.since,
             "f": signature}
        )  # fmt: skip

    @classmethod
    def decode(cls, text: str, signature: str) -> "Cursor":
        payload = _decode("cursor", text, signature)
        try:
            after_start, after_id = payload["a"]
            return cls(int(payload["s"]), str(after_start), int(after_id), payload.get("n"))
        except (KeyError, TypeError, ValueError):
            raise QueryError("cursor: not a cursor this API issued; start again without it") from None


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
    for name in ("limit", "cursor", "since"):
        if len(params.get(name, [])) > 1:
            raise QueryError(f"{name}: given {len(params[name])} times")
    limit_text = params["limit"][0] if params.get("limit") else str(default_limit)
    if "limit" in params and not (limit_text.isdigit() and 1 <= int(limit_text) <= max_limit):
        raise QueryError(f"limit: {limit_text!r} is not a whole number from 1 to {max_limit}")
    cursor = Cursor.decode(params["cursor"][0], signature) if params.get("cursor") else None
    since = decode_sync_token(params["since"][0], signature) if params.get("since") else None
    if cursor and cursor.since != since:
        raise QueryError("cursor: belongs to a request with another since; repeat that request's since")
    return Paging(limit=int(limit_text), cursor=cursor, since=since)
