from . import caldav, public_calendar, push_consent
