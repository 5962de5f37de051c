import logging

from ..booking_feed.log_redaction import RequestSecretsFilter
from . import caldav, public_calendar, push_consent

#: Feed links' secret (``token``) and the OAuth consent's ``code`` and ``state``, in request lines.
REQUEST_SECRETS = RequestSecretsFilter(parameters=("token", "code", "state"))
# Odoo logs each request line to "werkzeug" at INFO: never with a working feed link in it.
# One filter object, so loading the addon again adds nothing.
logging.getLogger("werkzeug").addFilter(REQUEST_SECRETS)
