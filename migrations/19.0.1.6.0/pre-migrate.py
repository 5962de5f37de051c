"""19.0.1.6.0: the room codes of feed entries become PostgreSQL arrays.

``room_codes`` and ``seen_room_codes`` held codes as ``,A,B,`` texts matched
with LIKE; ``rooms_booked`` and ``rooms_seen`` are ``varchar[]`` columns with
GIN indexes (``calendar.feed.entry.init`` makes them on install). Odoo drops
the old columns with their fields at the end of the update. Also filled here,
once, what rows written by older versions lack, so that no request or build
has to allow for it any more:

- rows from before ``seen_room_codes`` (19.0.1.4.0) were seen in their own rooms only;
- rows from before 19.0.1.5.0 have no stored CalDAV ETag: it is computed as
  a build computes it (the digest of the object), so that the rendering again
  of the post-migration counts only real changes.
"""

from odoo.addons.external_calendar_api.booking_feed.ics import calendar_object


def migrate(cr, version):
    # A database may come from any older version: columns added since may not be there yet.
    cr.execute(
        """
        ALTER TABLE calendar_feed_entry
            ADD COLUMN IF NOT EXISTS rooms_booked varchar[] NOT NULL DEFAULT '{}',
            ADD COLUMN IF NOT EXISTS rooms_seen varchar[] NOT NULL DEFAULT '{}',
            ADD COLUMN IF NOT EXISTS seen_room_codes varchar,
            ADD COLUMN IF NOT EXISTS object_etag varchar;
        UPDATE calendar_feed_entry
           SET rooms_booked = string_to_array(btrim(room_codes, ','), ','),
               rooms_seen = string_to_array(btrim(COALESCE(seen_room_codes, room_codes), ','), ',')
         WHERE room_codes IS NOT NULL;
        """
    )
    head, tail = (part.decode() for part in calendar_object(b"[]").split(b"[]"))
    cr.execute(
        """
        UPDATE calendar_feed_entry
           SET object_etag = left(encode(sha256(convert_to(%s || ics_block || %s, 'UTF8')), 'hex'), 32)
         WHERE object_etag IS NULL
        """,
        [head, tail],
    )
