from . import calendar_feed_key_wizard
