"""19.0.1.8.0: the stored feed bodies become segments (``calendar.feed.segment``).

The whole bodies and their gzip were columns of ``calendar_feed``: they are
dropped here (35 MB each at 100k bookings). ``ics_body`` and ``json_body``
stay as fields computed from the segments, so Odoo would keep their columns.
A journal row makes the first request after the update build again; that
build finds no segment and renders every day (``calendar.feed._assemble``).
"""


def migrate(cr, version):
    cr.execute(
        "ALTER TABLE calendar_feed DROP COLUMN IF EXISTS ics_body, DROP COLUMN IF EXISTS json_body, "
        "DROP COLUMN IF EXISTS ics_gzip, DROP COLUMN IF EXISTS json_gzip"
    )
    cr.execute("INSERT INTO calendar_feed_change (changed_at) VALUES (NOW() AT TIME ZONE 'UTC')")
