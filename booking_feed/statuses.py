"""Booking statuses, and which of them each surface publishes.

Every rule about statuses is here: the values Odoo stores, the ones the
feeds publish, the ones the JSON API lists and filters on, and their
iCalendar names. The addon's selection field, the settings, the feeds
and the routes import them, so a new status is added in one place.
"""

CONFIRMED = "confirmed"
TENTATIVE = "tentative"
CANCELLED = "cancelled"
STATUSES = (CONFIRMED, TENTATIVE, CANCELLED)

#: What the JSON API lists and its ``status`` filter accepts; a cancelled booking is never listed.
LISTED_STATUSES = (CONFIRMED, TENTATIVE)

#: STATUS of a VEVENT (RFC 5545 3.8.1.11).
ICS_STATUS = {CONFIRMED: "CONFIRMED", TENTATIVE: "TENTATIVE", CANCELLED: "CANCELLED"}


def published_statuses(publish_tentative: bool) -> tuple[str, ...]:
    """The statuses whose bookings reach the feeds: tentative ones only if the administrator allows it."""
    return (CONFIRMED, TENTATIVE) if publish_tentative else (CONFIRMED,)
