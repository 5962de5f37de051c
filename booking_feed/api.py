"""The public surface of the feeds: paths, the parameters of each route, answers and errors.

A request is answered by one of the addon's front ends with an
:class:`Answer`, plain data that the controller turns into an HTTP response;
a bad request raises a :class:`FeedError`, which becomes an answer too, JSON
on JSON routes and one line of text on the ICS route. Declared here, once,
for the controller, the service and the tests.
"""

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import partial
from urllib.parse import quote

from .encoding import COMPRESS_ON_THE_FLY_FROM, GZIP, gzip_chunks
from .settings import REFRESH_INTERVAL

FEED_PATH = "/w/api/v2/public_calendar"
#: The ICS for people who import the file by hand: it also carries cancellations.
IMPORT_PATH = f"{FEED_PATH}/import.ics"
#: LearningSpace spells the JSON route with a dash; integrators may keep their URL.
LEARNINGSPACE_JSON_PATH = "/w/api/v2/public-calendar.json"
OPENAPI_PATH = "/w/api/v2/openapi.yml"
DISPLAY_PATH = "/w/display"

ICS_CONTENT_TYPE = "text/calendar; charset=utf-8"
JSON_CONTENT_TYPE = "application/json; charset=utf-8"
TEXT_CONTENT_TYPE = "text/plain; charset=utf-8"
YAML_CONTENT_TYPE = "application/yaml; charset=utf-8"
#: Private: the URL carries a secret, so shared caches must not keep it.
CACHE_CONTROL = f"private, max-age={int(REFRESH_INTERVAL.total_seconds())}"
#: The headers of every answer with data: the feeds' caching rule.
DATA_HEADERS = (("Cache-Control", CACHE_CONTROL),)
RETRY_AFTER_SECONDS = 60

#: Parameters that select events; sync tokens and cursors are bound to them.
FILTER_PARAMETERS = ("room", "from", "to", "q", "status")


@dataclass(frozen=True)
class Route:
    """What a route reads from the query string.

    ``parameters`` are refused when unknown; the ICS route instead ignores
    what it does not read, as calendar apps add parameters of their own.
    A route that ``needs_build`` answers 503 until the feed is first built;
    one that ``reads_token`` gets the ``token`` parameter with the others.
    ``front_end`` names the Odoo model whose ``_answer_<route>`` answers it.
    """

    parameters: frozenset[str]
    is_json: bool = True
    ignores_unknown: bool = False
    needs_build: bool = True
    reads_token: bool = False
    front_end: str = "calendar.feed.query"


#: The front end of free/busy time and the room finder.
FREE_BUSY = "calendar.feed.freebusy"
ROUTES = {
    "ics": Route(frozenset({"room", "from", "to"}), is_json=False, ignores_unknown=True),
    "import": Route(frozenset({"room"}), is_json=False, ignores_unknown=True),
    "events": Route(frozenset({"token", *FILTER_PARAMETERS, "limit", "cursor", "since"})),
    "rooms": Route(frozenset({"token", "from", "to"})),
    "next": Route(frozenset({"token", "q", "room", "limit"})),
    "freebusy": Route(
        frozenset({"room", "from", "to"}), is_json=False, ignores_unknown=True, front_end=FREE_BUSY
    ),
    "free": Route(frozenset({"token", "from", "to", "minutes", "capacity", "room"}), front_end=FREE_BUSY),
    # The page reads the feed itself, and waits for its first build by itself.
    "display": Route(
        frozenset({"token", "room", "refresh", "theme"}), is_json=False, needs_build=False, reads_token=True
    ),
}


class FeedError(Exception):
    """A request the feed cannot answer with data; the message is for the caller."""

    status = 400
    code = "bad_request"
    headers: tuple[tuple[str, str], ...] = ()


class NotBuiltYet(FeedError):
    """No build has succeeded yet: nothing to serve, ask again soon."""

    status = 503
    code = "not_built_yet"
    headers = (("Retry-After", str(RETRY_AFTER_SECONDS)),)

    def __init__(self):
        super().__init__("The calendar feed has not been built yet; try again in a minute.")


