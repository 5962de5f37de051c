"""One HTTP exchange with a server we do not control (a push target, its token endpoint).

Everything a remote server sends is hostile until parsed, and a slow one
must not hold the caller: each exchange ends by a hard deadline (see
:mod:`.deadline`), reads at most ``max_bytes`` of the answer, undecoded
(``Accept-Encoding: identity``: a compressed answer could inflate a
thousandfold), ignores the proxy settings and ``.netrc`` of the server's
environment, and follows a redirect only on the same host: the credentials
go with the request, so a redirect elsewhere is reported, never followed.
Errors are plain English templates with their values, translated where
shown, and never hold the URL (its query may hold a credential).
"""

import time
from dataclasses import dataclass, field
from functools import partial
from urllib.parse import urljoin, urlsplit

import requests

from .deadline import call_within
from .translatable import _lt

MAX_REDIRECTS = 3
REDIRECTS = frozenset({301, 302, 307, 308})  # the method and body kept (303 would turn a PUT to a GET)
USER_AGENT = "external_calendar_api/1"
NOT_A_URL = _lt("not a URL")
NO_ANSWER_WITHIN = _lt("no complete answer within %(seconds)s s")
CONNECTION_FAILED = _lt("no connection to the server (%(error)s)")
ANSWER_TOO_LARGE = _lt("the server's answer is larger than %(size)s bytes")
REDIRECTED_ELSEWHERE = _lt(
    "the server redirects to another host (%(host)s); enter that address if you trust it"
)
TOO_MANY_REDIRECTS = _lt("the server redirects again and again")


@dataclass(frozen=True)
class Problem:
    """What went wrong, as an English template and its values (shown translated by :meth:`describe`)."""

    template: str
    values: tuple[tuple[str, object], ...] = ()

    def describe(self, translate=str) -> str:
        return translate(self.template) % dict(self.values)


@dataclass(frozen=True)
class Answer:
    """A server's answer: ``status`` None when there was none (``problem`` says why).

    ``headers`` have lowercase names; ``body`` is at most the bytes asked for.
    """

    status: int | None
    headers: dict = field(default_factory=dict)
    body: bytes = b""
    problem: Problem | None = None
    url: str = ""  # where it came from, after the redirects followed

    @property
    def succeeded(self) -> bool:
        return self.status is not None and 200 <= self.status < 300 and self.problem is None


def check_url(url: str) -> str | None:
    """Why ``url`` cannot be called (webhooks, push targets), or None: http or https, with a host, no
    credentials."""
    try:
        parts = urlsplit(url)
        _port = parts.port  # raises ValueError on a port that is not a number
    except ValueError:
        return NOT_A_URL
    if parts.scheme not in ("http", "https"):
        return _lt("only http and https URLs are accepted")
    if not parts.hostname:
        return _lt("the URL has no host")
    if parts.username or parts.password:
        return _lt("credentials do not belong in the URL")
    if ":" not in parts.hostname and not all(
        0 < len(label) <= 63 for label in parts.hostname.removesuffix(".").split(".")
    ):  # DNS names: labels of 1 to 63 characters (IPv6 literals have colons)
        return NOT_A_URL
    return None


def same_host(url: str, target: str) -> bool:
    """Whether a redirect from ``url`` to ``target`` stays on its host: same host and port, or the
    same host moved from http to https (never the other way)."""
    old, new = urlsplit(url), urlsplit(target)
    if (old.hostname or "").lower() != (new.hostname or "").lower() or new.username or new.password:
        return False
    if (old.scheme, new.scheme) == ("http", "https"):
        return new.port in (None, 443)
    return old.scheme == new.scheme and old.port == new.port


def exchange(session, method, url, *, headers=(), body=b"", deadline, max_bytes) -> Answer:
    """Send one request (and its same-host redirects) and read the answer; never raises, never
    takes much over ``deadline`` seconds."""
    ends_at = time.monotonic() + deadline
    request = {"headers": dict(headers), "data": body, "allow_redirects": False, "stream": True}
    for _hop in range(MAX_REDIRECTS + 1):
        left = ends_at - time.monotonic()
        send = partial(_request, session, method, url, {**request, "timeout": max(left, 0.1)}, max_bytes)
        finished, answer = call_within(left + 1, send)
        if not finished:
            return Answer(None, problem=Problem(NO_ANSWER_WITHIN, (("seconds", deadline),)))
        if answer.status not in REDIRECTS:
            return answer
        target = urljoin(url, answer.headers.get("location", ""))
        if not same_host(url, target):
            host = urlsplit(target).hostname or "?"
            problem = Problem(REDIRECTED_ELSEWHERE, (("host", host),))
            return Answer(answer.status, answer.headers, problem=problem)
        url = target
    return Answer(answer.status, answer.headers, problem=Problem(TOO_MANY_REDIRECTS))


def _request(session, method, url, request, max_bytes) -> Answer:
    request["headers"] = {"User-Agent": USER_AGENT, "Accept-Encoding": "identity", **request["headers"]}
    try:
        with session.request(method, url, **request) as response:
            data = response.raw.read(max_bytes + 1, decode_content=False)
            answer_headers = {name.lower(): value for name, value in response.headers.items()}
            status = response.status_code
    except Exception as error:  # whatever the network, the server or the URL does
        return Answer(None, problem=Problem(CONNECTION_FAILED, (("error", type(error).__name__),)))
    if len(data) > max_bytes:
        return Answer(status, answer_headers, problem=Problem(ANSWER_TOO_LARGE, (("size", max_bytes),)))
    return Answer(status, answer_headers, data, url=url)


def new_session() -> requests.Session:
    """A session that reuses connections and reads nothing of the server's environment."""
    session = requests.Session()
    session.trust_env = False  # no proxy settings or .netrc credentials of the server's
    return session
