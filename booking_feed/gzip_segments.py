"""One gzip stream spliced from segments compressed on their own.

A feed body is stored as segments (a day of bookings each, plus the head and
the tail), so that a change re-compresses the segment it touched and not the
whole body. Each segment is raw deflate ending with ``Z_FULL_FLUSH``: the
output is byte-aligned and the compressor's window is forgotten, so segments
concatenate into one valid deflate stream in any order and any number
(RFC 1951). :func:`splice_gzip` wraps them in one gzip member (RFC 1952):
the header, the segments, an empty final block, and a trailer with the
CRC-32 and size of the whole text.

The CRC-32 of the whole is combined from the segments' (:func:`crc32_combine`):
reading the texts again to checksum them would cost a pass over the whole
body at every change. zlib has ``crc32_combine`` but Python does not expose
it, so it is written here as zlib's ``crc32.c`` does it: a CRC is a
polynomial over GF(2), appending ``n`` bytes multiplies the first CRC by
``x^(8n)`` modulo the CRC polynomial, and ``x^(8n)`` is made from the
precomputed powers ``x^(2^k)``. Each segment stores its own ``x^(8n)``
(:func:`crc32_shift`), so the combination costs one multiplication per
segment (about 8 µs here: a few ms for two years of daily segments).
"""

import struct
import zlib

from .encoding import GZIP_LEVEL

#: The reflected CRC-32 polynomial (IEEE 802.3), as in zlib.
_POLYNOMIAL = 0xEDB88320
_ONE = 1 << 31  # the polynomial 1, in reflected bit order
#: gzip header: magic, deflate, no flags, no timestamp (reproducible output), no extra flags, Unix.
GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03"
#: An empty final block (fixed Huffman codes): ends the deflate stream after full-flushed segments.
FINAL_BLOCK = b"\x03\x00"


def _multiply(a: int, b: int) -> int:
    """``a * b`` modulo the CRC polynomial (zlib's ``multmodp``)."""
    product, mask = 0, _ONE
    while a:
        if a & mask:
            product ^= b
            a ^= mask
        mask >>= 1
        b = (b >> 1) ^ _POLYNOMIAL if b & 1 else b >> 1
    return product


def _powers_of_two():
    """``x^(2^k)`` modulo the polynomial, k = 0..31 (zlib's ``x2n_table``)."""
    powers, power = [], _ONE >> 1  # x^1
    for _ in range(32):
        powers.append(power)
        power = _multiply(power, power)
    return powers


_X2N = _powers_of_two()


def crc32_shift(length: int) -> int:
    """``x^(8 * length)`` modulo the polynomial: what appending ``length`` bytes does to a CRC."""
    power, exponent = _ONE, 3  # bytes are 2^3 bits
    while length:
        if length & 1:
            power = _multiply(_X2N[exponent & 31], power)
        length >>= 1
        exponent += 1
    return power


def crc32_combine(first: int, second: int, second_length: int, shift: int | None = None) -> int:
    """The CRC-32 of ``A + B`` from ``crc32(A)``, ``crc32(B)`` and ``len(B)`` (or its
    :func:`crc32_shift`, given as ``shift`` when known)."""
    shift = crc32_shift(second_length) if shift is None else shift
    return _multiply(shift, first) ^ second


def deflate_segment(text: bytes) -> bytes:
    """Raw deflate of ``text`` ending with a full flush: spliceable before and after any other."""
    compressor = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, -zlib.MAX_WBITS)
    return compressor.compress(text) + compressor.flush(zlib.Z_FULL_FLUSH)


def splice_gzip(segments) -> bytes:
    """One gzip stream of the concatenated texts of ``segments``, in order.

    ``segments`` yields ``(deflated, crc32, size, shift)``: the segment's
    :func:`deflate_segment`, the ``zlib.crc32`` and length of its text, and
    its :func:`crc32_shift`.
    """
    parts, crc, total = [GZIP_HEADER], 0, 0
    for deflated, segment_crc, size, shift in segments:
        parts.append(deflated)
        crc = crc32_combine(crc, segment_crc, size, shift)
        total += size
    parts.append(FINAL_BLOCK)
    parts.append(struct.pack("<II", crc, total & 0xFFFFFFFF))
    return b"".join(parts)
