from datetime import date, datetime, timezone

import pytest

from booking_feed import FeedEvent, FeedRoom

SIM_ROOM = FeedRoom(id=1, code="SIM1", name="Sim Room 1", location="Building A")
DEBRIEF = FeedRoom(id=2, code="DEBRIEF", name="Debriefing")


@pytest.fixture
def make_event():
    """Build a FeedEvent with sensible defaults; keyword arguments override them."""

    def make(**values):
        defaults = {
            "id": 7,
            "uid": "booking-7@db-uuid",
            "title": "OSCE station 1",
            "start": datetime(2026, 3, 5, 8, 30, tzinfo=timezone.utc),
            "end": datetime(2026, 3, 5, 10, 0, tzinfo=timezone.utc),
            "created": datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc),
            "updated": datetime(2026, 3, 2, 9, 15, tzinfo=timezone.utc),
            "rooms": (SIM_ROOM,),
        }
        if values.get("all_day"):
            defaults.update(start=date(2026, 3, 5), end=date(2026, 3, 6))
        return FeedEvent(**(defaults | values))

    return make
