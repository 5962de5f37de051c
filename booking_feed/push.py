"""What a push target does with each answer of its remote calendar.

The rules, apart from the HTTP (:mod:`.caldav_client`) and from Odoo: which
answers mean done, which mean "re-read and overwrite" (Odoo wins over an
edit made in the remote calendar), which stop the target until its
credentials change, and how long to wait before trying again.
"""

import enum
import math
import time
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from typing import NamedTuple

from .remote import Answer, Problem
from .translatable import _lt

#: Waits after failures in a row: one minute, doubled each time, at most an hour.
FIRST_RETRY = timedelta(minutes=1)
LONGEST_RETRY = timedelta(hours=1)
#: A target failing on its credentials tries again this often, or as soon as they change.
CREDENTIALS_RETRY = timedelta(hours=1)

REFUSED_CREDENTIALS = _lt("the server refused the credentials (HTTP %(status)s)")
MAY_NOT_WRITE = _lt("the account may not write to this calendar (HTTP %(status)s)")
CALENDAR_NOT_FOUND = _lt("calendar not found at this URL (HTTP %(status)s)")
SLOW_DOWN = _lt("the server asks to slow down (HTTP %(status)s)")
SERVER_FAILED = _lt("the server failed (HTTP %(status)s)")
REFUSED_BOOKING = _lt("the server refused this booking (HTTP %(status)s): %(answer)s")


class Work(NamedTuple):
    """One request a push target owes its remote calendar: write the published object of entry
    ``entry_id`` (``etag`` is its stored ETag), or delete the booking's object (``entry_id`` None).
    ``href`` and ``remote_etag`` are where and what it was written last, if it was."""

    event_id: int
    entry_id: int | None
    uid: str | None
    etag: str | None
    href: str | None
    remote_etag: str | None


class Verdict(enum.Enum):
    DONE = "done"  # written; or deleted, or already gone
    CONFLICT = "conflict"  # 412: changed remotely since it was pushed; re-read and overwrite
    MISSING = "missing"  # 404/409 on a write: the object's collection may be gone; look at it
    REJECTED = "rejected"  # about this booking only: skipped until it changes or a Resync
    UNAUTHORIZED = "unauthorized"  # 401/403: the target fails until its credentials change
    NOT_FOUND = "not_found"  # the calendar itself is missing
    THROTTLED = "throttled"  # 429/503: wait what Retry-After says
    UNAVAILABLE = "unavailable"  # other 5xx, no answer, not CalDAV: back off

    @property
    def stops_the_target(self) -> bool:
        return self in (Verdict.UNAUTHORIZED, Verdict.NOT_FOUND, Verdict.THROTTLED, Verdict.UNAVAILABLE)


#: The verdicts of the statuses that are not about the booking alone.
_STATUS_VERDICTS = {
    401: (Verdict.UNAUTHORIZED, REFUSED_CREDENTIALS),
    403: (Verdict.UNAUTHORIZED, MAY_NOT_WRITE),
    404: (Verdict.MISSING, CALENDAR_NOT_FOUND),
    409: (Verdict.MISSING, CALENDAR_NOT_FOUND),  # WebDAV's answer to a PUT into no collection
    410: (Verdict.MISSING, CALENDAR_NOT_FOUND),
    429: (Verdict.THROTTLED, SLOW_DOWN),
    503: (Verdict.THROTTLED, SLOW_DOWN),
}


def judge(answer: Answer, *, deleting=False) -> tuple[Verdict, Problem | None]:
    """The verdict on an answer to a PUT or (``deleting``) a DELETE, and the problem to show."""
    status = answer.status
    values = (("status", status),)
    if answer.problem and not (status and status >= 400):
        return Verdict.UNAVAILABLE, answer.problem
    if answer.succeeded or (deleting and status in (404, 410)):
        return Verdict.DONE, None
    if status == 412:
        return Verdict.CONFLICT, None
    if status in _STATUS_VERDICTS:
        verdict, template = _STATUS_VERDICTS[status]
        return verdict, Problem(template, values)
    if status >= 500 or status < 200:
        return Verdict.UNAVAILABLE, Problem(SERVER_FAILED, values)
    said = answer.body[:300].decode("utf-8", "replace").strip() or f"HTTP {status}"
    return Verdict.REJECTED, Problem(REFUSED_BOOKING, (*values, ("answer", said)))


def backoff(failures: int) -> timedelta:
    """The wait after ``failures`` failures in a row (1 or more)."""
    return min(FIRST_RETRY * 2 ** min(max(failures - 1, 0), 16), LONGEST_RETRY)


def retry_after(header: str | None, now: datetime) -> timedelta | None:
    """The wait a ``Retry-After`` header asks for (seconds or an HTTP date), within 1 s and an hour;
    None when absent or unreadable."""
    if not header or len(header) > 64:
        return None
    header = header.strip()
    if header.isdigit():
        wait = timedelta(seconds=int(header[:6]))
    else:
        try:
            wait = parsedate_to_datetime(header) - now.astimezone(timezone.utc)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
    return min(max(wait, timedelta(seconds=1)), LONGEST_RETRY)


def send(remote, work, bodies, pace, until=math.inf):
    """Make the requests of ``work`` (no database access here), at most one every ``pace``
    seconds and none after the monotonic time ``until``: ``(done, stopped)``, ``done`` the
    ``(Work, values)`` of each finished, ``stopped`` ``(Work, (verdict, problem, answer))`` of
    the request that stopped the batch (the target fails, or the calendar may be gone), else None.
    """
    done = []
    next_at = time.monotonic()
    for item in work:
        if done and next_at >= until:  # at least one request per batch, so every turn gets on
            break
        time.sleep(max(next_at - time.monotonic(), 0))
        next_at = time.monotonic() + pace
        if item.entry_id is None:
            verdict, problem, answer, values = delete(remote, item)
        else:
            verdict, problem, answer, values = write(remote, item, bodies.get(item.entry_id))
        if verdict.stops_the_target or verdict is Verdict.MISSING:
            return done, (item, (verdict, problem, answer))
        done.append((item, values))
    return done, None


def write(remote, item, body):
    """PUT one booking's object; over a remote edit or deletion (412), read and overwrite."""
    href = item.href or remote.href_for(item.uid)
    answer = remote.put(href, body, item.remote_etag)
    verdict, problem = judge(answer)
    if verdict is Verdict.CONFLICT:
        current, etag = remote.etag(href)
        answer = remote.put(href, body, etag) if current.succeeded or current.status == 404 else current
        verdict, problem = judge(answer)
        if verdict is Verdict.CONFLICT:  # changed again meanwhile: tried again at its next change
            verdict, problem = Verdict.REJECTED, Problem(REFUSED_BOOKING, (("status", 412), ("answer", "")))
    if verdict is Verdict.DONE:
        etag = answer.headers.get("etag")
        return (
            verdict,
            None,
            answer,
            {"href": href, "remote_etag": etag if etag and etag.startswith('"') else None},
        )
    return verdict, problem, answer, {"href": href, "problem": problem}


def delete(remote, item):
    """DELETE one booking's object; over a remote edit (412), delete anyway: it is ours, by its UID.

    One the server refuses (another 4xx) is forgotten: a Resync finds it again and tries once more.
    """
    answer = remote.delete(item.href, item.remote_etag)
    verdict, problem = judge(answer, deleting=True)
    if verdict is Verdict.CONFLICT:
        answer = remote.delete(item.href)
        verdict, problem = judge(answer, deleting=True)
    if verdict in (Verdict.REJECTED, Verdict.CONFLICT):
        return Verdict.DONE, problem, answer, None
    return verdict, problem, answer, None
