"""StreamingCache on both backends: hits, misses, partitions, TTL, LRU, stats, invalidation."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from llm_dispatch.cache import CachedStream, StreamingCache
from llm_dispatch.events import ProviderEvent, Usage
from llm_dispatch.request import Request
from llm_dispatch.task_types import TaskType

try:
    from cache_fixtures import backend, make_cache, req, stream
except ImportError:  # tests/ imported as a package
    from tests.cache_fixtures import backend, make_cache, req, stream  # noqa: F401

MakeCache = Callable[..., StreamingCache]


async def test_exact_hit_returns_the_stored_stream(make_cache: MakeCache) -> None:
    cache = make_cache()
    assert await cache.lookup(req("Write a haiku about Python"), route="r") is None
    assert await cache.store(req("Write a haiku about Python"), stream("Code ", "flows"), route="r")

    hit = await cache.lookup(req("Write a haiku about Python"), route="r")
    assert hit is not None
    assert hit.exact and hit.similarity == 1.0 and hit.kind == "exact"
    assert hit.entry.chunks == ("Code ", "flows")
    assert (hit.entry.provider, hit.entry.model) == ("openai", "gpt-4o-mini")
    assert hit.entry.usage == {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10}
    assert hit.entry.prompt == "Write a haiku about Python"
    assert cache.stats().hits == 1 and cache.stats().misses == 1
    info = hit.info()
    assert info["cache"] == "exact" and info["provider"] == "openai" and info["chunks"] == 2
    assert "prompt" not in info


async def test_similar_hit_and_miss_below_threshold(make_cache: MakeCache) -> None:
    stored, variant = "Write a haiku about Python", "Please write a haiku about Python"
    loose = make_cache(similarity_threshold=0.95)
    await loose.store(req(stored), stream("poem"), route="r")
    hit = await loose.lookup(req(variant), route="r")
    assert hit is not None and not hit.exact and hit.kind == "similar"
    assert 0.95 <= hit.similarity < 1.0
    assert hit.entry.text == "poem"

    strict = make_cache(similarity_threshold=0.999)
    await strict.store(req(stored), stream("poem"), route="r")
    assert await strict.lookup(req(variant), route="r") is None
    # The exact prompt is still a hit: the threshold only applies to similar ones.
    assert await strict.lookup(req(stored), route="r") is not None


async def test_the_best_scoring_candidate_wins(make_cache: MakeCache) -> None:
    vectors = {
        "Write a haiku about Python": [1.0, 0.0],
        "Please write a haiku about Python": [0.9, 0.1],
        "Kindly write the haiku about Python": [0.6, 0.4],
    }

    async def lookup_table(texts: list[str]) -> list[list[float]]:
        return [vectors[t] for t in texts]

    cache = make_cache(similarity_threshold=0.5, vectorizer=lookup_table)
    await cache.store(req("Kindly write the haiku about Python"), stream("far"), route="r")
    await cache.store(req("Please write a haiku about Python"), stream("near"), route="r")
    hit = await cache.lookup(req("Write a haiku about Python"), route="r")
    assert hit is not None and hit.entry.text == "near"


@pytest.mark.parametrize(
    ("stored", "asked"),
    [
        (req("q", system="You are terse."), req("q", system="You are verbose.")),
        (req("q"), req("q", system="You are terse.")),
        (req("q", temperature=0.0), req("q", temperature=0.7)),
        (req("q", max_tokens=100), req("q", max_tokens=200)),
        (req("q", stop=("\n",)), req("q")),
        (req("q", response_format={"type": "json_object"}), req("q")),
        (req("q", task_type=TaskType.CODE_GENERATION), req("q")),
        (req("q", history=[("user", "hi"), ("assistant", "hello")]), req("q")),
        (
            req("q", history=[("user", "about cats"), ("assistant", "ok")]),
            req("q", history=[("user", "about dogs"), ("assistant", "ok")]),
        ),
        (req("q", extra={"tools": [{"name": "a"}]}), req("q", extra={"tools": [{"name": "b"}]})),
        (req("q", extra={"seed": 1}), req("q")),
    ],
    ids=[
        "system",
        "system-added",
        "temperature",
        "max_tokens",
        "stop",
        "response_format",
        "task_type",
        "history",
        "history-content",
        "tools",
        "extra",
    ],
)
async def test_partition_differences_miss(
    make_cache: MakeCache, stored: Request, asked: Request
) -> None:
    cache = make_cache()
    await cache.store(stored, stream("answer"), route="r")
    assert await cache.lookup(asked, route="r") is None
    assert await cache.lookup(stored, route="r") is not None


async def test_scope_and_route_partition(make_cache: MakeCache) -> None:
    cache = make_cache()
    await cache.store(req("q"), stream("tenant a"), route="r", scope="tenant-a")
    assert await cache.lookup(req("q"), route="r", scope="tenant-b") is None
    assert await cache.lookup(req("q"), route="r") is None
    assert await cache.lookup(req("q"), route="other", scope="tenant-a") is None
    hit = await cache.lookup(req("q"), route="r", scope="tenant-a")
    assert hit is not None and hit.entry.scope == "tenant-a"
    # The scope may also travel in the request itself.
    assert await cache.lookup(req("q", extra={"cache_scope": "tenant-a"}), route="r") is not None


async def test_similarity_stays_inside_the_partition(make_cache: MakeCache) -> None:
    cache = make_cache()
    await cache.store(req("Write a haiku about Python", system="A"), stream("x"), route="r")
    assert (
        await cache.lookup(req("Please write a haiku about Python", system="B"), route="r") is None
    )


async def test_ignored_and_secret_extra_keys_do_not_partition(make_cache: MakeCache) -> None:
    cache = make_cache()
    await cache.store(
        req("q", extra={"request_id": "1", "api_key": "sk-live-SECRET"}), stream(), route="r"
    )
    assert await cache.lookup(req("q", extra={"request_id": "2"}), route="r") is not None


async def test_ttl_expires_entries(make_cache: MakeCache) -> None:
    cache = make_cache(ttl=0.3)
    await cache.store(req("Write a haiku about Python"), stream(), route="r")
    assert await cache.lookup(req("Write a haiku about Python"), route="r") is not None
    await asyncio.sleep(0.45)
    assert await cache.lookup(req("Write a haiku about Python"), route="r") is None
    assert await cache.lookup(req("Please write a haiku about Python"), route="r") is None
    assert cache.stats().misses == 2


async def test_lru_evicts_the_least_recently_used(make_cache: MakeCache) -> None:
    cache = make_cache(max_cache_size=3)
    for i in range(3):
        await cache.store(req(f"prompt {i}"), stream(f"answer {i}"), route="r")
    assert await cache.lookup(req("prompt 0"), route="r") is not None  # 0 is now the newest
    await cache.store(req("prompt 3"), stream("answer 3"), route="r")

    assert await cache.lookup(req("prompt 1"), route="r") is None
    for i in (0, 2, 3):
        assert await cache.lookup(req(f"prompt {i}"), route="r") is not None
    assert await cache.size() == 3
    assert cache.stats().evictions == 1


async def test_evicted_entries_leave_the_similarity_index(make_cache: MakeCache) -> None:
    cache = make_cache(max_cache_size=1)
    await cache.store(req("Write a haiku about Python"), stream("old"), route="r")
    await cache.store(req("something else"), stream("new"), route="r")
    assert await cache.lookup(req("Please write a haiku about Python"), route="r") is None


async def test_stats_count_everything(make_cache: MakeCache) -> None:
    cache = make_cache(max_cache_size=2)
    await cache.store(req("Write a haiku about Python"), stream(), route="r")
    await cache.lookup(req("write a haiku about python"), route="r")  # exact
    await cache.lookup(req("Please write a haiku about Python"), route="r")  # similar
    await cache.lookup(req("Write a haiku about Rust"), route="r")  # miss
    await cache.store(req("b"), stream(), route="r")
    await cache.store(req("c"), stream(), route="r")  # evicts one
    cache.record_bypass()
    stats = cache.stats()
    assert (stats.hits, stats.similar_hits, stats.misses) == (1, 1, 1)
    assert (stats.stores, stats.evictions, stats.bypasses, stats.errors) == (3, 1, 1, 0)
    assert stats.lookups == 3 and stats.hit_rate == pytest.approx(2 / 3)
    assert stats.as_dict()["hit_rate"] == pytest.approx(2 / 3)


async def test_clear_and_invalidate(make_cache: MakeCache) -> None:
    cache = make_cache()
    await cache.store(req("Write a haiku about Python"), stream(), route="r")
    await cache.store(req("Please write a haiku about Python"), stream(), route="r")
    await cache.store(req("other"), stream(), route="r")
    await cache.store(req("tenant q"), stream(), route="r", scope="t1")
    await cache.store(req("tenant q"), stream(), route="r2", scope="t1")

    # A request removes its answer and every variant that could be served for it.
    assert await cache.invalidate(req("write a haiku about python"), route="r") == 2
    assert await cache.lookup(req("Please write a haiku about Python"), route="r") is None
    assert await cache.lookup(req("other"), route="r") is not None

    assert await cache.invalidate(scope="t1") == 2
    assert await cache.lookup(req("tenant q"), route="r", scope="t1") is None
    assert await cache.size() == 1

    with pytest.raises(ValueError):
        await cache.invalidate()
    await cache.clear()
    assert await cache.size() == 0
    assert await cache.lookup(req("other"), route="r") is None


async def test_invalidate_a_route_in_every_scope(make_cache: MakeCache) -> None:
    cache = make_cache()
    await cache.store(req("q"), stream(), route="old-model", scope="a")
    await cache.store(req("q"), stream(), route="old-model")
    await cache.store(req("q"), stream(), route="new-model")
    assert await cache.invalidate(route="old-model", all_scopes=True) == 2
    assert await cache.lookup(req("q"), route="new-model") is not None


async def test_only_complete_answers_are_stored(make_cache: MakeCache) -> None:
    cache = make_cache()
    assert not await cache.store(req("a"), stream(chunks=()), route="r")
    assert not await cache.store(req("b"), stream(finish_reason="content_filter"), route="r")
    assert await cache.store(req("c"), stream(finish_reason="length"), route="r")
    assert cache.stats().stores == 1


async def test_recorder_stores_committed_streams_only(make_cache: MakeCache) -> None:
    cache = make_cache(replay_timing="recorded")
    recorder = cache.recorder(req("Write a haiku about Python"), route="r")
    recorder.add_event(ProviderEvent(text="Hello"))
    await asyncio.sleep(0.02)
    recorder.add_event(ProviderEvent(text=" world"))
    recorder.add_event(ProviderEvent(usage=Usage.of(5, 2), finish_reason="stop"))
    assert await recorder.commit(provider="anthropic", model="claude")
    assert not await recorder.commit(provider="anthropic", model="claude")  # once only

    hit = await cache.lookup(req("Write a haiku about Python"), route="r")
    assert hit is not None
    assert hit.entry.chunks == ("Hello", " world")
    assert hit.entry.offsets_ms is not None and hit.entry.offsets_ms[0] == 0.0
    assert hit.entry.offsets_ms[1] >= 15.0
    assert hit.entry.usage == Usage.of(5, 2).model_dump()
    assert hit.timing == "recorded"

    failed = cache.recorder(req("failed one"), route="r")
    failed.add("partial")
    failed.discard()
    assert not await failed.commit(provider="p", model="m")
    assert await cache.lookup(req("failed one"), route="r") is None


async def test_replay_immediate_and_recorded(make_cache: MakeCache) -> None:
    cache = make_cache()
    entry = stream("a", "b", "c", offsets_ms=(0.0, 60.0, 120.0))
    await cache.store(req("q"), entry, route="r")
    hit = await cache.lookup(req("q"), route="r")
    assert hit is not None

    events = [e async for e in hit.events()]
    assert [e.text for e in events[:-1]] == ["a", "b", "c"]
    assert events[-1].usage == Usage.of(7, 3) and events[-1].finish_reason == "stop"

    loop = asyncio.get_running_loop()
    started = loop.time()
    texts = [e.text async for e in hit.events("recorded") if e.text]
    assert texts == ["a", "b", "c"]
    assert loop.time() - started >= 0.11


async def test_long_stream_round_trips(make_cache: MakeCache) -> None:
    cache = make_cache()
    chunks = tuple(f"tok{i} " for i in range(2000))
    await cache.store(req("long"), stream(*chunks), route="r")
    hit = await cache.lookup(req("long"), route="r")
    assert hit is not None
    replayed = [e.text async for e in hit.events() if e.text]
    assert tuple(replayed) == chunks


async def test_pluggable_vectorizer_scores_similar_hits(make_cache: MakeCache) -> None:
    calls: list[list[str]] = []

    async def by_length(texts: list[str]) -> list[list[float]]:
        calls.append(texts)
        return [[1.0, len(t) / 100.0] for t in texts]

    cache = make_cache(vectorizer=by_length, similarity_threshold=0.99)
    await cache.store(req("Write a haiku about Python"), stream("poem"), route="r")
    hit = await cache.lookup(req("Please write a haiku about Python"), route="r")
    assert hit is not None and not hit.exact and hit.similarity >= 0.99
    # No embedding call on an exact hit, nor when no guard-compatible entry exists.
    calls.clear()
    assert await cache.lookup(req("Write a haiku about Python"), route="r") is not None
    assert await cache.lookup(req("Write a haiku about Rust"), route="r") is None
    assert calls == []


async def test_backend_failure_is_a_miss_not_an_error() -> None:
    cache = StreamingCache(backend="redis://127.0.0.1:1/0", backend_timeout=0.5)
    assert await cache.lookup(req("q"), route="r") is None
    assert not await cache.store(req("q"), stream(), route="r")
    stats = cache.stats()
    assert stats.errors == 2 and stats.misses == 1
    await cache.aclose()


async def test_disabled_cache_does_nothing(make_cache: MakeCache) -> None:
    cache = make_cache(enabled=False)
    assert not await cache.store(req("q"), stream(), route="r")
    assert await cache.lookup(req("q"), route="r") is None
    assert cache.stats().lookups == 0


async def test_uncacheable_request_is_a_bypass(make_cache: MakeCache) -> None:
    cache = make_cache()
    odd = req("q", extra={"thing": object()})
    assert await cache.lookup(odd, route="r") is None
    assert not await cache.store(odd, stream(), route="r")
    assert cache.flight_key(odd, route="r") is None
    assert cache.stats().bypasses == 1


def test_flight_key_matches_exact_identity() -> None:
    cache = StreamingCache()
    a = cache.flight_key(req("Write a haiku about Python"), route="r")
    assert a == cache.flight_key(req("write a haiku about python!"), route="r")
    assert a != cache.flight_key(req("Please write a haiku about Python"), route="r")
    assert a != cache.flight_key(req("Write a haiku about Python"), route="r", scope="t")


def test_entry_offsets_must_match_chunks() -> None:
    with pytest.raises(ValueError):
        CachedStream(chunks=("a", "b"), offsets_ms=(0.0,), provider="p", model="m")
