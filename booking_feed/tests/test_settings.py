from datetime import datetime, timezone

import pytest

from booking_feed.settings import DEFAULT_FUTURE_DAYS, DEFAULT_RETENTION_DAYS, FeedSettings
from booking_feed.statuses import CONFIRMED, TENTATIVE


def settings_from(stored, default_timezone="Europe/Budapest"):
    return FeedSettings.from_parameters(
        stored.get, default_timezone=lambda: default_timezone, default_name="Room bookings"
    )


def test_unset_parameters_take_the_defaults_of_the_settings_page():
    assert settings_from({}) == FeedSettings(timezone="Europe/Budapest")


def test_stored_texts_are_read():
    settings = settings_from({"enabled": "True", "past_days": "2", "tz": "America/New_York", "name": "Sim"})
    assert (settings.enabled, settings.past_days, settings.timezone, settings.name) == (
        True, 2, "America/New_York", "Sim",
    )  # fmt: skip


@pytest.mark.parametrize("value", ["seven", "7.5", ""])
def test_a_number_that_cannot_be_read_falls_back_with_a_warning(value, caplog):
    settings = settings_from({"future_days": value, "retention_days": value})
    assert (settings.future_days, settings.retention_days) == (DEFAULT_FUTURE_DAYS, DEFAULT_RETENTION_DAYS)
    assert "is not a number from" in caplog.text


def test_an_unknown_zone_falls_back_to_the_default_with_a_warning(caplog):
    assert settings_from({"tz": "Mars/Olympus"}, default_timezone="UTC").timezone == "UTC"
    assert "unknown time zone" in caplog.text


def test_published_statuses_and_window_follow_the_settings():
    assert FeedSettings().published_statuses == (CONFIRMED,)
    assert FeedSettings(publish_tentative=True).published_statuses == (CONFIRMED, TENTATIVE)
    window = FeedSettings(timezone="UTC", past_days=1, future_days=2).window(
        datetime(2026, 3, 5, 12, tzinfo=timezone.utc)
    )
    assert (window.start, window.end) == (
        datetime(2026, 3, 4, tzinfo=timezone.utc),
        datetime(2026, 3, 8, tzinfo=timezone.utc),
    )


@pytest.mark.parametrize(
    ("key", "value"), [("future_days", "1000"), ("past_days", "-1"), ("retention_days", "0")]
)
def test_days_out_of_range_fall_back_rather_than_break_the_window(key, value, caplog):
    assert getattr(settings_from({key: value}), key) == getattr(FeedSettings(), key)
    assert "is not a number from" in caplog.text
