"""Room displays: a door sign for one room, a board of all rooms, as one self-contained page.

The page is plain HTML with its own small CSS and JavaScript inline: no web
client, no font or script from anywhere else, no cookie. Its script reads the
JSON feed with the same token (see ``static/src/display/display.js``), so the page itself
holds no booking: it is the same bytes all day, and a kiosk reloading it gets a 304.
A Content-Security-Policy that names the inline style and script by their
SHA-256 lets the page load nothing else and talk only to its own server.
"""

import base64
import hashlib
import json
from dataclasses import dataclass, replace
from html import escape
from pathlib import Path
from string import Template

from .api import DATA_HEADERS, Answer, body_etag
from .query import QueryError, checked_values, shown

DEFAULT_REFRESH = 60
MIN_REFRESH = 10
MAX_REFRESH = 3600
THEMES = ("dark", "light")
CONTENT_TYPE = "text/html; charset=utf-8"

#: The addon's static files, where Odoo keeps them; read here and inlined, never fetched by the page.
_ASSETS = Path(__file__).resolve().parent.parent / "static" / "src" / "display"
_PAGE = Template((_ASSETS / "page.html").read_text(encoding="utf-8"))
_STYLE = (_ASSETS / "display.css").read_text(encoding="utf-8")
_SCRIPT = (_ASSETS / "display.js").read_text(encoding="utf-8")


def _source_hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


#: Nothing but the page's own style and script, and requests to its own server.
CONTENT_SECURITY_POLICY = (
    f"default-src 'none'; script-src {_source_hash(_SCRIPT)}; style-src {_source_hash(_STYLE)}; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'"
)
#: The feeds' caching rule; the policy above; and the token in the URL is never sent anywhere.
HEADERS = (
    *DATA_HEADERS,
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    ("Referrer-Policy", "no-referrer"),
)


@dataclass(frozen=True)
class DisplayOptions:
    """What a display URL asks for: one room's door sign (``room_code``) or the board (None)."""

    room_code: str | None = None
    refresh: int = DEFAULT_REFRESH
    theme: str = THEMES[0]


def parse_display_options(params) -> DisplayOptions:
    """The options of a display URL's query (name -> list of values); a bad one raises QueryError."""
    room = checked_values(params, "room")
    refresh = checked_values(params, "refresh")
    theme = checked_values(params, "theme")
    options = DisplayOptions(room_code=room[0] if room else None)
    if refresh:
        if not refresh[0].isascii() or not refresh[0].isdigit() or len(refresh[0]) > 5:
            raise QueryError(f"refresh: {shown(refresh[0])} is not a number of seconds")
        seconds = int(refresh[0])
        if not MIN_REFRESH <= seconds <= MAX_REFRESH:
            raise QueryError(f"refresh: {seconds} is not from {MIN_REFRESH} to {MAX_REFRESH} seconds")
        options = replace(options, refresh=seconds)
    if theme:
        if theme[0] not in THEMES:
            raise QueryError(f"theme: {shown(theme[0])} is not one of {', '.join(THEMES)}")
        options = replace(options, theme=theme[0])
    return options


def _script_json(value) -> str:
    """JSON that stays inside a ``<script>`` element whatever its texts hold."""
    return json.dumps(value, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e")


def display_page(options: DisplayOptions, *, title, token, timezone, lang, labels, feed_path) -> bytes:
    """The page of a door sign (``options.room_code``) or a board, as UTF-8 bytes.

    ``lang`` is an Odoo language code (``fr_FR``): dates and times are written
    the way that language does, in ``timezone``; ``labels`` are the page's
    texts in that language, with ``%(name)s`` placeholders.
    """
    config = {
        "token": token,
        "room": options.room_code,
        "refresh": options.refresh,
        "timeZone": timezone,
        "locale": lang.split("@")[0].replace("_", "-"),
        "feedPath": feed_path,
        "labels": labels,
    }
    return _PAGE.substitute(
        lang=escape(config["locale"]),
        theme=options.theme,
        kind="sign" if options.room_code else "board",
        title=escape(title),
        style=_STYLE,
        script=_SCRIPT,
        config=_script_json(config),
    ).encode()


def display_answer(options: DisplayOptions, **page) -> Answer:
    """The answer with the page of :func:`display_page` (same keyword arguments)."""
    body = display_page(options, **page)
    return Answer(CONTENT_TYPE, body, etag=body_etag(body), headers=HEADERS)
