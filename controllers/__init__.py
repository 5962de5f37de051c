from . import caldav, public_calendar
