"""What the administrator chose to publish, as one immutable record.

The addon reads the settings once per build or request into a
:class:`FeedSettings`; everything downstream takes that record, so a rule
that depends on a setting (which statuses are published, which days) is
written here once.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .statuses import published_statuses
from .window import MAX_DAYS, Window, publication_window

_logger = logging.getLogger(__name__)

#: Defaults of the settings, also those of the settings page.
DEFAULT_PAST_DAYS = 0
DEFAULT_FUTURE_DAYS = 7
DEFAULT_RETENTION_DAYS = 30
#: How often subscribers should fetch the feed again (REFRESH-INTERVAL, Cache-Control).
REFRESH_INTERVAL = timedelta(hours=1)


@dataclass(frozen=True)
class FeedSettings:
    """The feed settings; ``timezone`` is a valid IANA name, days are within the window's limits."""

    timezone: str = "UTC"
    enabled: bool = False
    past_days: int = DEFAULT_PAST_DAYS
    future_days: int = DEFAULT_FUTURE_DAYS
    retention_days: int = DEFAULT_RETENTION_DAYS
    publish_tentative: bool = False
    publish_description: bool = False
    name: str = "Room bookings"
    description: str = ""
    organizer_name: str = ""
    organizer_email: str = ""
    #: The language displays are shown in (an Odoo code such as fr_FR); empty: the company's.
    lang: str = ""

    @classmethod
    def from_parameters(cls, get, *, default_timezone, default_name) -> "FeedSettings":
        """The settings from stored parameters: ``get(key)`` is a stored text, or None/False.

        Parameters can also be edited in Odoo's technical menu, where nothing
        checks them: a value that cannot be read falls back to its default,
        with a warning, rather than taking the feeds down. ``default_timezone``
        is called only when no known zone is stored (finding it takes queries).
        """

        def number(key, default, lowest=0):
            value = get(key)
            if value is None or value is False:
                return default
            try:
                number = int(value)
            except ValueError:
                number = None
            if number is None or not lowest <= number <= MAX_DAYS:
                _logger.warning(
                    "External calendar: setting %s is not a number from %s to %s; using %s",
                    key,
                    lowest,
                    MAX_DAYS,
                    default,
                )
                return default
            return number

        return cls(
            enabled=bool(get("enabled")),
            past_days=number("past_days", DEFAULT_PAST_DAYS),
            future_days=number("future_days", DEFAULT_FUTURE_DAYS),
            timezone=_known_zone(get("tz")) or default_timezone(),
            publish_tentative=bool(get("publish_tentative")),
            publish_description=bool(get("publish_description")),
            name=get("name") or default_name,
            description=get("description") or "",
            retention_days=number("retention_days", DEFAULT_RETENTION_DAYS, lowest=1),
            organizer_name=get("organizer_name") or "",
            organizer_email=get("organizer_email") or "",
            lang=get("lang") or "",
        )

    @property
    def published_statuses(self) -> tuple[str, ...]:
        """Booking statuses that reach the feeds."""
        return published_statuses(self.publish_tentative)

    def window(self, now: datetime) -> Window:
        """The published period at the moment ``now`` (aware)."""
        return publication_window(now, self.timezone, self.past_days, self.future_days)

    def calendar_properties(self, name=None) -> dict:
        """The keyword arguments of :func:`~.ics.calendar_envelope` for this calendar."""
        return {
            "name": name or self.name,
            "timezone": self.timezone,
            "description": self.description,
            "refresh_interval": REFRESH_INTERVAL,
        }


def _known_zone(name):
    """``name`` if it is a time zone this machine knows, else None (with a warning if it was set)."""
    if not name:
        return None
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        _logger.warning("External calendar: unknown time zone %r; using the default", name)
        return None
    return name
