from . import calendar_event, calendar_room
