"""Content codings of the feeds: which one a client accepts, and gzip written once.

Calendar servers (Google, Outlook, Apple) ask for ``gzip``; a feed of 10k
bookings shrinks about tenfold, so the full feeds are compressed once per
build and sent as they are. :func:`choose_encoding` reads the client's
``Accept-Encoding`` by RFC 9110 (section 12.5.3): q-values, ``*``,
``identity;q=0``, and ``x-gzip`` as a name of gzip.
"""

import zlib

GZIP = "gzip"
IDENTITY = "identity"
#: Below this size compressing an answer on the fly costs more than it saves (one packet).
COMPRESS_ON_THE_FLY_FROM = 1400
#: zlib's default level: within 20% of the smallest output, at a fifth of its time.
GZIP_LEVEL = 6
_UNLISTED_IDENTITY = 0.001  # the smallest q a client can write
_GZIP_WBITS = 31  # a gzip wrapper (with a zero timestamp, so output is reproducible)


def _qualities(accept_encoding: str) -> dict[str, float]:
    """Coding -> q of a header value; malformed entries are ignored, never an error."""
    qualities = {}
    for item in accept_encoding.split(","):
        coding, *parameters = (part.strip() for part in item.split(";"))
        coding = coding.lower()
        if not coding:
            continue
        quality = 1.0
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = -1.0
        if 0.0 <= quality <= 1.0:
            coding = GZIP if coding == "x-gzip" else coding
            qualities[coding] = max(quality, qualities.get(coding, 0.0))
    return qualities


def choose_encoding(accept_encoding: str | None) -> str:
    """``gzip`` if the client accepts it at least as well as no coding, else ``identity``.

    No header means no preference: the feeds are then sent without coding,
    which every client reads. A client that refuses both gets ``identity``
    too, as RFC 9110 allows, rather than an error.
    """
    if not accept_encoding:
        return IDENTITY
    qualities = _qualities(accept_encoding)
    anything = qualities.get("*")
    gzip_quality = qualities.get(GZIP, anything or 0.0)
    # Unlisted, "no coding" is acceptable (unless "*;q=0") but not preferred to a listed coding.
    identity_quality = qualities.get(IDENTITY, _UNLISTED_IDENTITY if anything is None else anything)
    return GZIP if gzip_quality > 0 and gzip_quality >= identity_quality else IDENTITY


def gzip_chunks(chunks) -> bytes:
    """The gzip of the concatenation of ``chunks`` (bytes), without holding that concatenation."""
    compressor = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, _GZIP_WBITS)
    parts = [compressor.compress(chunk) for chunk in chunks]
    parts.append(compressor.flush())
    return b"".join(parts)