@dataclass(frozen=True)
class Answer:
    """An HTTP answer as plain data.

    ``body`` may be a function, so that a 304 is decided from ``etag`` and
    ``last_modified`` before a stored body is read; it may return the body
    as a list of chunks, sent one after the other (a stored body's
    segments: never joined into one more copy). ``stored_gzip`` reads the
    same body compressed at build time, where there is one.
    """

    content_type: str
    body: bytes | Callable[[], bytes | list[bytes]]
    status: int = 200
    etag: str | None = None
    last_modified: datetime | None = None
    headers: tuple[tuple[str, str], ...] = field(default=())
    stored_gzip: Callable[[], bytes] | None = None
    #: The named key the answer is for, None for the main link (usage log).
    key_id: int | None = None

    # A dataclass, not an Odoo model.
    def chunks(self) -> list[bytes]:
        """The body as chunks to send in order."""
        body = self.body() if callable(self.body) else self.body
        if isinstance(body, list):
            return body
        if not isinstance(body, bytes):  # a str would be sent character by character
            raise TypeError(f"an answer's body is bytes or a list of bytes, not {type(body).__name__}")
        return [body]

    def read(self) -> bytes:  # pylint: disable=method-required-super
        chunks = self.chunks()
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)

    def encoded(self, encoding: str) -> "Answer":
        """This answer in ``encoding`` (from :func:`~.encoding.choose_encoding`).

        A stored body is sent as compressed at build time; another one is
        compressed now if it is large enough for that to pay. Each coding
        has its own ETag (RFC 9110), and every answer with data says that
        it varies with Accept-Encoding, so no cache serves gzip to a client
        that did not ask for it. Errors are sent as they are.
        """
        if self.status != 200:
            return self
        plain = replace(self, headers=(*self.headers, ("Vary", "Accept-Encoding")), stored_gzip=None)
        if encoding != GZIP:
            return plain
        if self.stored_gzip:
            body = self.stored_gzip
        elif callable(self.body):  # made only if sent: compressed whatever its size, a 304 makes none
            body = partial(_gzipped, self)
        elif len(body := self.read()) >= COMPRESS_ON_THE_FLY_FROM:
            body = gzip_chunks([body])
        else:
            return plain
        # The same zlib makes the same bytes of the same body, so the tag stays strong; servers
        # with different zlib builds behind one proxy could differ, which matters only for Range.
        headers = (*plain.headers, ("Content-Encoding", GZIP))
        return replace(plain, body=body, etag=f"{self.etag}-{GZIP}", headers=headers)


def _gzipped(answer):
    return gzip_chunks(answer.chunks())


def lazy_answer(content_type, make_body, etag) -> Answer:
    """A 200 whose body ``make_body()`` is made only when sent: a 304 is decided from ``etag``, which
    the caller knows beforehand. No Last-Modified: the ETag says more than the feed's date."""
    return Answer(content_type, make_body, etag=etag, headers=DATA_HEADERS)


def attachment_disposition(name: str, extension: str) -> str:
    """``Content-Disposition`` of a download named after ``name`` (RFC 6266: ASCII, then UTF-8)."""
    ascii_name = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.") or "calendar"
    return f"attachment; filename=\"{ascii_name}.{extension}\"; filename*=UTF-8''{quote(name)}.{extension}"


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, else None."""
    scheme, _, credentials = (authorization or "").strip().partition(" ")
    return credentials.strip() or None if scheme.lower() == "bearer" else None


def body_etag(body: bytes) -> str:
    """The strong ETag of a body: the same bytes always get the same tag."""
    return hashlib.sha256(body).hexdigest()[:32]


def data_answer(content_type, body, last_modified) -> Answer:
    """A 200 with validators and the feeds' caching rule; ``body`` is bytes here."""
    return Answer(content_type, body, etag=body_etag(body), last_modified=last_modified, headers=DATA_HEADERS)


def error_answer(error: FeedError, *, as_json: bool) -> Answer:
    """``{"error": {"code", "message"}}`` on JSON routes, the message as a line of text elsewhere."""
    if as_json:
        body = json.dumps({"error": {"code": error.code, "message": str(error)}}).encode()
        return Answer(JSON_CONTENT_TYPE, body, status=error.status, headers=error.headers)
    return Answer(TEXT_CONTENT_TYPE, f"{error}\n".encode(), status=error.status, headers=error.headers)
