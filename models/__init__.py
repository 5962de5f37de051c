from . import calendar_room
from . import calendar_event
