"""Secrets of request lines, hidden before a log record is written.

Feed links carry their secret in the query string (``?token=``), since that
is all a calendar app can subscribe to, and the OAuth consent returns with a
``code`` and ``state``. Odoo's server logs every request line at INFO (the
``werkzeug`` access log, on by default), so each poll would write a working
link into log files that more people read, and for longer, than the database.

Every line is rewritten, not only those of the addon's paths: a path is
logged otherwise than it is routed (``/w%2Fapi``, an absolute URL, a
malformed request line quoted in an error), a login redirect carries the
consent's query URL-encoded in its own, and Odoo's own signup and password
reset links hold a ``token`` too.
"""

import logging
import re

REDACTED = "[redacted]"


def secrets_pattern(parameters):
    """A pattern of the values of ``parameters`` in query strings, plain (``?token=v``) or
    URL-encoded inside another parameter's value (``%3Ftoken%3Dv``, ``%26token%3Dv``)."""
    names = "|".join(re.escape(name) for name in parameters)
    return re.compile(
        rf"(?P<plain>[?&;](?:{names})=)[^&#\s]*"
        rf"|(?P<encoded>(?:%3[Ff]|%26)(?:{names})%3[Dd])(?:(?!%26)[^&#\s])*"
    )


def redact(text: str, pattern) -> str:
    """``text`` with every value ``pattern`` (see :func:`secrets_pattern`) finds replaced."""
    return pattern.sub(lambda match: (match["plain"] or match["encoded"]) + REDACTED, text)


class RequestSecretsFilter(logging.Filter):
    """Hides the values of the query ``parameters`` in what a logger (werkzeug's access log)
    records; every record passes, changed or not."""

    def __init__(self, parameters):
        super().__init__()
        self.pattern = secrets_pattern(parameters)

    def filter(self, record):
        if isinstance(record.msg, str):
            record.msg = redact(record.msg, self.pattern)
        if isinstance(record.args, tuple):
            record.args = tuple(
                redact(arg, self.pattern) if isinstance(arg, str) else arg for arg in record.args
            )
        return True
