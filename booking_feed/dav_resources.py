"""The resources of the read-only CalDAV tree, as plain data (RFC 4791, 6578, 4918).

``/w/caldav/`` (the root), ``principal/``, ``calendars/`` (the home), one
calendar per room and one of every room (``calendars/all/``), each holding
one object per booking. The addon says what each calendar and object is
(names, tags, sizes); which properties they have, and their values, is
decided here once.
"""

from dataclasses import dataclass

from .dav_paths import (
    DAV_ROOT,
    HOME_PATH,
    PRINCIPAL_PATH,
    collection_path,
    object_path,
)
from .dav_request import (
    APPLE_ICAL,
    CALDAV,
    CALENDAR_DATA,
    DAV,
    clark,
)
from .dav_response import (
    CALENDAR_TIMEZONE,
    CURRENT_USER_PRINCIPAL,
    DISPLAYNAME,
    EVENTS_ONLY,
    GETCONTENTLENGTH,
    GETCONTENTTYPE,
    GETCTAG,
    GETETAG,
    GETLASTMODIFIED,
    OBJECT_CONTENT_TYPE,
    READ_ONLY,
    REPORTS,
    RESOURCETYPE,
    Resource,
    empty,
    href_value,
    present,
)


@dataclass(frozen=True)
class Calendar:
    """One calendar of the home: a room's (``code``) or every room's, as its properties say it."""

    code: str
    name: str
    description: str = ""
    color: str | None = None


@dataclass(frozen=True)
class CalendarObject:
    """One booking as an object of a calendar; ``last_modified`` in RFC 1123 form, ``data`` its
    bytes when asked for."""

    entry_id: int
    event_id: int
    etag: str
    length: int
    last_modified: str
    data: bytes | None = None


def root(name: str) -> Resource:
    return Resource(DAV_ROOT, {**_plain(name), RESOURCETYPE: empty(DAV, "collection")})


def principal(name: str) -> Resource:
    return Resource(
        PRINCIPAL_PATH,
        {
            **_plain(name),
            RESOURCETYPE: empty(DAV, "collection", "principal"),
            clark(DAV, "principal-URL"): href_value(PRINCIPAL_PATH),
            clark(CALDAV, "calendar-home-set"): href_value(HOME_PATH),
        },
    )


def home(name: str) -> Resource:
    return Resource(HOME_PATH, {**_plain(name), RESOURCETYPE: empty(DAV, "collection")})


def calendar(calendar: Calendar, *, sync_token: str, ctag: str | None, timezone: str | None) -> Resource:
    """A calendar collection; ``ctag`` and ``timezone`` (a VTIMEZONE calendar) when asked for."""
    return Resource(
        collection_path(calendar.code),
        present(
            {
                CURRENT_USER_PRINCIPAL: href_value(PRINCIPAL_PATH),
                RESOURCETYPE: (*empty(DAV, "collection"), *empty(CALDAV, "calendar")),
                DISPLAYNAME: calendar.name,
                clark(CALDAV, "calendar-description"): calendar.description or None,
                clark(CALDAV, "supported-calendar-component-set"): EVENTS_ONLY,
                CALENDAR_TIMEZONE: timezone,
                GETCTAG: ctag,
                clark(DAV, "sync-token"): sync_token,
                clark(APPLE_ICAL, "calendar-color"): calendar.color,
                clark(DAV, "current-user-privilege-set"): READ_ONLY,
                clark(DAV, "supported-report-set"): REPORTS,
                clark(DAV, "owner"): href_value(PRINCIPAL_PATH),
            }
        ),
    )


def calendar_object(code: str, row: CalendarObject) -> Resource:
    """An object of calendar ``code``; its calendar-data only if the row carries it."""
    properties = {
        GETETAG: f'"{row.etag}"',
        GETCONTENTTYPE: OBJECT_CONTENT_TYPE,
        GETCONTENTLENGTH: str(row.length),
        GETLASTMODIFIED: row.last_modified,
        RESOURCETYPE: (),
    }
    if row.data:
        properties[CALENDAR_DATA] = row.data.decode()
    return Resource(object_path(code, row.event_id), properties)


def _plain(name):
    return {CURRENT_USER_PRINCIPAL: href_value(PRINCIPAL_PATH), DISPLAYNAME: name}
