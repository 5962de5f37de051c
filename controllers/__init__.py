import logging

from ..booking_feed.api import DISPLAY_PATH, FEED_PATH, LEARNINGSPACE_JSON_PATH
from ..booking_feed.dav_paths import DAV_ROOT
from ..booking_feed.log_redaction import RequestSecretsFilter
from ..models.calendar_feed_push_oauth_mixin import CONSENT_PATH
from . import caldav, public_calendar, push_consent

#: The secrets these routes read from the query string: feed tokens, the OAuth consent's code and state.
ROUTE_SECRETS = RequestSecretsFilter(
    path_prefixes=(FEED_PATH, LEARNINGSPACE_JSON_PATH, DISPLAY_PATH, DAV_ROOT, CONSENT_PATH),
    parameters=("token", "code", "state"),
)
# Odoo logs each request line to "werkzeug" at INFO: never with a working feed link in it.
# One filter object, so loading the addon again adds nothing.
logging.getLogger("werkzeug").addFilter(ROUTE_SECRETS)
