"""What the administrator chose to publish, as one immutable record.

The addon reads the settings once per build or request into a
:class:`FeedSettings`; everything downstream takes that record, so a rule
that depends on a setting (which statuses are published, which days) is
written here once.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from .records import CONFIRMED, TENTATIVE
from .window import Window, publication_window

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

    @property
    def published_statuses(self) -> tuple[str, ...]:
        """Booking statuses that reach the feeds."""
        return (CONFIRMED, TENTATIVE) if self.publish_tentative else (CONFIRMED,)

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
