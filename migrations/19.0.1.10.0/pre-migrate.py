"""19.0.1.10.0: the index of ``calendar_feed_entry.removed_at`` holds tombstones only.

Odoo creates a field's index when none of its name exists, and keeps one
that does whatever its definition: the full index is dropped here, and the
update creates the partial one (``WHERE removed_at IS NOT NULL``).
"""


def migrate(cr, version):
    cr.execute("DROP INDEX IF EXISTS calendar_feed_entry__removed_at_index")
