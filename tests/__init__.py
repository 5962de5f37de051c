from . import (
    test_access_rights,
    test_calendar_event,
    test_calendar_room,
    test_demo_data,
    test_feed_build,
    test_feed_content,
    test_feed_ics,
    test_feed_routes,
    test_feed_settings,
    test_json_api,
    test_json_sync,
    test_room_pages,
)
