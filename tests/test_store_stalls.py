"""A slow or stopped Redis never breaks a delivered answer, and never holds a call past its
deadlines: the cache stores in the background, the circuit breaker bounds every store call
and falls back to this process's state.

Each test runs a Redis server of its own (the real ``redis-server`` binary, on a free port of
127.0.0.1), so pausing or killing it disturbs nothing else.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from private_redis import PrivateRedis

from llm_dispatch import StreamTimeout, llm_stream
from llm_dispatch.cache import StreamingCache
from llm_dispatch.testing import FakeProviderServer, Script, capture_events

CHUNKS = [f"part{i} " for i in range(8)]


def answerer(dispatcher: Any, **options: Any) -> Any:
    @llm_stream(dispatcher=dispatcher, **options)
    async def answer(prompt: str) -> Any:
        yield "unused"

    return answer


@pytest.mark.parametrize("mid_stream", ["raise", "continue"])
async def test_a_paused_cache_backend_does_not_touch_a_complete_answer(
    mid_stream: str,
    private_redis: PrivateRedis,
    fake_server: FakeProviderServer,
    make_dispatcher: Any,
) -> None:
    # The store may wait longer than the idle deadline: it must not matter to the stream.
    cache = StreamingCache(backend=private_redis.url, backend_timeout=1.0)
    dispatcher = make_dispatcher(defaults={"timeouts": {"idle": 0.5}, "mid_stream": mid_stream})
    answer = answerer(dispatcher, providers=["openai", "anthropic"], cache=cache)
    fake_server.enqueue(Script(chunks=CHUNKS, chunk_delay=0.02), provider="openai")
    received: list[str] = []
    with capture_events() as events:
        async with asyncio.timeout(20):
            stream = answer("a question worth caching")
            async for chunk in stream:
                received.append(chunk)
                if len(received) == 1:
                    # Longer than the idle deadline, and than the cache's own timeout.
                    await private_redis.pause(1500)
            # The consumer has its whole answer while the store is still waiting on Redis.
            assert cache.stores_in_progress == 1
            await cache.flush()

    assert "".join(received) == "".join(CHUNKS) and stream.done
    assert [r.provider for r in fake_server.requests] == ["openai"]
    stats = cache.stats()
    # The store failed, and so did publishing the stream for other processes (shared
    # flights): each warned once, neither touched the answer.
    assert stats.stores == 0 and stats.errors == 2
    warnings = [e for e in events if e["event"] == "cache_backend_error"]
    assert sorted(w["operation"] for w in warnings) == ["flight", "store"]
    assert all(w["log_level"] == "warning" for w in warnings)
    await cache.aclose()


async def test_a_paused_circuit_store_is_bounded_and_replaced_by_process_state(
    private_redis: PrivateRedis, fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    circuit = {"store": private_redis.url, "store_timeout": 0.2, "failure_threshold": 1}
    dispatcher = make_dispatcher(
        defaults={"circuit": circuit, "timeouts": {"total": 5}, "retry": {"max_retries": 0}}
    )
    answer = answerer(dispatcher, providers=["openai", "anthropic", "google"])
    # Importing the SDKs is not what this test times.
    assert await dispatcher.warm_up() == ["openai", "anthropic", "google"]
    fake_server.enqueue(Script(status=500), provider="openai")
    fake_server.enqueue(Script(status=500), provider="anthropic")
    fake_server.enqueue(Script(chunks=CHUNKS), provider="google")
    await private_redis.pause(4000)
    with capture_events() as events:
        started = time.monotonic()
        async with asyncio.timeout(20):
            text = "".join([c async for c in answer("hi")])
        elapsed = time.monotonic() - started

    assert text == "".join(CHUNKS)
    # One bounded wait for the paused store, then this process's state: far below the
    # pause, and below the total deadline.
    assert elapsed < 3.5
    assert dispatcher.circuit.using_local_state
    # The failures were still counted: both circuits opened in this process.
    assert not await dispatcher.circuit.allow("openai/gpt-4o-mini")
    assert not await dispatcher.circuit.allow("anthropic/claude-haiku-4-5")
    warnings = [e for e in events if e["event"] == "circuit.store_unavailable"]
    assert len(warnings) == 1 and warnings[0]["using"] == "process state"


async def test_the_total_deadline_bounds_the_circuit_store_too(
    private_redis: PrivateRedis, fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    # A store timeout longer than the whole call's deadline: the deadline wins.
    circuit = {"store": private_redis.url, "store_timeout": 10}
    dispatcher = make_dispatcher(defaults={"circuit": circuit, "timeouts": {"total": 0.5}})
    answer = answerer(dispatcher, providers=["openai"])
    await dispatcher.warm_up(["openai"])
    await private_redis.pause(3000)
    started = time.monotonic()
    with pytest.raises(StreamTimeout) as caught:
        async with asyncio.timeout(20):
            await answer("hi").collect()
    elapsed = time.monotonic() - started
    assert caught.value.limit == "total"
    assert elapsed < 2.5  # well before the pause ends, let alone the store timeout


async def test_a_stopped_redis_degrades_both_cache_and_circuit(
    private_redis: PrivateRedis, fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    cache = StreamingCache(backend=private_redis.url, backend_timeout=0.5)
    circuit = {"store": private_redis.url, "store_timeout": 0.3}
    dispatcher = make_dispatcher(defaults={"circuit": circuit})
    answer = answerer(dispatcher, providers=["openai"], cache=cache)

    async with asyncio.timeout(20):
        first = await answer("What is the boiling point of water?").collect()
        await cache.flush()
        assert cache.stats().stores == 1
        await private_redis.stop()
        with capture_events() as events:
            replies = [await answer(f"Question number {i}?").collect() for i in range(3)]

    assert first.done and all(r.done for r in replies)
    # Each answered by the provider (the fake server's reply quotes the prompt).
    assert all(f"Question number {i}?" in r.get_text() for i, r in enumerate(replies))
    assert len(fake_server.requests) == 4
    # One warning per kind of trouble, not one per call.
    warned = [(e["event"], e.get("operation")) for e in events if e["log_level"] == "warning"]
    assert sorted(set(warned)) == sorted(warned)
    assert ("circuit.store_unavailable", None) in warned
    assert ("cache_backend_error", "lookup") in warned
    await cache.aclose()
