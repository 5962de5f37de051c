{
    "name": "External Calendar API",
    "version": "19.0.1.5.0",
    "summary": "Publish room bookings as secret ICS and JSON feeds, webhooks and read-only CalDAV",
    "category": "Productivity/Calendar",
    "author": "External Calendar API contributors",
    "license": "LGPL-3",
    "depends": ["calendar"],
    "external_dependencies": {"python": ["icalendar", "requests"]},
    "data": [
        "security/ir.model.access.csv",
        "data/ir_cron_data.xml",
        "data/calendar_feed_data.xml",
        "views/calendar_room_views.xml",
        "views/calendar_event_views.xml",
        "views/calendar_feed_key_views.xml",
        "views/calendar_feed_webhook_views.xml",
        "views/res_config_settings_views.xml",
        "wizard/calendar_feed_key_wizard_views.xml",
    ],
    "assets": {
        "web.assets_tests": ["external_calendar_api/static/tests/tours/**/*"],
    },
    "demo": [
        "demo/calendar_room_demo.xml",
        "demo/calendar_event_demo.xml",
    ],
    "post_init_hook": "_post_init_hook",
}
