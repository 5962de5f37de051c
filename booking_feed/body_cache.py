"""The plain bodies a worker last sent, kept and patched segment by segment.

A plain answer is a stored body's segment texts one after the other: 35 MB
of ICS or 43 MB of JSON at 100k bookings. Fetching them from PostgreSQL
costs a poll more than the change before it does (about 40 ms at 100k
against a 30 ms build) and grows with the feed, where a change's cost does
not. So a worker keeps the texts of the last body of each feed and format it
sent, each under its segment's position and digest (a digest of the text):
after a change it fetches only the segments whose digest moved, and a body
whose ETag it already holds is sent with no query at all.

Nothing stale can be sent: a text is reused only under the same digest, and
the ETag is a digest of the segments' digests. Memory stays bounded: one
body per key, which replaces the one before (unchanged texts are shared, not
copied), none above ``size_limit``, and at most ``total_limit`` in all, the
least recently sent forgotten first (a server of many databases, or one
that never recycles its process). Safe across a worker's threads: a kept
body is never changed, only replaced under a lock; two requests of one key
racing keep the last one's body, which costs the other's a fetch, never a
wrong answer.
"""

import threading
from collections import OrderedDict
from dataclasses import dataclass, field

#: Bytes of the largest body kept (above it a body is fetched for every request):
#: 100k bookings make 35 MB of ICS and 43 MB of JSON.
SIZE_LIMIT = 64 * 2**20
#: Bytes of all bodies kept by one process.
TOTAL_LIMIT = 256 * 2**20


@dataclass(frozen=True)
class KeptBody:
    """A body as sent: its ETag, and its segments' ``(position, text)`` in order with their
    digests."""

    etag: str
    segments: tuple[tuple[int, bytes], ...]
    texts: dict = field(repr=False)  # {(position, digest): text}
    size: int = 0


class BodyCache:
    """The last body sent of each key (a database's feed and format)."""

    def __init__(self, size_limit=SIZE_LIMIT, total_limit=TOTAL_LIMIT):
        self.size_limit, self.total_limit = size_limit, total_limit
        self._bodies = OrderedDict()  # least recently sent first
        self._size = 0
        self._lock = threading.Lock()

    def segments(self, key, etag, read_index, fetch):
        """``(position, text)`` of the body whose ETag is ``etag``, in order.

        ``read_index()`` gives the body's ``(position, digest)`` in order and
        ``fetch(positions)`` the texts of those positions (``{position: text}``);
        neither is called when the kept body is the one asked for, and
        ``fetch`` only for the segments not kept.
        """
        with self._lock:
            kept = self._bodies.get(key)
            if kept is not None:
                self._bodies.move_to_end(key)
        if kept is not None and kept.etag == etag:
            return kept.segments
        known = kept.texts if kept is not None else {}
        index = read_index()
        fetched = fetch([position for position, digest in index if (position, digest) not in known])
        texts = {
            (position, digest): known[position, digest] if (position, digest) in known else fetched[position]
            for position, digest in index
        }
        segments = tuple((position, texts[position, digest]) for position, digest in index)
        self._keep(key, KeptBody(etag, segments, texts, sum(len(text) for _position, text in segments)))
        return segments

    def _keep(self, key, body):
        """Keep ``body`` as ``key``'s, if it fits, forgetting the least recently sent to make room."""
        with self._lock:
            replaced = self._bodies.pop(key, None)
            self._size -= replaced.size if replaced is not None else 0
            if body.size > min(self.size_limit, self.total_limit):
                return
            while self._size + body.size > self.total_limit:
                _key, forgotten = self._bodies.popitem(last=False)
                self._size -= forgotten.size
            self._bodies[key] = body
            self._size += body.size
