"""Budget counters: the same rules in memory and on the real Redis server, shared by
connections and dispatchers, and a store that is down or paused never holds calls up."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from redis.asyncio import Redis

from llm_dispatch import BudgetExceeded, Dispatcher, llm_stream
from llm_dispatch.budgets import BudgetStore, Counter, MemoryBudgetStore, Refusal, Tally
from llm_dispatch.budgets.redis_store import RedisBudgetStore
from llm_dispatch.testing import FakeProviderServer, Script, capture_events

try:
    from budget_fixtures import NOON, budget_config
    from private_redis import PrivateRedis
except ImportError:  # tests/ imported as a package
    from tests.budget_fixtures import NOON, budget_config
    from tests.private_redis import PrivateRedis

pytestmark = pytest.mark.timeout(60)

REDIS_URL = "redis://127.0.0.1:6379/0"
A = Counter("scope=a:day:UTC:2026-12-07", cap=10, expires_at=NOON + 86_400)
B = Counter("provider=x:day:UTC:2026-12-07", cap=5, expires_at=NOON + 86_400)


async def forget(ns: str) -> None:
    """Delete every key of namespace ``ns``."""
    client = Redis.from_url(REDIS_URL)
    keys = [k async for k in client.scan_iter(match=f"{{{ns}}}:*")]
    if keys:
        await client.unlink(*keys)
    await client.aclose()


@pytest.fixture
async def namespace() -> AsyncIterator[str]:
    ns = f"test-budget-{uuid.uuid4().hex[:12]}"
    yield ns
    await forget(ns)


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[BudgetStore]:
    if request.param == "memory":
        yield MemoryBudgetStore()
        return
    ns = f"test-budget-{uuid.uuid4().hex[:12]}"
    redis_store = RedisBudgetStore(REDIS_URL, ns)
    yield redis_store
    await redis_store.aclose()
    await forget(ns)


# -- the rules, on both stores ---------------------------------------------------------------


async def test_a_reservation_holds_on_every_counter_or_on_none(store: BudgetStore) -> None:
    assert await store.reserve([A, B], "t1", 4, NOON, NOON + 60) is None
    # B (cap 5) refuses a second 4: nothing is held on A either.
    assert await store.reserve([A, B], "t2", 4, NOON, NOON + 60) == Refusal(1, 0, 4)
    assert await store.read([A, B], NOON) == [Tally(0, 4), Tally(0, 4)]
    # Settled below its estimate: the real cost replaces the hold.
    await store.settle([A, B], "t1", 3)
    assert await store.read([A, B], NOON) == [Tally(3, 0), Tally(3, 0)]
    assert await store.reserve([A, B], "t3", 2, NOON, NOON + 60) is None
    assert await store.reserve([A, B], "t4", 1, NOON, NOON + 60) == Refusal(1, 3, 2)
    assert await store.reserve([A], "t5", 5, NOON, NOON + 60) is None  # 3 + 2 + 5 == 10


async def test_a_hold_never_settled_lapses(store: BudgetStore) -> None:
    assert await store.reserve([B], "dead", 5, NOON, NOON + 30) is None
    assert await store.reserve([B], "t", 1, NOON + 10, NOON + 60) == Refusal(0, 0, 5)
    assert await store.read([B], NOON + 31) == [Tally(0, 0)]
    assert await store.reserve([B], "t", 5, NOON + 31, NOON + 90) is None


# -- Redis -----------------------------------------------------------------------------------


@pytest.mark.redis
async def test_counters_are_hash_tagged_and_expire_after_their_window(namespace: str) -> None:
    store = RedisBudgetStore(REDIS_URL, namespace)
    now = time.time()
    counter = Counter("scope=a:day:UTC:x", cap=100, expires_at=now + 120)
    assert store.key_for(counter) == f"{{{namespace}}}:scope=a:day:UTC:x"
    await store.reserve([counter], "t", 7, now, now + 60)
    await store.settle([counter], "t", 5)
    client = Redis.from_url(REDIS_URL, decode_responses=True)
    key = store.key_for(counter)
    assert await client.hgetall(key) == {"spent": "5"}
    assert 110_000 < await client.pttl(key) <= 120_000
    await client.aclose()
    await store.aclose()


@pytest.mark.redis
async def test_connections_racing_for_one_cap_never_pass_it(namespace: str) -> None:
    one, two = RedisBudgetStore(REDIS_URL, namespace), RedisBudgetStore(REDIS_URL, namespace)
    now = time.time()
    counter = Counter("scope=race:day:UTC:x", cap=10, expires_at=now + 600)

    async def take(store: RedisBudgetStore, i: int) -> bool:
        return await store.reserve([counter], f"t{i}", 1, now, now + 60) is None

    won = await asyncio.gather(*(take((one, two)[i % 2], i) for i in range(40)))
    assert sum(won) == 10
    assert await one.read([counter], now) == [Tally(0, 10)]
    await one.aclose()
    await two.aclose()


@pytest.mark.redis
async def test_dispatchers_sharing_a_redis_store_share_the_spend(
    namespace: str, fake_server: FakeProviderServer, clean_provider_env: None
) -> None:
    fake_server.default = Script(text="fine", usage=(5, 5))
    config = budget_config(
        fake_server,
        [{"scope": "*", "per_day": 0.015}],
        defaults={"budgets": {"store": REDIS_URL, "namespace": namespace}},
    )
    first, second = Dispatcher(config), Dispatcher(config)

    def answer(dispatcher: Dispatcher) -> Any:
        @llm_stream(dispatcher=dispatcher, max_tokens=10, budget_scope="shared", timeout=20)
        async def answer(prompt: str) -> Any:
            yield "unused"

        return answer

    try:
        await answer(first)("hi").collect()  # spends 0.010 of 0.015
        with pytest.raises(BudgetExceeded) as caught:  # 0.010 + 0.011 estimated > 0.015
            await answer(second)("hi").collect()
        assert caught.value.spent_usd == pytest.approx(0.01)
        assert len(fake_server.requests) == 1
        [status] = await second.budgets.status(scope="shared")
        assert (status.spent_usd, status.reserved_usd) == (pytest.approx(0.01), 0.0)
    finally:
        await first.aclose()
        await second.aclose()


# -- a store that is down or paused ----------------------------------------------------------


async def test_an_unreachable_store_is_replaced_by_process_counters(
    fake_server: FakeProviderServer, clean_provider_env: None
) -> None:
    # Port 1 on loopback refuses at once: calls go on, capped by this process's counters.
    fake_server.default = Script(text="fine", usage=(5, 5))
    config = budget_config(
        fake_server,
        [{"scope": "*", "per_day": 0.015}],
        defaults={"budgets": {"store": "redis://:s3cret-pw@127.0.0.1:1/0"}},
    )
    dispatcher = Dispatcher(config)

    @llm_stream(dispatcher=dispatcher, max_tokens=10, budget_scope="a", timeout=20)
    async def answer(prompt: str) -> Any:
        yield "unused"

    try:
        with capture_events() as events:
            await answer("hi").collect()
            assert dispatcher.budgets.using_local_state
            assert dispatcher.budgets.store_failures == 1
            with pytest.raises(BudgetExceeded):
                await answer("hi").collect()
        assert len(fake_server.requests) == 1
        warnings = [e for e in events if e["event"] == "budget.store_unavailable"]
        assert len(warnings) == 1 and warnings[0]["log_level"] == "warning"
        assert warnings[0]["using"] == "process counters"
        assert "s3cret-pw" not in repr(events) and "s3cret-pw" not in repr(dispatcher.config)
    finally:
        await dispatcher.aclose()


@pytest.mark.parametrize("sent_by", ["the next call", "closing"])
async def test_a_paused_store_is_bounded_and_gets_the_settlement_later(
    sent_by: str,
    private_redis: PrivateRedis,
    fake_server: FakeProviderServer,
    clean_provider_env: None,
) -> None:
    fake_server.default = Script(chunks=["a ", "b ", "c"], chunk_delay=0.05, usage=(5, 5))
    budgets = {"store": private_redis.url, "store_timeout": 0.2, "store_retry": 0.3}
    config = budget_config(
        fake_server, [{"scope": "*", "per_day": 1}], defaults={"budgets": budgets}
    )
    dispatcher = Dispatcher(config)

    @llm_stream(dispatcher=dispatcher, max_tokens=10, budget_scope="a", timeout=20)
    async def answer(prompt: str) -> Any:
        yield "unused"

    try:
        await dispatcher.warm_up(["openai"])
        stream = answer("hi")
        with capture_events() as events:
            async for chunk in stream:
                if chunk == "a ":
                    # Held in Redis; the settlement at the end meets a paused server.
                    await private_redis.pause(2000)
                    paused = time.monotonic()
            # The end waited one bounded round trip (0.2 s), not for the pause (2 s).
            assert time.monotonic() - paused < 1.5
        assert [e["op"] for e in events if e["event"] == "budget.store_unavailable"] == ["settle"]
        # Until the pause, and store_retry after the failure, are over.
        await asyncio.sleep(max(0.0, paused + 2.1 - time.monotonic()))
        if sent_by == "the next call":
            await answer("hi").collect()  # held in Redis: the kept settlement goes too
            expected = 0.02
        else:
            await dispatcher.aclose()
            expected = 0.01
        # Read by another dispatcher on the same store.
        reader = Dispatcher(config)
        [status] = await reader.budgets.status(scope="a")
        await reader.aclose()
        assert status.spent_usd == pytest.approx(expected) and status.reserved_usd == 0
    finally:
        await dispatcher.aclose()
