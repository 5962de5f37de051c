from . import test_access_rights, test_calendar_event, test_calendar_room, test_room_pages
