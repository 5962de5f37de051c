"""The published period: whole local days around today in the calendar's zone.

The feed runs from 00:00 ``past_days`` before today to the end of the day
``future_days`` after today, in the calendar's time zone, so "today" and
"the next 7 days" mean what the people of that calendar expect, across DST.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

MAX_DAYS = 730


@dataclass(frozen=True)
class Window:
    """``[start, end)`` as UTC datetimes, and the local dates it covers."""

    start: datetime
    end: datetime
    first_day: date
    last_day: date


#: ``timezone`` is a parameter name below.
_UTC = timezone.utc


def local_today(now: datetime, timezone: str) -> date:
    """The calendar's current day: the window moves when this changes."""
    return now.astimezone(ZoneInfo(timezone)).date()


def publication_window(now: datetime, timezone: str, past_days: int, future_days: int) -> Window:
    """The window for the moment ``now`` (aware), in ``timezone``."""
    if not (0 <= past_days <= MAX_DAYS and 0 <= future_days <= MAX_DAYS):
        raise ValueError(f"past and future days must be between 0 and {MAX_DAYS}")
    zone = ZoneInfo(timezone)
    today = local_today(now, timezone)
    first_day = today - timedelta(days=past_days)
    last_day = today + timedelta(days=future_days)

    def local_midnight(day):
        return datetime.combine(day, time.min, tzinfo=zone).astimezone(_UTC)

    return Window(
        start=local_midnight(first_day),
        end=local_midnight(last_day + timedelta(days=1)),
        first_day=first_day,
        last_day=last_day,
    )
