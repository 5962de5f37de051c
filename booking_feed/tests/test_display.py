import base64
import hashlib
import json
import re

import pytest

from booking_feed.display import (
    CONTENT_SECURITY_POLICY,
    DEFAULT_REFRESH,
    DisplayOptions,
    display_answer,
    display_page,
    parse_display_options,
)
from booking_feed.query import QueryError

LABELS = {"freeUntil": "Free until %(time)s", "inUseUntil": "In use until %(time)s"}
SIGN = DisplayOptions(room_code="SIM1")
PAGE = {"title": "Sim Room 1", "token": "secret", "timezone": "Europe/Budapest", "lang": "hu_HU",
        "labels": LABELS, "feed_path": "/w/api/v2/public_calendar"}  # fmt: skip
CONFIG = re.compile(r'<script type="application/json" id="display-config">(.*?)</script>')


def page(options=SIGN, **overrides):
    return display_page(options, **(PAGE | overrides)).decode()


def inline(html, tag):
    return re.findall(rf"<{tag}>(.*?)</{tag}>", html, flags=re.DOTALL)


def config_of(html):
    return json.loads(CONFIG.search(html).group(1))


def test_options_default_to_the_board_refreshed_every_minute_in_dark():
    assert parse_display_options({}) == DisplayOptions(room_code=None, refresh=DEFAULT_REFRESH, theme="dark")
    options = parse_display_options({"room": ["SIM1"], "refresh": ["10"], "theme": ["light"]})
    assert options == DisplayOptions(room_code="SIM1", refresh=10, theme="light")


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"refresh": ["9"]}, "refresh: 9 is not from 10 to 3600 seconds"),
        ({"refresh": ["3601"]}, "refresh: 3601 is not from 10 to 3600 seconds"),
        ({"refresh": ["1e3"]}, "refresh: '1e3' is not a number of seconds"),
        ({"refresh": ["１２"]}, "refresh: '１２' is not a number of seconds"),
        ({"refresh": ["-10"]}, "refresh: '-10' is not a number of seconds"),
        ({"theme": ["blue"]}, "theme: 'blue' is not one of dark, light"),
        ({"room": ["A", "B"]}, "room: given 2 times"),
        ({"room": ["A\x00"]}, "room: 'A\\x00' contains control characters"),
    ],
)
def test_bad_options_are_refused_with_a_reason(params, message):
    with pytest.raises(QueryError, match=re.escape(message)):
        parse_display_options(params)


def test_the_page_carries_its_configuration_for_the_script():
    html = page(DisplayOptions(room_code="SIM1", refresh=30, theme="light"))
    assert config_of(html) == {
        "token": "secret", "room": "SIM1", "refresh": 30, "timeZone": "Europe/Budapest", "locale": "hu-HU",
        "feedPath": "/w/api/v2/public_calendar", "labels": LABELS,
    }  # fmt: skip
    assert '<html lang="hu-HU" data-theme="light" data-kind="sign">' in html
    assert 'data-kind="board"' in page(DisplayOptions())


def test_texts_cannot_break_out_of_the_page():
    hostile = "</script><script>alert(1)</script><b>"
    html = page(title=hostile, labels={"freeUntil": hostile})
    assert "<title>&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;b&gt;</title>" in html
    assert html.count("<script>") == 1 and html.count("</script>") == 2  # the config and the page's own
    assert config_of(html)["labels"]["freeUntil"] == hostile


def test_the_policy_allows_exactly_the_inline_style_and_script():
    html = page()
    [style], scripts = inline(html, "style"), inline(html, "script")
    assert len(scripts) == 1
    for source in (style, scripts[0]):
        digest = base64.b64encode(hashlib.sha256(source.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in CONTENT_SECURITY_POLICY
    assert "default-src 'none'" in CONTENT_SECURITY_POLICY
    assert "connect-src 'self'" in CONTENT_SECURITY_POLICY


def test_the_page_loads_nothing_from_anywhere():
    html = page()
    assert not re.search(r"\b(src|href)\s*=", html)
    assert "@import" not in html and "url(" not in html
    assert not re.search(r"https?:|//[a-z]", html.split('id="display-config">')[0])


def test_the_answer_is_a_cacheable_html_page_with_its_policy():
    answer = display_answer(SIGN, **PAGE)
    headers = dict(answer.headers)
    assert answer.content_type == "text/html; charset=utf-8"
    assert headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["Cache-Control"].startswith("private")
    assert answer.etag
