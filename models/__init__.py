from . import (
    calendar_event,
    calendar_feed,
    calendar_feed_change,
    calendar_feed_entry,
    calendar_room,
    ir_config_parameter,
    res_config_settings,
)
