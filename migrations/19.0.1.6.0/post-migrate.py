"""Render every entry again with this version's code, once.

Updates used to do it on every run; now the migration of each version that
changes what the feeds render does it, and this one covers every version
before it (a database may jump from any of them to this one).
"""

from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    env = api.Environment(cr, SUPERUSER_ID, {})
    env["calendar.feed.entry"]._render_all_again()
