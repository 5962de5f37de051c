"""Every text people read is translated in the languages we ship, and the displays speak them."""

import ast
import json
import re
from pathlib import Path

import polib

from odoo.modules.module import get_module_path
from odoo.tests import HttpCase, TransactionCase, tagged

from .test_display import DISPLAY, DisplayCase, DisplayPage

MODULE = "external_calendar_api"
#: The languages we ship, as Odoo names them, and their files in i18n/.
LANGUAGES = {"fr_FR": "fr", "de_DE": "de", "es_ES": "es", "hu_HU": "hu", "nl_NL": "nl"}
PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sd]|%[sd]")
TAG = re.compile(r"<[^>]+>")
#: Attributes people read (tooltips, screen readers): translated inside a term's markup.
READ_ATTRIBUTE = re.compile(r'\s(?:title|aria-label|alt|placeholder)="[^"]*"')
#: Folders of the checkout that are not the addon's code.
NOT_SHIPPED = {"tests", "bench", "scripts", "build", ".venv", ".git", ".cache", ".local"}


def i18n_path(name):
    return Path(get_module_path(MODULE)) / "i18n" / name


def markup(text):
    """The tags of ``text``, without the values of the attributes people read."""
    return [READ_ATTRIBUTE.sub("", tag) for tag in TAG.findall(text)]


def marked_texts():
    """Literal first arguments of ``_()``, ``env._()`` and ``_lt()`` calls in the addon's code."""
    root = Path(get_module_path(MODULE))
    texts = set()
    for path in root.rglob("*.py"):
        if NOT_SHIPPED & set(path.relative_to(root).parts):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)):
                continue
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            if name in ("_", "_lt") and isinstance(node.args[0].value, str):
                texts.add(node.args[0].value)
    return texts


@tagged("post_install", "-at_install")
class TestTranslationFiles(TransactionCase):
    def test_the_template_holds_every_text_the_code_marks(self):
        template = {entry.msgid for entry in polib.pofile(str(i18n_path(f"{MODULE}.pot")))}
        missing = sorted(marked_texts() - template)
        self.assertFalse(missing, "not in i18n/external_calendar_api.pot: run make pot")

    def test_every_text_is_translated_in_every_language_we_ship(self):
        template = {entry.msgid for entry in polib.pofile(str(i18n_path(f"{MODULE}.pot")))}
        for language in LANGUAGES.values():
            with self.subTest(language=language):
                catalog = [
                    entry for entry in polib.pofile(str(i18n_path(f"{language}.po"))) if not entry.obsolete
                ]
                self.assertEqual({entry.msgid for entry in catalog}, template, "run msgmerge with the .pot")
                self.assertFalse([entry.msgid for entry in catalog if not entry.msgstr], "untranslated")
                for entry in catalog:
                    self.assertEqual(
                        sorted(PLACEHOLDER.findall(entry.msgstr)),
                        sorted(PLACEHOLDER.findall(entry.msgid)),
                        entry.msgid,
                    )
                    self.assertEqual(markup(entry.msgstr), markup(entry.msgid), entry.msgid)


@tagged("post_install", "-at_install")
class TestTranslatedDisplays(DisplayCase, HttpCase):
    """A door sign and a board in each language we ship show no English label."""

    CURRENT, UPCOMING = "X-ray", "ECG"  # no English word that a label could hold

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        for lang in LANGUAGES:
            cls.env["res.lang"]._activate_lang(lang)
        cls.env["ir.module.module"]._load_module_terms([MODULE], list(LANGUAGES), overwrite=True)
        cls.english = cls.env["calendar.feed.display"].with_context(lang="en_US")._get_labels()

    @staticmethod
    def words(labels):
        """The labels' words, without their placeholders."""
        return {
            piece.strip(" :.")
            for label in labels.values()
            for piece in PLACEHOLDER.split(label)
            if len(piece.strip(" :.")) > 3
        }

    def assertSpeaks(self, lang, query):
        """The page of ``query`` in display language ``lang``, as the browser draws it, has that
        language's labels and no English one. One page per test: Odoo's test browser is opened
        once per test."""
        self.set_feed_param("lang", lang)
        labels = self.env["calendar.feed.display"].with_context(lang=lang)._get_labels()
        self.assertNotEqual(labels, self.english, lang)
        page = DisplayPage(self, f"{DISPLAY}?token={self.token}{query}")
        config = "JSON.parse(document.getElementById('display-config').textContent)"
        self.assertTrue(page.wait_for(f"{config}.locale === {json.dumps(lang.replace('_', '-'))}"))
        self.assertTrue(page.wait_for("document.body.innerText.includes('ECG')"))
        text = page.evaluate("document.body.innerText")
        self.assertFalse([words for words in self.words(self.english) if words in text], text)
        self.assertTrue([words for words in self.words(labels) if words in text], text)

    def test_french_door_sign(self):
        self.assertSpeaks("fr_FR", "&room=TSIM1")

    def test_french_board(self):
        self.assertSpeaks("fr_FR", "")

    def test_german_door_sign(self):
        self.assertSpeaks("de_DE", "&room=TSIM1")

    def test_german_board(self):
        self.assertSpeaks("de_DE", "")

    def test_spanish_door_sign(self):
        self.assertSpeaks("es_ES", "&room=TSIM1")

    def test_spanish_board(self):
        self.assertSpeaks("es_ES", "")

    def test_hungarian_door_sign(self):
        self.assertSpeaks("hu_HU", "&room=TSIM1")

    def test_hungarian_board(self):
        self.assertSpeaks("hu_HU", "")

    def test_dutch_door_sign(self):
        self.assertSpeaks("nl_NL", "&room=TSIM1")

    def test_dutch_board(self):
        self.assertSpeaks("nl_NL", "")
