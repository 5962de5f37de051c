"""Parsing and applying the query string of feed requests.

Both feeds take the same narrowing parameters, so they share one parser:
``room`` (a room code, repeatable) and ``from``/``to`` (an ISO date, taken
in the calendar's zone, ``to`` inclusive; or an ISO datetime with offset,
``to`` exclusive). The JSON API adds ``q`` (words of the title, any case)
and ``status`` (repeatable). A bad value raises :class:`QueryError`, whose
message is meant for the caller (a 400 answer).

Every value comes from the outside: it is bounded in length, refused if it
holds control characters, and quoted (shortened) when a message repeats it.
"""

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from .api import FeedError
from .records import ROOM_CODE_PATTERN
from .window import Window

#: No value of ours is longer (sync tokens and cursors are under 200 characters).
MAX_VALUE_LENGTH = 512
MAX_ROOMS = 100
MAX_TEXT_LENGTH = 100
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SHOWN_LENGTH = 40


class QueryError(FeedError, ValueError):
    """A request parameter is wrong; the message says which and why (a 400)."""


@dataclass(frozen=True)
class FeedQuery:
    """What a request asks for, within the published window."""

    room_codes: tuple[str, ...] = ()
    start: datetime | None = None
    end: datetime | None = None
    text: str = ""
    statuses: tuple[str, ...] = ()

    def narrow(self, window: Window) -> tuple[datetime, datetime]:
        """``[start, end)`` in UTC: the asked period clipped to the window."""
        start = max(self.start, window.start) if self.start else window.start
        end = min(self.end, window.end) if self.end else window.end
        return start, max(start, end)


def shown(value: str) -> str:
    """``value`` quoted for an error message, shortened: messages never echo 5 kB back."""
    if len(value) > _SHOWN_LENGTH:
        value = value[:_SHOWN_LENGTH] + "..."
    return repr(value)


def checked_values(params, name, *, at_most=1) -> list[str]:
    """The values of parameter ``name`` (at most ``at_most`` of them), each bounded and printable."""
    values = params.get(name, [])
    if len(values) > at_most:
        raise QueryError(
            f"{name}: given {len(values)} times"
            if at_most == 1
            else f"{name}: given {len(values)} times, at most {at_most}"
        )
    for value in values:
        if len(value) > MAX_VALUE_LENGTH:
            raise QueryError(f"{name}: longer than {MAX_VALUE_LENGTH} characters")
        if _CONTROL.search(value):
            raise QueryError(f"{name}: {shown(value)} contains control characters")
    return values


def _parse_moment(name, value, zone, *, is_end):
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            if is_end:
                day += timedelta(days=1)
            return datetime.combine(day, time.min, tzinfo=zone).astimezone(timezone.utc)
        moment = datetime.fromisoformat(value.replace("Z", "+00:00").replace(" ", "+"))
        if moment.utcoffset() is None:
            raise QueryError(f"{name}: {shown(value)} has no UTC offset; add Z or +01:00")
        return moment.astimezone(timezone.utc)
    except (ValueError, OverflowError) as error:
        if isinstance(error, QueryError):
            raise
        raise QueryError(
            f"{name}: {shown(value)} is not an ISO date (2026-03-05) "
            "or datetime with offset (2026-03-05T08:00:00Z)"
        ) from None


def check_parameters(params, allowed):
    """Refuse parameters a route does not know, rather than silently ignoring them."""
    if unknown := sorted(set(params) - set(allowed)):
        raise QueryError(
            f"unknown parameter {', '.join(shown(name) for name in unknown)}; "
            f"this route takes {', '.join(sorted(allowed))}"
        )


def parse_feed_query(params, *, timezone, statuses=()) -> FeedQuery:
    """Read the filters from ``params`` (name -> list of values).

    ``statuses`` are those the ``status`` parameter may ask for (the JSON
    API's); ``q`` is read too, its words matched in any case.
    """
    zone = ZoneInfo(timezone)
    room_codes = tuple(
        dict.fromkeys(code.strip() for code in checked_values(params, "room", at_most=MAX_ROOMS))
    )
    if any(not code for code in room_codes):
        raise QueryError("room: empty room code")
    if wrong := [code for code in room_codes if not ROOM_CODE_PATTERN.fullmatch(code)]:
        raise QueryError(f"room: {shown(wrong[0])} is not a room code (letters, digits, - and _)")
    bounds = {}
    for name in ("from", "to"):
        if values := checked_values(params, name):
            bounds[name] = _parse_moment(name, values[0].strip(), zone, is_end=name == "to")
    if "from" in bounds and "to" in bounds and bounds["to"] <= bounds["from"]:
        raise QueryError("to: must be after from")
    asked_statuses = tuple(dict.fromkeys(checked_values(params, "status", at_most=len(statuses) or 1)))
    if wrong := [status for status in asked_statuses if status not in statuses]:
        raise QueryError(f"status: {shown(wrong[0])} is not one of {', '.join(statuses)}")
    texts = checked_values(params, "q")
    text = " ".join(texts[0].split()) if texts else ""
    if len(text) > MAX_TEXT_LENGTH:
        raise QueryError(f"q: longer than {MAX_TEXT_LENGTH} characters")
    return FeedQuery(
        room_codes=room_codes,
        start=bounds.get("from"),
        end=bounds.get("to"),
        text=text,
        statuses=asked_statuses,
    )
