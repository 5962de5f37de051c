"""Texts the library hands to people, in English, marked for translation.

The library has no Odoo, so it cannot translate; it marks what an administrator
will read (webhook errors, URL problems) with :func:`_lt`, the name Odoo's
translation export looks for, and the addon translates the text where it shows
it, e.g. ``self.env._(template) % values``.
"""


def _lt(message: str) -> str:
    """``message`` itself: a marker for Odoo's ``.pot`` export, translated where it is shown."""
    return message
