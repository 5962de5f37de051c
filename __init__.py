from . import controllers, models, wizard


def _post_init_hook(env):
    """Give the feed links their secret at install, so they can be shown at once."""
    env["calendar.feed"]._get_token()


def _uninstall_hook(env):
    """Revoke every link for good: the token and settings go, and so does the stamp sequence.

    Odoo drops the addon's tables but not its system parameters nor a sequence
    made in SQL; left behind, a reinstall would bring the endpoint back on with
    the old token, and every old link would serve bookings again.
    """
    env["ir.config_parameter"].sudo().search([("key", "=like", "external_calendar_api.%")]).unlink()
    env.cr.execute("DROP SEQUENCE IF EXISTS calendar_feed_entry_stamp_seq")
