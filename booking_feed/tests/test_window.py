from datetime import date, datetime, timezone

import pytest

from booking_feed.window import publication_window


def test_default_window_is_today_and_seven_days_in_local_time():
    window = publication_window(datetime(2026, 3, 5, 23, 30, tzinfo=timezone.utc), "Europe/Budapest", 0, 7)
    # 23:30 UTC on the 5th is 00:30 on the 6th in Budapest (UTC+1).
    assert window.first_day == date(2026, 3, 6)
    assert window.last_day == date(2026, 3, 13)
    assert window.start == datetime(2026, 3, 5, 23, 0, tzinfo=timezone.utc)
    assert window.end == datetime(2026, 3, 13, 23, 0, tzinfo=timezone.utc)


def test_window_follows_daylight_saving_time():
    # Clocks go forward in Budapest on 29 March 2026: the end is 00:00 CEST (22:00 UTC).
    window = publication_window(datetime(2026, 3, 25, 12, 0, tzinfo=timezone.utc), "Europe/Budapest", 1, 7)
    assert window.start == datetime(2026, 3, 23, 23, 0, tzinfo=timezone.utc)
    assert window.end == datetime(2026, 4, 1, 22, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(("past", "future"), [(-1, 7), (0, 731)])
def test_window_refuses_out_of_range_days(past, future):
    with pytest.raises(ValueError, match="between 0 and 730"):
        publication_window(datetime(2026, 3, 5, tzinfo=timezone.utc), "UTC", past, future)
