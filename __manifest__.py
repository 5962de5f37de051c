{
    "name": "External Calendar API",
    "version": "19.0.1.0.0",
    "summary": "Publish room bookings as a secret ICS and JSON feed for Outlook, Google, Apple Calendar and IT integrations",
    "category": "Productivity/Calendar",
    "author": "External Calendar API contributors",
    "license": "LGPL-3",
    "depends": ["calendar"],
    "external_dependencies": {"python": ["icalendar"]},
    "data": [
        "security/ir.model.access.csv",
        "views/calendar_room_views.xml",
        "views/calendar_event_views.xml",
    ],
    "demo": [
        "demo/calendar_room_demo.xml",
        "demo/calendar_event_demo.xml",
    ],
    "installable": True,
    "application": False,
}
