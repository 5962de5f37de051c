"""Parsing and applying the query string of feed requests.

Both feeds take the same narrowing parameters, so they share one parser:
``room`` (a room code, repeatable) and ``from``/``to`` (an ISO date, taken
in the calendar's zone, ``to`` inclusive; or an ISO datetime with offset,
``to`` exclusive). The JSON API adds ``q`` (words of the title, any case)
and ``status`` (repeatable). A bad value raises :class:`QueryError`, whose
message is meant for the caller (a 400 answer).
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from .window import Window


class QueryError(ValueError):
    """A request parameter is wrong; the message says which and why."""


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

    @property
    def is_filtered(self):
        return bool(self.room_codes or self.start or self.end or self.text or self.statuses)


def _parse_moment(name, value, zone, *, is_end):
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            if is_end:
                day += timedelta(days=1)
            return datetime.combine(day, time.min, tzinfo=zone).astimezone(UTC)
        moment = datetime.fromisoformat(value.replace("Z", "+00:00").replace(" ", "+"))
    except ValueError:
        raise QueryError(
            f"{name}: {value!r} is not an ISO date (2026-03-05) "
            "or datetime with offset (2026-03-05T08:00:00Z)"
        ) from None
    if moment.utcoffset() is None:
        raise QueryError(f"{name}: {value!r} has no UTC offset; add Z or +01:00")
    return moment.astimezone(UTC)


def check_parameters(params, allowed):
    """Refuse parameters a route does not know, rather than silently ignoring them."""
    if unknown := sorted(set(params) - set(allowed)):
        raise QueryError(
            f"unknown parameter {', '.join(unknown)}; this route takes {', '.join(sorted(allowed))}"
        )


def parse_feed_query(params, *, timezone, statuses=()) -> FeedQuery:
    """Read the filters from ``params`` (name -> list of values).

    ``statuses`` are those the ``status`` parameter may ask for (the JSON
    API's); ``q`` is read too, its words matched in any case.
    """
    zone = ZoneInfo(timezone)
    room_codes = tuple(dict.fromkeys(code.strip() for code in params.get("room", [])))
    if any(not code for code in room_codes):
        raise QueryError("room: empty room code")
    bounds = {}
    for name in ("from", "to"):
        values = params.get(name, [])
        if len(values) > 1:
            raise QueryError(f"{name}: given {len(values)} times")
        if values:
            bounds[name] = _parse_moment(name, values[0].strip(), zone, is_end=name == "to")
    if "from" in bounds and "to" in bounds and bounds["to"] <= bounds["from"]:
        raise QueryError("to: must be after from")
    asked_statuses = tuple(dict.fromkeys(params.get("status", [])))
    if wrong := [status for status in asked_statuses if status not in statuses]:
        raise QueryError(f"status: {', '.join(wrong)} is not one of {', '.join(statuses)}")
    texts = params.get("q", [])
    if len(texts) > 1:
        raise QueryError(f"q: given {len(texts)} times")
    return FeedQuery(
        room_codes=room_codes,
        start=bounds.get("from"),
        end=bounds.get("to"),
        text=" ".join(texts[0].split()) if texts else "",
        statuses=asked_statuses,
    )
