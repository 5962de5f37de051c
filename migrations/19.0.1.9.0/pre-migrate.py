"""19.0.1.9.0: stored segments are placed by hour (a busy day is stored hour by hour) and keep their
text as ``text``, which is read without hex decoding.

The segments are a cache of the entries: they are dropped with their
``bytea`` text column (the model adds it back as ``text``), and a journal
row makes the first request after the update build again; that build finds
no segment and renders every day (``calendar.feed._assemble``). From a
version before 19.0.1.8.0 there is no segment table yet.
"""


def migrate(cr, version):
    cr.execute("SELECT to_regclass('calendar_feed_segment')")
    if cr.fetchone()[0]:
        cr.execute("DELETE FROM calendar_feed_segment")
        cr.execute("ALTER TABLE calendar_feed_segment DROP COLUMN IF EXISTS body")
    cr.execute("INSERT INTO calendar_feed_change (changed_at) VALUES (NOW() AT TIME ZONE 'UTC')")
