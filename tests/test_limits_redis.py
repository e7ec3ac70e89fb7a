"""Limits shared through the real Redis server: two dispatchers of one process sharing a
namespace stand for two processes (the three-process test is test_limits_processes.py,
heavy); leases that expire and are renewed; a store that is down or paused."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from conftest import fake_providers
from redis.asyncio import Redis

from llm_dispatch import llm_stream
from llm_dispatch.policies.limit_redis import RedisLimitStore
from llm_dispatch.policies.limit_store import Scope
from llm_dispatch.testing import FakeProviderServer, Script, capture_events

try:
    from cache_fixtures import REDIS_URL, redis_is_up
except ImportError:  # tests/ imported as a package
    from tests.cache_fixtures import REDIS_URL, redis_is_up

pytestmark = [
    pytest.mark.redis,
    pytest.mark.skipif(not redis_is_up(), reason="no Redis server on 127.0.0.1:6379"),
]


@pytest.fixture
async def namespace() -> AsyncIterator[str]:
    ns = f"test-limits-{uuid.uuid4().hex[:12]}"
    yield ns
    client = Redis.from_url(REDIS_URL)
    keys = [k async for k in client.scan_iter(match=f"{ns}:*")]
    if keys:
        await client.unlink(*keys)
    await client.aclose()


@pytest.fixture
def make(
    make_dispatcher: Callable[..., Any], fake_server: FakeProviderServer, namespace: str
) -> Any:
    """A dispatcher whose openai entry carries ``limits``, counted in Redis (``store``)."""

    def build(
        limits: dict[str, Any],
        *,
        store: str = REDIS_URL,
        shared: dict[str, Any] | None = None,
        **defaults: Any,
    ) -> Any:
        openai = {**fake_providers(fake_server)["openai"], "limits": limits}
        shared = {"store": store, "namespace": namespace, **(shared or {})}
        return make_dispatcher(
            providers={"openai": openai}, defaults={"limits": shared, **defaults}
        )

    return build


def ask_with(dispatcher: Any, *providers: str, timeout: float = 20.0) -> Any:
    @llm_stream(
        dispatcher=dispatcher, providers=list(providers or ["openai", "anthropic"]), timeout=timeout
    )
    async def ask(prompt: str):  # type: ignore[no-untyped-def]
        yield "unused"

    return ask


async def served_by(ask: Any, prompt: str) -> str:
    stream = ask(prompt)
    await stream.collect()
    return str(stream.provider)


async def test_two_dispatchers_share_one_request_allowance(
    make: Any, fake_server: FakeProviderServer
) -> None:
    one, two = (make({"requests_per_minute": 3, "on_limit": "fallback"}) for _ in range(2))
    ask_one, ask_two = ask_with(one), ask_with(two)
    served = [await served_by(ask_one if i % 2 else ask_two, f"q{i}") for i in range(5)]
    assert served == ["openai"] * 3 + ["anthropic"] * 2
    assert len(fake_server.requests_for("openai")) == 3


async def test_a_retry_after_hold_reaches_the_other_dispatcher(
    make: Any, fake_server: FakeProviderServer
) -> None:
    fake_server.enqueue(Script(status=429, retry_after=5), provider="openai")
    one = make({"on_limit": "fallback"}, retry={"max_retries": 0})
    two = make({"on_limit": "fallback"}, retry={"max_retries": 0})
    assert await served_by(ask_with(one), "first") == "anthropic"
    stream = ask_with(two)("second")
    await stream.collect()
    assert stream.provider == "anthropic"
    assert len(fake_server.requests_for("openai")) == 1
    assert "retry_after of openai/gpt-4o-mini reached" in stream.ledger.entries[0].message


async def test_a_slot_is_renewed_while_its_stream_runs_and_given_back_at_the_end(
    make: Any, fake_server: FakeProviderServer, namespace: str
) -> None:
    # The stream outlives two 0.5-second leases: renewal keeps its slot taken.
    fake_server.enqueue(Script(chunks=["slow ", "answer"], chunk_delay=1.6), provider="openai")
    limits = {"max_concurrent": 1, "on_limit": "fallback"}
    one, two = make(limits, shared={"lease": 0.5}), make(limits, shared={"lease": 0.5})
    iterator = aiter(ask_with(one)("long"))
    assert await anext(iterator) == "slow "
    await asyncio.sleep(1.1)
    assert await served_by(ask_with(two), "meanwhile") == "anthropic"
    assert "".join([c async for c in iterator]) == "answer"
    assert await served_by(ask_with(two), "after") == "openai"
    store = RedisLimitStore(REDIS_URL, namespace)
    assert await store.in_use(Scope("openai", "openai")) == 0
    await store.aclose()


async def test_the_slot_of_a_process_that_died_expires_with_its_lease(namespace: str) -> None:
    store = RedisLimitStore(REDIS_URL, namespace)
    scope = Scope("openai", "openai", concurrent=1)
    try:
        # Taken and never given back, as by a process killed mid-stream.
        assert await store.acquire([scope], "dead", 0, 60.0, 0.3) is None
        refusal = await store.acquire([scope], "alive", 0, 60.0, 0.3)
        assert refusal is not None and refusal.limit == "max_concurrent"
        await asyncio.sleep(0.4)
        assert await store.acquire([scope], "alive", 0, 60.0, 0.3) is None
    finally:
        await store.aclose()


async def test_the_sliding_window_says_when_it_allows_the_next_request(namespace: str) -> None:
    store = RedisLimitStore(REDIS_URL, namespace)
    scope = Scope("openai/gpt-4o", "openai", requests=2.0, tokens=100.0)
    try:
        assert await store.acquire([scope], "a", 30, 10.0, 1.0) is None
        assert await store.acquire([scope], "b", 30, 10.0, 1.0) is None
        refusal = await store.acquire([scope], "c", 30, 10.0, 1.0)
        assert refusal is not None and refusal.limit == "requests_per_minute"
        assert refusal.retry_in is not None and 9.0 < refusal.retry_in <= 10.0
        too_big = Scope("openai/gpt-4o", "openai", tokens=100.0)
        refusal = await store.acquire([too_big], "d", 101, 10.0, 1.0)
        assert refusal is not None and refusal.retry_in == float("inf")
        # 60 tokens counted; settling "a" to 5 makes room for 95 more.
        assert await store.acquire([too_big], "e", 50, 10.0, 1.0) is not None
        await store.settle([scope], "a", 5)
        assert await store.acquire([too_big], "e", 50, 10.0, 1.0) is None
        client = Redis.from_url(REDIS_URL, decode_responses=True)
        sent, tokens, _, _ = store.keys_for(scope)
        assert await client.hget(tokens, "sum") == "85"
        assert 0 < await client.pttl(sent) <= 70_000  # the window and a minute
        await client.aclose()
    finally:
        await store.aclose()


async def test_an_unreachable_store_falls_back_to_process_counts_with_one_warning(
    make: Any, fake_server: FakeProviderServer
) -> None:
    # Port 1 on loopback refuses at once.
    dispatcher = make(
        {"requests_per_minute": 2, "on_limit": "fallback"}, store="redis://127.0.0.1:1/0"
    )
    ask = ask_with(dispatcher)
    with capture_events() as logs:
        served = [await served_by(ask, f"q{i}") for i in range(3)]
    assert served == ["openai", "openai", "anthropic"]  # still limited, in this process
    assert dispatcher.limits.using_local_state
    warnings = [e for e in logs if e["event"] == "limits.store_unavailable"]
    assert len(warnings) == 1 and warnings[0]["log_level"] == "warning"
    assert warnings[0]["using"] == "process counts"


async def test_a_paused_store_does_not_hold_a_call_past_its_deadline(
    make: Any, fake_server: FakeProviderServer, private_redis: Any
) -> None:
    dispatcher = make({"max_concurrent": 1}, store=private_redis.url)
    ask = ask_with(dispatcher, "openai", timeout=1.5)
    await ask("warm the connection up").collect()
    await private_redis.pause(4000)
    # Each round trip gives up after store_timeout (0.25 s): the call completes well within
    # its total of 1.5 s, which would fire (StreamTimeout) if the limiter waited on Redis.
    stream = ask("while Redis is paused")
    await stream.collect()
    assert stream.provider == "openai" and dispatcher.limits.using_local_state
