import logging
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from booking_feed.log_redaction import REDACTED, RequestSecretsFilter, redact, secrets_pattern

SECRETS = secrets_pattern(("token", "code", "state"))
HIDDEN = f"token={REDACTED}"


@pytest.mark.parametrize(
    ("line", "logged"),
    [
        (
            "GET /w/api/v2/public_calendar.ics?token=s3cret HTTP/1.1",
            f"GET /w/api/v2/public_calendar.ics?{HIDDEN} HTTP/1.1",
        ),
        (
            "GET /w/api/v2/public_calendar.json?room=R1&token=s3cret&since=x HTTP/1.1",
            f"GET /w/api/v2/public_calendar.json?room=R1&{HIDDEN}&since=x HTTP/1.1",
        ),
        ("HEAD /consent?state=a&code=b HTTP/1.1", f"HEAD /consent?state={REDACTED}&code={REDACTED} HTTP/1.1"),
        # werkzeug colours the line by status.
        (
            "\x1b[33mGET /w/x.ics?token=s3cret HTTP/1.1\x1b[0m",
            f"\x1b[33mGET /w/x.ics?{HIDDEN} HTTP/1.1\x1b[0m",
        ),
        ("GET /w/x.ics?token=s3cret#rpc HTTP/1.1", f"GET /w/x.ics?{HIDDEN}#rpc HTTP/1.1"),
        ("GET /w/x.ics?token=a&token=b HTTP/1.1", f"GET /w/x.ics?{HIDDEN}&{HIDDEN} HTTP/1.1"),
        # Logged otherwise than routed: an absolute target, an encoded slash, a decoded no-break space.
        ("GET http://host/w/x.ics?token=s3cret HTTP/1.1", f"GET http://host/w/x.ics?{HIDDEN} HTTP/1.1"),
        ("GET /w%2Fapi/v2/x.ics?token=s3cret HTTP/1.1", f"GET /w%2Fapi/v2/x.ics?{HIDDEN} HTTP/1.1"),
        ("GET /w/x.ics?x=\u00a0&token=s3cret HTTP/1.1", f"GET /w/x.ics?x=\u00a0&{HIDDEN} HTTP/1.1"),
        ("get /w/x.ics?token=s3cret HTTP/1.1", f"get /w/x.ics?{HIDDEN} HTTP/1.1"),
        # A token's own escapes are hidden with it.
        ("GET /w/x.ics?token=s3%2Dcret HTTP/1.1", f"GET /w/x.ics?{HIDDEN} HTTP/1.1"),
        # A malformed request line, quoted in werkzeug's error.
        (
            "Bad request syntax ('GET /w/x.ics?token=s3cret HTTP/1.1 junk')",
            f"Bad request syntax ('GET /w/x.ics?{HIDDEN} HTTP/1.1 junk')",
        ),
        # The consent's query inside the login redirect of a request without a session.
        (
            "GET /web/login?redirect=%2Fconsent%3Fcode%3Ds3cret%26state%3Ds3cret2%26x%3D1 HTTP/1.1",
            f"GET /web/login?redirect=%2Fconsent%3Fcode%3D{REDACTED}%26state%3D{REDACTED}%26x%3D1 HTTP/1.1",
        ),
        # Odoo's own links hold secrets too (password reset, signup).
        ("GET /web/reset_password?token=s3cret HTTP/1.1", f"GET /web/reset_password?{HIDDEN} HTTP/1.1"),
    ],
)
def test_secrets_are_hidden(line, logged):
    assert redact(line, SECRETS) == logged
    assert "s3cret" not in redact(line, SECRETS)


@pytest.mark.parametrize(
    "line",
    [
        "GET /w/x.ics?room=R1&tokens=x&token HTTP/1.1",  # no such parameter, no value
        "GET /w/x.ics?access_token=x&zipcode=1000 HTTP/1.1",  # other names that end alike
        "GET /w/api/v2/public_calendar.ics HTTP/1.1",
        "Bad request version ('HTTP/9')",
        "",
    ],
)
def test_other_lines_are_left_alone(line):
    assert redact(line, SECRETS) == line


def test_filter_rewrites_the_records_message_and_arguments_and_lets_every_record_through():
    record = logging.LogRecord(
        "werkzeug",
        logging.INFO,
        __file__,
        1,
        '127.0.0.1 - - [date] "%s" %s %s\n',
        ("GET /w/x.ics?token=s3cret HTTP/1.1", "200", 42),
        None,
    )
    secrets = RequestSecretsFilter(("token",))
    assert secrets.filter(record) is True
    assert record.getMessage() == f'127.0.0.1 - - [date] "GET /w/x.ics?{HIDDEN} HTTP/1.1" 200 42\n'
    plain = logging.LogRecord(
        "werkzeug", logging.INFO, __file__, 1, "code 400, GET /?token=s3cret", None, None
    )
    assert secrets.filter(plain) is True
    assert plain.getMessage() == f"code 400, GET /?{HIDDEN}"


TOKEN_ALPHABET = string.ascii_letters + string.digits + "-_"
NAMES = st.text(alphabet=TOKEN_ALPHABET + ".~+", max_size=12).filter(
    lambda name: name not in ("token", "code", "state")
)
VALUES = st.text(alphabet=TOKEN_ALPHABET + ".~%+", max_size=20)


@settings(max_examples=400, derandomize=True, deadline=None)
@given(
    secret=st.text(alphabet=TOKEN_ALPHABET, min_size=43, max_size=43),
    others=st.lists(st.tuples(NAMES, VALUES), max_size=5),
    position=st.integers(min_value=0, max_value=5),
    path=st.sampled_from(["/w/api/v2/public_calendar.ics", "/consent", "/web/login", "http://h/w/a.json"]),
)
def test_no_secret_survives_and_nothing_else_changes(secret, others, position, path):
    pairs = [f"{name}={value}" for name, value in others]
    pairs.insert(min(position, len(pairs)), f"token={secret}")
    line = f"GET {path}?{'&'.join(pairs)} HTTP/1.1"
    logged = redact(line, SECRETS)
    assert secret not in logged
    assert logged == line.replace(f"token={secret}", HIDDEN)
