"""Room displays on every screen: every line whole, nothing wider than the screen.

Measured in Chromium, in the page: each text's lines (their glyph boxes, so a
cut descender counts) against every box that clips them; a line hidden whole
below a two-line clamp or beyond an ellipsis is what was meant, one cut in half
is not. Screens: landscape 800x480, 1280x800, 1920x1080 and portrait
1080x1920, 480x800; 1, 7 and 40 rooms; 200-character names and titles; both
themes.
"""

import os
import re
from datetime import timedelta
from pathlib import Path

from odoo.tests import HttpCase, tagged

from .test_display import DISPLAY, DisplayPage, MiddayFeedCase

SCREENS = ((800, 480), (1280, 800), (1920, 1080), (1080, 1920), (480, 800))
THEMES = ("dark", "light")
#: In the page: how many pages the board has, once it has laid its rooms out.
PAGES = "document.querySelector('[data-pager]').dataset.pages"
#: The smallest type a text of a display may have, in CSS pixels.
SMALLEST_TYPE = 11
WORDS = "Paediatric emergency debriefing for the quality group with Ágnes Szép-Gyöngyösi and the "


def minutes(count):
    return timedelta(minutes=count)


def long_text(prefix, length=200):
    """``prefix`` and words with descenders (g, j, p, q, y) up to ``length`` characters."""
    return (f"{prefix} " + WORDS * 3)[:length]


_LAYOUT_SCRIPT = Path(__file__).parent / "layout_problems.js"
#: In the page: what is wrong with the layout now (a list of sentences, empty when all is well).
LAYOUT_PROBLEMS = f"({_LAYOUT_SCRIPT.read_text(encoding='utf-8')})({SMALLEST_TYPE})"


class DisplayLayoutCase(MiddayFeedCase):
    """40 published rooms with long names, every other one in use, most with a long booking next."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        now = cls.now
        Room = cls.env["calendar.room"]
        extra = Room.create([{"name": "Room", "code": f"TLAYOUT{index:02d}"} for index in range(38)])
        cls.rooms = cls.sim_room | cls.debriefing | extra
        for index, room in enumerate(cls.rooms):
            room.name = long_text(f"Room {index:02d} gyjpq")
            if index % 2 == 0:
                cls.book(room, now - minutes(30), now + minutes(30), name=long_text("Now"))
            if index % 4 != 3:  # else free for the rest of the day
                cls.book(room, now + minutes(40), now + minutes(70), name=long_text("Next"))
        for start in (80, 100, 120, 140, 160):
            title = long_text(f"Later {start}")
            cls.book(cls.sim_room, now + minutes(start), now + minutes(start + 15), name=title)
        cls.key_tokens = {
            count: cls.env["calendar.feed.key"].generate(
                {"name": f"{count} rooms", "room_ids": [(6, 0, cls.rooms[:count].ids)]}
            )["token"]
            for count in (1, 7)
        }
        cls.key_tokens[40] = cls.token


@tagged("post_install", "-at_install")
class TestDisplayLayout(DisplayLayoutCase, HttpCase):
    def check_screens(self, page, expression_ready, what):
        """Every screen size: wait for ``expression_ready``, then no layout problem; returns the
        value of ``expression_ready`` per screen. With DISPLAY_SCREENSHOTS=DIR, saves each screen there."""
        readies = {}
        for width, height in SCREENS:
            page.resize(width, height)
            screen = f"innerWidth === {width} && innerHeight === {height}"
            ready = page.wait_for(f"{screen} && ({expression_ready})")
            self.assertTrue(ready, f"{what} at {width}x{height}: never ready")
            self.assertEqual(page.evaluate(LAYOUT_PROBLEMS), [], f"{what} at {width}x{height}")
            if folder := os.environ.get("DISPLAY_SCREENSHOTS"):
                name = re.sub(r"\W+", "-", f"{what} {width}x{height}").strip("-")
                page.screenshot(Path(folder) / f"{name}.png")
            readies[width, height] = ready
        return readies

    def test_the_door_sign_keeps_long_titles_to_two_lines_on_every_screen(self):
        title = "document.querySelector('.now-title')"
        two_lines = (
            f"{title} && {title}.scrollHeight > {title}.clientHeight"  # more text than shown: the ellipsis
            f" && Math.round({title}.clientHeight / parseFloat(getComputedStyle({title}).lineHeight))"
        )
        page = DisplayPage(self, f"{DISPLAY}?token={self.token}&room=TSIM1&theme={THEMES[0]}")
        for theme in THEMES:
            page.open(f"{DISPLAY}?token={self.token}&room=TSIM1&theme={theme}")
            lines = self.check_screens(page, two_lines, f"door sign, {theme}")
            self.assertEqual(set(lines.values()), {2}, lines)
            self.assertTrue(page.evaluate("document.querySelectorAll('.later li .clamp').length"))
            self.assertEqual(
                page.evaluate(
                    "[...document.querySelectorAll('.later li .clamp')].filter((title) =>"
                    " title.scrollHeight <= title.clientHeight).length"
                ),
                0,
                "every title of Later today is long: each ends in an ellipsis",
            )

    def test_the_board_shows_every_room_whole_on_every_screen_a_page_at_a_time(self):
        page = DisplayPage(self, f"{DISPLAY}?token={self.token}")
        for theme in THEMES:
            for count, token in self.key_tokens.items():
                page.open(f"{DISPLAY}?token={token}&theme={theme}")
                pages = self.check_screens(page, PAGES, f"board, {count} rooms, {theme}")
                for (width, height), count_of_pages in pages.items():
                    page.resize(width, height)
                    self.assertTrue(page.wait_for(f"innerWidth === {width} && innerHeight === {height}"))
                    shown = self.walk_pages(page, f"board, {count} rooms, {theme}, {width}x{height}")
                    self.assertEqual(sorted(shown), sorted(self.rooms[:count].mapped("code")))
                    self.assertEqual(len(shown), count, "a room shown twice")
                    if count <= 7 and (width, height) != (480, 800):
                        self.assertEqual(count_of_pages, "1", f"{count} rooms fit {width}x{height}")
                    # Screen readers hear a change of the board, not every page turn.
                    live = page.evaluate("document.querySelector('[data-content]').getAttribute('aria-live')")
                    self.assertEqual(live, "polite" if count_of_pages == "1" else "off")

    def walk_pages(self, page, what):
        """Each page of the board in turn, as a tap turns it: its problems, and the rooms shown."""
        walked = page.evaluate(f"""(() => {{
            const pager = document.querySelector('[data-pager]');
            const seen = [];
            const problems = [];
            for (let turn = 0; turn < Number(pager.dataset.pages); turn += 1) {{
                seen.push(...[...document.querySelectorAll('[data-room]')].map((card) => card.dataset.room));
                const where = `page ${{pager.dataset.page}}`;
                problems.push(...{LAYOUT_PROBLEMS}.map((problem) => `${{where}}: ${{problem}}`));
                document.body.click();
            }}
            return {{seen, problems}};
        }})()""")
        self.assertEqual(walked["problems"], [], what)
        return walked["seen"]
