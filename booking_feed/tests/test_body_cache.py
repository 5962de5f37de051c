import hashlib

import pytest

from booking_feed.body_cache import BodyCache


def digest(text):
    return hashlib.sha256(text).hexdigest()[:32]


class Store:
    """Segments as stored, and a record of what the cache asked for."""

    def __init__(self, texts):
        self.texts = dict(texts)  # {position: text}
        self.index_reads, self.fetches = 0, []

    @property
    def etag(self):
        return digest(" ".join(digest(self.texts[p]) for p in sorted(self.texts)).encode())

    def read_index(self):
        self.index_reads += 1
        return [(position, digest(self.texts[position])) for position in sorted(self.texts)]

    def fetch(self, positions):
        self.fetches.append(sorted(positions))
        return {position: bytes(self.texts[position]) for position in positions}  # fresh objects

    def segments(self, cache, key="feed"):
        return cache.segments(key, self.etag, self.read_index, self.fetch)


@pytest.fixture
def store():
    return Store({-1: b"HEAD", 10: b"day ten", 11: b"day eleven", 12: b"day twelve", 99: b"TAIL"})


def test_first_body_is_fetched_whole_and_the_same_etag_costs_nothing(store):
    cache = BodyCache()
    first = store.segments(cache)
    assert first == tuple(sorted(store.texts.items()))
    assert store.fetches == [[-1, 10, 11, 12, 99]] and store.index_reads == 1
    assert store.segments(cache) is first
    assert store.fetches == [[-1, 10, 11, 12, 99]] and store.index_reads == 1


def test_a_change_fetches_only_the_segments_it_moved(store):
    cache = BodyCache()
    before = dict(store.segments(cache))
    store.texts[11] = b"day eleven, changed"
    store.texts[13] = b"a new day"
    del store.texts[12]
    after = store.segments(cache)
    assert after == tuple(sorted(store.texts.items()))
    assert store.fetches[1:] == [[11, 13]]
    # Unchanged texts are the ones kept, not copies.
    assert all(dict(after)[position] is before[position] for position in (-1, 10, 99))


def test_a_text_is_reused_only_at_its_own_position(store):
    cache = BodyCache()
    store.segments(cache)
    store.texts[12] = store.texts[10]  # same text, same digest, another position
    assert store.segments(cache) == tuple(sorted(store.texts.items()))
    assert store.fetches[1:] == [[12]]


def test_going_back_to_an_earlier_body_is_served_right(store):
    cache = BodyCache()
    original = store.segments(cache)
    store.texts[10] = b"changed"
    store.segments(cache)
    store.texts[10] = b"day ten"
    assert store.segments(cache) == original


def test_keys_are_kept_apart(store):
    cache = BodyCache()
    other = Store({-1: b"{", 10: b"[]", 99: b"}"})
    assert store.segments(cache, "ics") != other.segments(cache, "json")
    assert store.segments(cache, "ics") == tuple(sorted(store.texts.items()))
    assert other.segments(cache, "json") == tuple(sorted(other.texts.items()))
    assert len(store.fetches) == len(other.fetches) == 1


def test_bodies_above_the_limit_are_not_kept(store):
    size = sum(len(text) for text in store.texts.values())
    cache = BodyCache(size_limit=size - 1)
    store.segments(cache)
    assert store.segments(cache) == tuple(sorted(store.texts.items()))
    assert store.fetches == [[-1, 10, 11, 12, 99]] * 2
    kept = BodyCache(size_limit=size)
    store.segments(kept)
    store.segments(kept)
    assert len(store.fetches) == 3


def test_the_least_recently_sent_body_makes_room_when_all_would_not_fit(store):
    size = sum(len(text) for text in store.texts.values())
    cache = BodyCache(total_limit=2 * size)
    first, second, third = (Store(dict(store.texts)) for _ in range(3))
    first.segments(cache, "first")
    second.segments(cache, "second")
    first.segments(cache, "first")  # sent again: now the most recent
    third.segments(cache, "third")  # no room for three: "second" goes
    for kept, key in ((first, "first"), (third, "third")):
        kept.segments(cache, key)
        assert len(kept.fetches) == 1, key
    second.segments(cache, "second")
    assert len(second.fetches) == 2
