# The mixins first: the models below inherit them.
from . import (  # isort: skip
    calendar_feed_body_mixin,
    calendar_feed_change_mixin,
    calendar_feed_push_oauth_mixin,
    calendar_feed_reader_freebusy_mixin,
)
from . import (
    calendar_event,
    calendar_feed,
    calendar_feed_change,
    calendar_feed_dav,
    calendar_feed_display,
    calendar_feed_entry,
    calendar_feed_freebusy,
    calendar_feed_key,
    calendar_feed_push,
    calendar_feed_push_object,
    calendar_feed_query,
    calendar_feed_reader,
    calendar_feed_segment,
    calendar_feed_usage,
    calendar_feed_webhook,
    calendar_feed_webhook_delivery,
    calendar_room,
    ir_config_parameter,
    res_config_settings,
)
