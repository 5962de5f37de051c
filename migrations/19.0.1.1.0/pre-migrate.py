"""Before 19.0.1.1.0 the feed's row was created on first use, without an XML id.

Give the existing row the XML id of ``data/calendar_feed_data.xml``, so that
loading that file adopts it instead of creating a second feed.
"""


def migrate(cr, version):
    cr.execute(
        """
        INSERT INTO ir_model_data (module, name, model, res_id, noupdate)
        SELECT 'external_calendar_api', 'calendar_feed_main', 'calendar.feed', min(id), true
          FROM calendar_feed
        HAVING count(*) > 0
            ON CONFLICT DO NOTHING
        """
    )
