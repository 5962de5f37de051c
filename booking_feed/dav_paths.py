"""The paths of the read-only CalDAV tree, and what a path names.

``/w/caldav/`` (the root), ``principal/``, ``calendars/`` (the home),
``calendars/room-<code>/`` and ``calendars/all/`` (the calendars), and
``<booking id>.ics`` in each (the objects). Paths come from the outside
(request lines, multiget hrefs): :func:`parse_path` takes any text and
says what it names, or that it names nothing.
"""

import contextlib
import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from .records import ROOM_CODE_PATTERN
from .sync import MAX_NUMBER

DAV_ROOT = "/w/caldav/"
PRINCIPAL_PATH = f"{DAV_ROOT}principal/"
HOME_PATH = f"{DAV_ROOT}calendars/"
#: The calendar of every room, at ``calendars/all/`` (rooms are at ``calendars/room-<code>/``); not
#: a room code (letters, digits, - and _), so a room coded "all" is a room like any other.
ALL_ROOMS = "*"
_ALL_SEGMENT = "all"
_ROOM_PREFIX = "room-"
_OBJECT_NAME = re.compile(r"([1-9][0-9]{0,9})\.ics")
_FIXED_PATHS = {(): "root", ("principal",): "principal", ("calendars",): "home"}


@dataclass(frozen=True)
class Target:
    """What a path names: ``kind`` is root, principal, home, collection or object.

    ``collection`` is a room code or :data:`ALL_ROOMS`; ``event_id`` names an object in it.
    """

    kind: str
    collection: str | None = None
    event_id: int | None = None


def collection_path(collection: str) -> str:
    return f"{HOME_PATH}{_ALL_SEGMENT if collection == ALL_ROOMS else _ROOM_PREFIX + collection}/"


def object_path(collection: str, event_id: int) -> str:
    return f"{collection_path(collection)}{event_id}.ics"


def parse_path(path: str) -> Target | None:
    """The resource at ``path`` (a URL path or a full URL, percent-encoded), None if there is none.

    Whether the room exists and the token opens it is for the caller to say.
    """
    try:
        parts = urlsplit(path)
    except ValueError:  # e.g. "http://[/...", in a multiget's href
        return None
    if not _is_host(parts.netloc):
        return None
    path = unquote(parts.path)
    if path != DAV_ROOT.rstrip("/") and not path.startswith(DAV_ROOT):
        return None
    parts = tuple(part for part in path[len(DAV_ROOT) :].split("/") if part)
    if parts in _FIXED_PATHS:
        return Target(_FIXED_PATHS[parts])
    collection = _collection(parts[1]) if len(parts) in (2, 3) and parts[0] == "calendars" else None
    if collection is None or len(parts) == 2:
        return collection and Target("collection", collection)
    name = _OBJECT_NAME.fullmatch(parts[2])
    event_id = int(name.group(1)) if name else 0
    # Booking ids are PostgreSQL integers.
    return Target("object", collection, event_id) if 0 < event_id <= MAX_NUMBER else None


def _is_host(netloc: str) -> bool:
    """Whether ``netloc`` is a name or a bracketed IPv6 address (Python < 3.11.4 accepts ``[zz]``)."""
    host = netloc.rpartition("@")[2]
    if not host.startswith("["):
        return "[" not in host and "]" not in host
    with contextlib.suppress(ValueError):
        return bool(ipaddress.IPv6Address(host[1:].partition("]")[0]))
    return False


def _collection(segment: str) -> str | None:
    """The collection a path segment names: ``all`` or ``room-<code>``."""
    if segment == _ALL_SEGMENT:
        return ALL_ROOMS
    code = segment.removeprefix(_ROOM_PREFIX)
    return code if code != segment and ROOM_CODE_PATTERN.fullmatch(code) else None
