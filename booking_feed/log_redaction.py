"""Secrets of request lines, hidden before a log record is written.

Feed links carry their secret in the query string (``?token=``), since that
is all a calendar app can subscribe to, and the OAuth consent returns with a
``code`` and ``state``. Odoo's server logs every request line at INFO (the
``werkzeug`` access log, on by default), so each poll would write a working
link into log files that more people read, and for longer, than the database.
The filter rewrites the records of these paths only: what is logged of the
rest of the server is not ours to change.
"""

import logging
import re
from urllib.parse import unquote_plus

#: ``METHOD target`` at the start of a request line, after any colour codes werkzeug adds.
_REQUEST_TARGET = re.compile(r"^((?:\x1b\[[0-9;]*m)*[A-Z]+ )(\S+)")
REDACTED = "[redacted]"


def redact_request_line(line: str, path_prefixes, parameters) -> str:
    """``line`` with the values of the query ``parameters`` replaced, if its target is on one of
    ``path_prefixes``. Names are compared decoded, as the server reads them (``tok%65n`` is
    ``token``)."""
    match = _REQUEST_TARGET.match(line)
    if not match:
        return line
    path, question_mark, query = match.group(2).partition("?")
    if not question_mark or not path.startswith(tuple(path_prefixes)):
        return line
    query, hash_mark, fragment = query.partition("#")
    pairs = []
    for pair in query.split("&"):
        name, equals, _value = pair.partition("=")
        pairs.append(f"{name}={REDACTED}" if equals and unquote_plus(name) in parameters else pair)
    target = f"{path}?{'&'.join(pairs)}{hash_mark}{fragment}"
    return match.group(1) + target + line[match.end() :]


class RequestSecretsFilter(logging.Filter):
    """Hides the values of ``parameters`` in the request lines of ``path_prefixes`` that a logger
    (werkzeug's access log) records; every record passes, changed or not."""

    def __init__(self, path_prefixes, parameters):
        super().__init__()
        self.path_prefixes = tuple(path_prefixes)
        self.parameters = frozenset(parameters)

    def filter(self, record):
        if isinstance(record.args, tuple) and record.args:
            record.args = tuple(
                redact_request_line(arg, self.path_prefixes, self.parameters) if isinstance(arg, str) else arg
                for arg in record.args
            )
        return True
