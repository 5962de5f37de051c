"""Which coding a client gets (RFC 9110 Accept-Encoding), and gzip written once, reproducibly."""

import gzip

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from booking_feed.encoding import GZIP, IDENTITY, choose_encoding, gzip_chunks


@pytest.mark.parametrize(
    ("accept_encoding", "expected"),
    [
        (None, IDENTITY),  # no header: no preference, and every client reads identity
        ("", IDENTITY),  # an empty value asks for no coding
        ("gzip, deflate, br", GZIP),  # Google, Outlook, Apple
        ("x-gzip", GZIP),
        ("GZip;Q=0.5", GZIP),  # names and parameters are case-insensitive
        ("gzip;q=0", IDENTITY),
        ("br, deflate", IDENTITY),
        ("*", GZIP),
        ("*;q=0, identity", IDENTITY),
        ("identity;q=0, gzip;q=0.1", GZIP),
        ("br;q=1, gzip;q=0.5, identity;q=0.8", IDENTITY),  # identity preferred
        ("gzip;q=0.8, identity;q=0.8", GZIP),  # a tie goes to the smaller body
        ("identity;q=0, *;q=0", IDENTITY),  # nothing acceptable: RFC 9110 allows no coding
        ("gzip;q=abc", IDENTITY),  # a malformed entry is ignored
        ("gzip;q=2", IDENTITY),
        (",,;;,gzip", GZIP),
    ],
)
def test_accept_encoding_rules(accept_encoding, expected):
    assert choose_encoding(accept_encoding) == expected


@settings(max_examples=300, derandomize=True, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("gzipidentty*x-;q=0.51, \t\x00é")), max_size=60))
def test_any_header_gets_one_of_the_two_codings(accept_encoding):
    assert choose_encoding(accept_encoding) in (GZIP, IDENTITY)


def test_gzip_of_chunks_is_the_gzip_of_their_concatenation_and_reproducible():
    chunks = [b"BEGIN:VCALENDAR\r\n", "SUMMARY:Újraélesztés 🚑\r\n".encode() * 500, b"END:VCALENDAR\r\n"]
    compressed = gzip_chunks(chunks)
    assert gzip.decompress(compressed) == b"".join(chunks)
    assert gzip_chunks(iter(chunks)) == compressed  # same bytes at every build: a stable ETag
    assert len(compressed) * 5 < len(b"".join(chunks))
