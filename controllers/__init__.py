from . import public_calendar
