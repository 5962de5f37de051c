"""Parsing and applying the query string of feed requests.

Both feeds take the same narrowing parameters, so they share one parser:
``room`` (a room code, repeatable) and ``from``/``to`` (an RFC 3339 date,
taken in the calendar's zone, ``to`` inclusive; or an RFC 3339 datetime,
``to`` exclusive). The JSON API adds ``q`` (words of the title, any case)
and ``status`` (repeatable). A bad value raises :class:`QueryError`, whose
message is meant for the caller (a 400 answer).

Every value comes from the outside: it is bounded in length, refused if it
holds control characters, and quoted (shortened) when a message repeats it.
What is accepted is exactly what ``static/api/openapi.yml`` declares, the
same on every Python (``fromisoformat`` grew between 3.10 and 3.11).
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
#: A repeatable parameter (room, status) takes at most this many values; a repeated one counts once.
MAX_REPEATS = 100
MAX_TEXT_LENGTH = 100
#: The years a date or datetime may name: every booking is in them, and no offset takes one out of UTC.
FIRST_YEAR, LAST_YEAR = 1000, 2999
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SHOWN_LENGTH = 40
_WHOLE_NUMBER = re.compile(r"[0-9]{1,9}")
#: The groups of _MOMENT that are not whole numbers (a fraction's leading zeros count).
_NOT_NUMBERS = {"fraction", "utc", "sign"}
#: RFC 3339 full-date, optionally with "T" full-time (5.6: T and Z in either case); a space for the
#: offset's "+" is a "+" sent unencoded. A missing offset is matched, to be refused with its reason.
_MOMENT = re.compile(
    r"(?P<year>[0-9]{4})-(?P<month>[0-9]{2})-(?P<day>[0-9]{2})"
    r"(?:[Tt](?P<hour>[0-9]{2}):(?P<minute>[0-9]{2}):(?P<second>[0-9]{2})(?:\.(?P<fraction>[0-9]+))?"
    r"(?:(?P<utc>[Zz])|(?P<sign>[-+ ])(?P<offset_hour>[0-9]{2}):(?P<offset_minute>[0-9]{2}))?)?"
)


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


def whole_number(params, name, *, lowest, highest, default):
    """The value of parameter ``name``, a whole number from ``lowest`` to ``highest``; ``default``
    when it is not given. Digits only (ASCII): no sign, exponent, fraction or spaces."""
    values = checked_values(params, name)
    if not values:
        return default
    if not (_WHOLE_NUMBER.fullmatch(values[0]) and lowest <= int(values[0]) <= highest):
        raise QueryError(f"{name}: {shown(values[0])} is not a whole number from {lowest} to {highest}")
    return int(values[0])


def _parse_moment(name, value, zone, *, is_end):
    """The UTC moment of a date (a local day of ``zone``, the day after it for an end) or datetime."""
    match = _MOMENT.fullmatch(value)
    if not match:
        raise _not_a_moment(name, value)
    if not FIRST_YEAR <= int(match["year"]) <= LAST_YEAR:
        raise QueryError(f"{name}: {shown(value)} is out of range: years {FIRST_YEAR} to {LAST_YEAR}")
    if match["hour"] is not None and not (match["utc"] or match["sign"]):
        raise QueryError(f"{name}: {shown(value)} has no UTC offset; add Z or +01:00")
    fields = {key: int(number or 0) for key, number in match.groupdict().items() if key not in _NOT_NUMBERS}
    try:
        day = date(fields["year"], fields["month"], fields["day"])
        if match["hour"] is None:
            local = datetime.combine(day + timedelta(days=is_end), time.min, tzinfo=zone)
            return local.astimezone(timezone.utc)
        return _utc_moment(day, fields, match["fraction"], -1 if match["sign"] == "-" else 1)
    except ValueError:  # February 30th, hour 24, offset +24:00
        raise _not_a_moment(name, value) from None


def _utc_moment(day, fields, fraction, sign):
    """The datetime of ``fields``' time on ``day`` in UTC; a leap second (60) is the next second."""
    if fields["offset_hour"] > 23 or fields["offset_minute"] > 59 or fields["second"] > 60:
        raise ValueError("offset or second out of range")
    offset = sign * timedelta(hours=fields["offset_hour"], minutes=fields["offset_minute"])
    microsecond = int((fraction or "0")[:6].ljust(6, "0"))
    leap = fields["second"] == 60
    moment = datetime.combine(
        day, time(fields["hour"], fields["minute"], fields["second"] - leap, microsecond, timezone(offset))
    )
    return moment.astimezone(timezone.utc) + timedelta(seconds=leap)


def _not_a_moment(name, value):
    return QueryError(
        f"{name}: {shown(value)} is not an ISO date (2026-03-05) "
        "or datetime with offset (2026-03-05T08:00:00Z)"
    )


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
    room_codes = tuple(dict.fromkeys(checked_values(params, "room", at_most=MAX_REPEATS)))
    if any(not code for code in room_codes):
        raise QueryError("room: empty room code")
    if wrong := [code for code in room_codes if not ROOM_CODE_PATTERN.fullmatch(code)]:
        raise QueryError(f"room: {shown(wrong[0])} is not a room code (letters, digits, - and _)")
    bounds = {}
    for name in ("from", "to"):
        if values := checked_values(params, name):
            bounds[name] = _parse_moment(name, values[0], zone, is_end=name == "to")
    if "from" in bounds and "to" in bounds and bounds["to"] <= bounds["from"]:
        raise QueryError("to: must be after from")
    asked_statuses = tuple(dict.fromkeys(checked_values(params, "status", at_most=MAX_REPEATS)))
    if wrong := [status for status in asked_statuses if status not in statuses]:
        raise QueryError(f"status: {shown(wrong[0])} is not one of {', '.join(statuses)}")
    texts = checked_values(params, "q")
    if texts and len(texts[0]) > MAX_TEXT_LENGTH:  # as given, as the OpenAPI document says
        raise QueryError(f"q: longer than {MAX_TEXT_LENGTH} characters")
    text = " ".join(texts[0].split()) if texts else ""
    return FeedQuery(
        room_codes=room_codes,
        start=bounds.get("from"),
        end=bounds.get("to"),
        text=text,
        statuses=asked_statuses,
    )
