"""19.0.1.9.0: stored segments are placed by hour (a busy day is stored hour by hour) and keep their
text as ``text``, which is read without hex decoding.

The segments are a cache of the entries: they are dropped with their
``bytea`` text column (the model adds it back as ``text``). The feed is
marked as never built, so that no request is sent an empty body under the
old ETag: requests get the 503 of a feed not built yet until the first
build after the update, a full one, has committed (the journal row makes
the next request start it). From a version before 19.0.1.8.0 there is no
segment table yet.
"""


def migrate(cr, version):
    cr.execute("SELECT to_regclass('calendar_feed_segment')")
    if cr.fetchone()[0]:
        cr.execute("DELETE FROM calendar_feed_segment")
        cr.execute("ALTER TABLE calendar_feed_segment DROP COLUMN IF EXISTS body")
    cr.execute(
        "UPDATE calendar_feed SET built_at = NULL, ics_etag = NULL, json_etag = NULL, content_key = NULL"
    )
    cr.execute("INSERT INTO calendar_feed_change (changed_at) VALUES (NOW() AT TIME ZONE 'UTC')")
