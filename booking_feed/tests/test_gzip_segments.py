import gzip
import random
import zlib

import pytest

from booking_feed.gzip_segments import (
    crc32_combine,
    crc32_shift,
    deflate_segment,
    splice_gzip,
)

SAMPLES = [b"", b"a", b"BEGIN:VEVENT\r\n" * 300, "Újraélesztés 🚑 «ünnep»\r\n".encode() * 50]


def segment(text):
    return deflate_segment(text), zlib.crc32(text), len(text), crc32_shift(len(text))


@pytest.mark.parametrize("seed", range(20))
def test_crc32_combine_is_the_crc_of_the_concatenation(seed):
    rng = random.Random(seed)  # noqa: S311 (seeded on purpose: a failure replays)
    first, second = (rng.randbytes(rng.choice([0, 1, 7, 4096, rng.randrange(100_000)])) for _ in range(2))
    assert crc32_combine(zlib.crc32(first), zlib.crc32(second), len(second)) == zlib.crc32(first + second)
    shift = crc32_shift(len(second))
    assert crc32_combine(zlib.crc32(first), zlib.crc32(second), len(second), shift) == zlib.crc32(
        first + second
    )


def test_spliced_segments_are_one_gzip_stream_of_their_texts():
    texts = [*SAMPLES, *SAMPLES[::-1]]
    spliced = splice_gzip(segment(text) for text in texts)
    assert gzip.decompress(spliced) == b"".join(texts)
    stream = zlib.decompressobj(16 + zlib.MAX_WBITS)
    assert stream.decompress(spliced) + stream.flush() == b"".join(texts)
    assert stream.eof and not stream.unused_data


@pytest.mark.parametrize("texts", [[], [b""], [SAMPLES[3]]])
def test_no_segment_empty_segments_and_one_segment_are_valid_streams(texts):
    assert gzip.decompress(splice_gzip(segment(text) for text in texts)) == b"".join(texts)


def test_a_segment_changed_alone_splices_with_the_others_unchanged():
    texts = [b"head\r\n", b"day one\r\n" * 40, b"day two\r\n" * 40, b"tail\r\n"]
    segments = [segment(text) for text in texts]
    segments[2] = segment(b"day two, changed\r\n" * 40)
    expected = texts[0] + texts[1] + b"day two, changed\r\n" * 40 + texts[3]
    assert gzip.decompress(splice_gzip(segments)) == expected
