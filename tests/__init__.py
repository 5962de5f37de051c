from . import test_calendar_room
from . import test_calendar_event
from . import test_access_rights
from . import test_room_pages
