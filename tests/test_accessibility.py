"""axe-core on the addon's own screens: no violation from the addon's markup.

The settings page, the New key dialog (both its steps), the room form, the
webhook form and the push target form are opened in Odoo's test Chromium,
axe-core (pinned, installed by ``make test`` into .cache/npm) is injected and
run. A violation is the addon's when its node is inside the addon's view (the
settings app, a dialog's body and footer, a form's renderer) and is not one of
the known defects of an Odoo component listed below; the rest (navigation
bar, control panel, dialogs' frames, those components) is Odoo's web client's,
listed in the README.
"""

import json
import logging
import os
from pathlib import Path

from odoo.tests import HttpCase, tagged

from .common import FeedCase
from .test_display import DisplayPage

_logger = logging.getLogger(__name__)

#: axe-core's script: AXE_CORE_JS, else where scripts/bootstrap_venv.py puts it.
AXE_CORE_JS = Path(
    os.environ.get("AXE_CORE_JS")
    or Path(__file__).resolve().parent.parent / ".cache/npm/node_modules/axe-core/axe.min.js"
)
ACTION = "/odoo/action-external_calendar_api"
#: What the addon's markup is, in each screen: the settings app, a dialog, a form's renderer.
SETTINGS_APP = '.app_settings_block[data-key="external_calendar_api"]'
DIALOG = ".modal-body, .modal-footer"
FORM = ".o_form_renderer"

#: Odoo's web client components, and what axe finds wrong in them wherever they are used:
#: (rule, CSS selector of the component) -> what it is.
ODOO_WEB_CLIENT = {
    ("aria-allowed-attr", ".o_tag"): "many2many tags: aria-selected on a span without a role",
    ("aria-allowed-attr", ".o-autocomplete--input"): "relational inputs: aria-selected on a combobox",
    ("aria-allowed-attr", ".o-dropdown.dropdown-toggle"): "the tags' dropdown: aria-expanded on a plain div",
    ("autocomplete-valid", ".o_select_menu_input"): "selection fields: an invalid autocomplete value",
    ("aria-required-parent", ".o_notebook_headers .nav-link"): "notebook tabs: role tab without a tablist",
    ("aria-required-parent", ".o_colorlist_toggler"): "colour picker: role menuitem without a menu",
    ("color-contrast", ".o_setting_right_pane > .text-muted"): "a setting's help: #757a7f on white, 4.33:1",
    ("color-contrast", ".o_list_renderer thead"): "an empty list's column titles: #c6c6c6 on white, 1.7:1",
    ("empty-table-header", "th.o_list_button"): "a list's column of buttons has no title",
    ("landmark-main-is-top-level", ".modal main"): "a form in a dialog: its main landmark inside the dialog",
    ("label", ".o_list_renderer .form-check-input"): "a boolean in a list: a checkbox whose label is empty",
}

#: In the page: axe's violations, each node marked as the addon's or not (see the docstring).
AXE_VIOLATIONS = """((scope, odoo) => axe.run(document, {resultTypes: ["violations"]}).then((results) =>
    results.violations.flatMap((violation) => violation.nodes.map((node) => {
        const element = document.querySelector(node.target[0]);
        const known = odoo.some(([rule, selector]) => rule === violation.id && element?.closest(selector));
        return {
            rule: violation.id,
            impact: violation.impact,
            html: node.html.slice(0, 200),
            why: node.failureSummary.replace(/\\s+/g, " ").slice(0, 200),
            addon: !!element?.closest(scope) && !known,
        };
    }))
))"""


@tagged("post_install", "-at_install")
class TestAccessibility(FeedCase, HttpCase):
    maxDiff = None

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.enable_endpoint()
        rooms = [{"name": f"Room {index}", "code": f"TAXE{index}"} for index in range(14)]
        cls.env["calendar.room"].create(rooms)  # 16 rooms: 48 Copy buttons in Room feeds
        cls.env["calendar.feed.key"].generate({"name": "Reception display"})
        cls.webhook = cls.env["calendar.feed.webhook"].create(
            {"name": "Room panels", "url": "https://example.com/hooks/rooms"}
        )

    def setUp(self):
        super().setUp()
        if not AXE_CORE_JS.is_file():
            reason = f"needs axe-core at {AXE_CORE_JS} (scripts/bootstrap_venv.py installs it with npm)"
            _logger.warning("ACCESSIBILITY CHECKS SKIPPED: %s", reason)
            self.skipTest(reason)
        self.page = DisplayPage(self)
        self.authenticate("room_admin", "room_admin", browser=self.page.browser)

    def addon_violations(self, ready, scope):
        """axe's violations of the addon's markup once ``ready`` (a selector) is in the page."""
        ready_code = f"!!document.querySelector({json.dumps(ready)})"
        self.assertTrue(self.page.wait_for(ready_code, seconds=30), f"never ready: {ready}")
        self.page.evaluate(AXE_CORE_JS.read_text(encoding="utf-8"))
        known = json.dumps([list(component) for component in ODOO_WEB_CLIENT])
        found = self.page.evaluate(f"{AXE_VIOLATIONS}({json.dumps(scope)}, {known})", timeout=60)
        for violation in found:
            if not violation["addon"]:
                _logger.info("axe, Odoo's web client: %(rule)s (%(impact)s) %(html)s", violation)
        return sorted(f"{v['rule']} ({v['impact']}): {v['html']} {v['why']}" for v in found if v["addon"])

    def test_the_settings_page_and_the_new_key_dialog(self):
        self.page.resize(1366, 6000)  # every setting in view: axe checks the contrast of what is shown
        self.page.open(f"{ACTION}.external_calendar_settings_action")
        ready = f"{SETTINGS_APP} .o_external_calendar_room_feeds .o_data_row"
        self.assertEqual(self.addon_violations(ready, SETTINGS_APP), [])
        self.page.evaluate("document.querySelector('.o_external_calendar_new_key').click()")
        self.assertEqual(self.addon_violations(".modal .o_external_calendar_key_create", DIALOG), [])
        self.page.evaluate("""(() => {
            const name = document.querySelector('.modal [name=name] input');
            name.value = 'Door of room 1';
            name.dispatchEvent(new Event('input', {bubbles: true}));
            name.dispatchEvent(new Event('change', {bubbles: true}));
            document.querySelector('.modal .o_external_calendar_key_create').click();
        })()""")
        self.assertEqual(self.addon_violations(".modal .o_external_calendar_key_done", DIALOG), [])

    def test_the_settings_page_with_the_endpoint_off(self):
        self.set_feed_param("enabled", False)
        self.page.resize(1366, 6000)
        self.page.open(f"{ACTION}.external_calendar_settings_action")
        ready = f"{SETTINGS_APP} .o_external_calendar_ics_link_disabled"
        self.assertEqual(self.addon_violations(ready, SETTINGS_APP), [])

    def test_the_room_webhook_and_push_target_forms(self):
        for path in (
            f"{ACTION}.calendar_room_action/{self.sim_room.id}",
            f"{ACTION}.calendar_feed_webhook_action/{self.webhook.id}",
            f"{ACTION}.calendar_feed_push_action/new",
        ):
            with self.subTest(path=path):
                self.page.open(path)
                self.assertEqual(self.addon_violations(FORM, FORM), [])
