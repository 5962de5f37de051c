import logging
import string
from urllib.parse import unquote_plus

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from booking_feed.log_redaction import REDACTED, RequestSecretsFilter, redact_request_line

PREFIXES = ("/w/api/v2/public_calendar", "/consent")
SECRETS = {"token", "code", "state"}


@pytest.mark.parametrize(
    ("line", "logged"),
    [
        (
            "GET /w/api/v2/public_calendar.ics?token=s3cret HTTP/1.1",
            f"GET /w/api/v2/public_calendar.ics?token={REDACTED} HTTP/1.1",
        ),
        (
            "GET /w/api/v2/public_calendar.json?room=R1&token=s3cret&since=x HTTP/1.1",
            f"GET /w/api/v2/public_calendar.json?room=R1&token={REDACTED}&since=x HTTP/1.1",
        ),
        ("HEAD /consent?state=a&code=b HTTP/1.1", f"HEAD /consent?state={REDACTED}&code={REDACTED} HTTP/1.1"),
        # werkzeug colours the line by status; the server reads tok%65n as token.
        (
            "\x1b[33mGET /w/api/v2/public_calendar.ics?tok%65n=s3cret HTTP/1.1\x1b[0m",
            f"\x1b[33mGET /w/api/v2/public_calendar.ics?tok%65n={REDACTED} HTTP/1.1\x1b[0m",
        ),
        (
            "GET /w/api/v2/public_calendar.ics?token=s3cret#rpc HTTP/1.1",
            f"GET /w/api/v2/public_calendar.ics?token={REDACTED}#rpc HTTP/1.1",
        ),
        # A repeated parameter: every copy of it.
        (
            "GET /w/api/v2/public_calendar.ics?token=a&token=b HTTP/1.1",
            f"GET /w/api/v2/public_calendar.ics?token={REDACTED}&token={REDACTED} HTTP/1.1",
        ),
    ],
)
def test_secrets_of_our_paths_are_hidden(line, logged):
    assert redact_request_line(line, PREFIXES, SECRETS) == logged
    assert "s3cret" not in redact_request_line(line, PREFIXES, SECRETS)


@pytest.mark.parametrize(
    "line",
    [
        "GET /web/reset_password?token=theirs HTTP/1.1",  # the rest of the server is not ours to change
        "GET /w/api/v2/public_calendar.ics?room=R1&tokens=x&token HTTP/1.1",  # no such parameter, no value
        "GET /w/api/v2/public_calendar.ics HTTP/1.1",
        "Bad request version ('HTTP/9')",
        "",
    ],
)
def test_other_lines_are_left_alone(line):
    assert redact_request_line(line, PREFIXES, SECRETS) == line


def test_filter_rewrites_the_records_arguments_and_lets_every_record_through():
    record = logging.LogRecord(
        "werkzeug",
        logging.INFO,
        __file__,
        1,
        '127.0.0.1 - - [date] "%s" %s %s\n',
        ("GET /w/api/v2/public_calendar.ics?token=s3cret HTTP/1.1", "200", 42),
        None,
    )
    assert RequestSecretsFilter(PREFIXES, SECRETS).filter(record) is True
    assert (
        record.getMessage()
        == f'127.0.0.1 - - [date] "GET /w/api/v2/public_calendar.ics?token={REDACTED} HTTP/1.1" 200 42\n'
    )
    plain = logging.LogRecord("werkzeug", logging.INFO, __file__, 1, "no arguments", None, None)
    assert RequestSecretsFilter(PREFIXES, SECRETS).filter(plain) is True
    assert plain.getMessage() == "no arguments"


TOKEN_ALPHABET = string.ascii_letters + string.digits + "-_"
SAFE_TEXT = st.text(alphabet=TOKEN_ALPHABET + ".~%+", max_size=20)


@settings(max_examples=400, derandomize=True, deadline=None)
@given(
    secret=st.text(alphabet=TOKEN_ALPHABET, min_size=43, max_size=43),
    others=st.lists(st.tuples(SAFE_TEXT, SAFE_TEXT), max_size=5),
    position=st.integers(min_value=0, max_value=5),
    path=st.sampled_from(["/w/api/v2/public_calendar.ics", "/consent", "/web/login"]),
)
def test_no_secret_survives_on_our_paths_and_nothing_else_changes(secret, others, position, path):
    pairs = [f"{name}={value}" for name, value in others if unquote_plus(name) not in SECRETS]
    pairs.insert(min(position, len(pairs)), f"token={secret}")
    line = f"GET {path}?{'&'.join(pairs)} HTTP/1.1"
    logged = redact_request_line(line, PREFIXES, SECRETS)
    if path == "/web/login":
        assert logged == line
    else:
        assert secret not in logged
        assert logged == line.replace(f"token={secret}", f"token={REDACTED}")
