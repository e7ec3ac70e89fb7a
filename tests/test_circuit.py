"""Circuit breaker: the same behaviour on the in-memory store and on a real Redis server."""

from __future__ import annotations

import asyncio
import sys
import textwrap
import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from llm_dispatch.policies.circuit import (
    CircuitBreaker,
    CircuitChange,
    CircuitState,
    CircuitStore,
    MemoryCircuitStore,
    RedisCircuitStore,
    store_from_settings,
)
from llm_dispatch.settings.models import CircuitSettings
from llm_dispatch.testing import capture_events

REDIS_URL = "redis://127.0.0.1:6379/0"
KEY = "openai/gpt-4o-mini"
SETTINGS = CircuitSettings(failure_threshold=3, window=10, cooldown=5)


class FakeClock:
    """A clock the test moves by hand, shared by every breaker of a test."""

    def __init__(self, start: float = 1_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


async def _drop_namespace(namespace: str) -> None:
    client = Redis.from_url(REDIS_URL)
    try:
        keys = [k async for k in client.scan_iter(match=f"{namespace}:*")]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


@pytest.fixture
async def namespace() -> AsyncIterator[str]:
    ns = f"test:circuit:{uuid.uuid4().hex}"
    yield ns
    await _drop_namespace(ns)


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[CircuitStore]:
    if request.param == "memory":
        yield MemoryCircuitStore()
        return
    ns = f"test:circuit:{uuid.uuid4().hex}"
    redis_store = RedisCircuitStore(REDIS_URL, ns)
    yield redis_store
    await redis_store.aclose()
    await _drop_namespace(ns)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def breaker(
    store: CircuitStore,
    clock: FakeClock,
    changes: list[CircuitChange] | None = None,
    settings: CircuitSettings = SETTINGS,
) -> CircuitBreaker:
    return CircuitBreaker(
        settings, store, on_change=changes.append if changes is not None else None, clock=clock
    )


async def open_circuit(b: CircuitBreaker) -> None:
    for _ in range(SETTINGS.failure_threshold):
        await b.record_failure(KEY)


# -- behaviour common to both stores ---------------------------------------------------------


async def test_opens_after_threshold_failures_within_window(
    store: CircuitStore, clock: FakeClock
) -> None:
    changes: list[CircuitChange] = []
    b = breaker(store, clock, changes)
    await b.record_failure(KEY)
    clock.advance(1)
    await b.record_failure(KEY)
    assert await b.state(KEY) is CircuitState.CLOSED
    assert (await b.status(KEY)).failures == 2
    assert await b.allow(KEY)

    clock.advance(1)
    await b.record_failure(KEY)
    assert await b.state(KEY) is CircuitState.OPEN
    assert not await b.allow(KEY)
    assert changes == [
        CircuitChange(KEY, CircuitState.CLOSED, CircuitState.OPEN, "3 failures within 10s")
    ]
    status = await b.status(KEY)
    assert not status.available
    assert status.retry_in == pytest.approx(5)


async def test_failures_spread_beyond_the_window_do_not_open(
    store: CircuitStore, clock: FakeClock
) -> None:
    b = breaker(store, clock)
    for _ in range(4):  # one failure every 6 s: never 3 within 10 s
        await b.record_failure(KEY)
        clock.advance(6)
    assert await b.state(KEY) is CircuitState.CLOSED
    assert (await b.status(KEY)).failures == 1  # the older ones left the window

    await b.record_failure(KEY)
    clock.advance(1)
    await b.record_failure(KEY)  # 7 s ago, 1 s ago and now: 3 within 10 s
    assert await b.state(KEY) is CircuitState.OPEN


async def test_success_resets_the_failure_count(store: CircuitStore, clock: FakeClock) -> None:
    b = breaker(store, clock)
    await b.record_failure(KEY)
    await b.record_failure(KEY)
    await b.record_success(KEY)
    await b.record_failure(KEY)
    await b.record_failure(KEY)
    assert await b.state(KEY) is CircuitState.CLOSED


async def test_other_keys_are_independent(store: CircuitStore, clock: FakeClock) -> None:
    b = breaker(store, clock)
    await open_circuit(b)
    assert not await b.allow(KEY)
    assert await b.allow("anthropic/claude-sonnet-4-5")


async def test_half_open_after_cooldown_lets_one_probe_through_then_closes(
    store: CircuitStore, clock: FakeClock
) -> None:
    changes: list[CircuitChange] = []
    b = breaker(store, clock, changes)
    await open_circuit(b)
    clock.advance(4.9)
    assert not await b.allow(KEY)

    clock.advance(0.1)
    assert await b.state(KEY) is CircuitState.HALF_OPEN
    assert await b.allow(KEY)  # the probe
    assert not await b.allow(KEY)  # a second caller while the probe runs
    assert (await b.status(KEY)).probe_in_flight

    await b.record_success(KEY)
    assert await b.state(KEY) is CircuitState.CLOSED
    assert await b.allow(KEY)
    assert await b.allow(KEY)
    assert [(c.old, c.new, c.reason) for c in changes] == [
        (CircuitState.CLOSED, CircuitState.OPEN, "3 failures within 10s"),
        (CircuitState.OPEN, CircuitState.HALF_OPEN, "cooldown of 5s elapsed"),
        (CircuitState.HALF_OPEN, CircuitState.CLOSED, "probe succeeded"),
    ]


async def test_failed_probe_reopens_for_a_fresh_cooldown(
    store: CircuitStore, clock: FakeClock
) -> None:
    changes: list[CircuitChange] = []
    b = breaker(store, clock, changes)
    await open_circuit(b)
    clock.advance(5)
    assert await b.allow(KEY)
    await b.record_failure(KEY)
    assert await b.state(KEY) is CircuitState.OPEN
    assert changes[-1] == CircuitChange(
        KEY, CircuitState.HALF_OPEN, CircuitState.OPEN, "probe failed"
    )
    clock.advance(4.9)  # the new cooldown counts from the failed probe
    assert not await b.allow(KEY)
    clock.advance(0.1)
    assert await b.allow(KEY)


async def test_unsettled_probe_is_freed_by_release_or_its_lease(
    store: CircuitStore, clock: FakeClock
) -> None:
    b = breaker(store, clock)
    await open_circuit(b)
    clock.advance(5)
    assert await b.allow(KEY)
    await b.release(KEY)  # planned but never tried
    assert await b.allow(KEY)
    assert not await b.allow(KEY)
    clock.advance(5)  # the probe's lease ran out without a verdict
    assert await b.allow(KEY)


async def test_failure_while_open_does_not_extend_the_cooldown(
    store: CircuitStore, clock: FakeClock
) -> None:
    b = breaker(store, clock)
    await open_circuit(b)
    clock.advance(3)
    await b.record_failure(KEY)  # a request that started before the circuit opened
    clock.advance(2)
    assert await b.state(KEY) is CircuitState.HALF_OPEN


async def test_reset_closes(store: CircuitStore, clock: FakeClock) -> None:
    b = breaker(store, clock)
    await open_circuit(b)
    await b.reset(KEY)
    assert await b.state(KEY) is CircuitState.CLOSED
    assert await b.allow(KEY)


# -- breaker behaviour independent of the store ----------------------------------------------


async def test_disabled_breaker_always_allows(clock: FakeClock) -> None:
    b = breaker(MemoryCircuitStore(), clock, settings=CircuitSettings(enabled=False))
    for _ in range(10):
        await b.record_failure(KEY)
    assert await b.allow(KEY)
    assert await b.state(KEY) is CircuitState.CLOSED


async def test_changes_are_logged_and_sent_to_sync_and_async_listeners(clock: FakeClock) -> None:
    seen: list[CircuitChange] = []

    async def listener(change: CircuitChange) -> None:
        await asyncio.sleep(0)
        seen.append(change)

    b = CircuitBreaker(SETTINGS, MemoryCircuitStore(), on_change=listener, clock=clock)
    with capture_events() as logs:
        await open_circuit(b)
    assert [c.new for c in seen] == [CircuitState.OPEN]
    event = next(e for e in logs if e["event"] == "circuit.changed")
    assert event["key"] == KEY
    assert (event["old"], event["new"]) == ("closed", "open")
    assert event["log_level"] == "warning"


async def test_a_failing_listener_does_not_break_the_breaker(clock: FakeClock) -> None:
    def listener(change: CircuitChange) -> None:
        raise RuntimeError("listener bug")

    b = CircuitBreaker(SETTINGS, MemoryCircuitStore(), on_change=listener, clock=clock)
    with capture_events() as logs:
        await open_circuit(b)
    assert await b.state(KEY) is CircuitState.OPEN
    assert any(e["event"] == "circuit.on_change_failed" for e in logs)


async def test_real_short_cooldown_with_the_default_clock() -> None:
    b = CircuitBreaker(CircuitSettings(failure_threshold=1, cooldown=0.2), MemoryCircuitStore())
    await b.record_failure(KEY)
    assert not await b.allow(KEY)
    await asyncio.sleep(0.25)
    assert await b.allow(KEY)
    await b.record_success(KEY)
    assert await b.state(KEY) is CircuitState.CLOSED


async def test_store_from_settings() -> None:
    assert isinstance(store_from_settings(CircuitSettings()), MemoryCircuitStore)
    redis_store = store_from_settings(CircuitSettings(store=REDIS_URL, namespace="x:y"))
    assert isinstance(redis_store, RedisCircuitStore)
    assert redis_store.keys_for(KEY) == [
        "x:y:{openai/gpt-4o-mini}",
        "x:y:{openai/gpt-4o-mini}:failures",
    ]
    await redis_store.aclose()


async def test_an_unreachable_store_degrades_to_process_state() -> None:
    # Port 1 on loopback refuses at once: the breaker must not fail requests because of it,
    # and keeps counting failures in this process meanwhile.
    b = CircuitBreaker(SETTINGS, RedisCircuitStore("redis://127.0.0.1:1/0", "unreachable"))
    with capture_events() as logs:
        assert await b.allow(KEY)
        for _ in range(SETTINGS.failure_threshold):
            await b.record_failure(KEY)
        assert b.using_local_state
        assert not await b.allow(KEY)
        assert await b.state(KEY) is CircuitState.OPEN
    await b.aclose()
    warnings = [e for e in logs if e["event"] == "circuit.store_unavailable"]
    assert len(warnings) == 1 and warnings[0]["log_level"] == "warning"  # not one per call
    assert warnings[0]["using"] == "process state"


# -- Redis: shared state --------------------------------------------------------------------


@pytest.mark.redis
async def test_two_redis_connections_share_the_circuit(namespace: str, clock: FakeClock) -> None:
    one, two = RedisCircuitStore(REDIS_URL, namespace), RedisCircuitStore(REDIS_URL, namespace)
    a, b = breaker(one, clock), breaker(two, clock)
    try:
        await a.record_failure(KEY)
        await b.record_failure(KEY)
        await a.record_failure(KEY)
        assert await b.state(KEY) is CircuitState.OPEN
        assert not await b.allow(KEY)

        clock.advance(5)
        # Many concurrent callers in both "processes": exactly one gets the probe.
        answers = await asyncio.gather(*(x.allow(KEY) for x in (a, b) * 10))
        assert answers.count(True) == 1

        await a.record_success(KEY)
        assert await b.state(KEY) is CircuitState.CLOSED
    finally:
        await one.aclose()
        await two.aclose()


@pytest.mark.redis
async def test_redis_keys_expire(namespace: str, clock: FakeClock) -> None:
    store = RedisCircuitStore(REDIS_URL, namespace)
    await open_circuit(breaker(store, clock))
    client = Redis.from_url(REDIS_URL)
    try:
        state_key, _ = store.keys_for(KEY)
        ttl_ms = await client.pttl(state_key)
        assert 0 < ttl_ms <= (10 + 2 * 5 + 60) * 1000
    finally:
        await client.aclose()
        await store.aclose()


@pytest.mark.redis
async def test_another_os_process_opens_the_circuit_we_see(namespace: str) -> None:
    script = textwrap.dedent(
        f"""
        import asyncio
        from llm_dispatch.policies.circuit import CircuitBreaker, RedisCircuitStore
        from llm_dispatch.settings.models import CircuitSettings

        async def main():
            store = RedisCircuitStore({REDIS_URL!r}, {namespace!r})
            b = CircuitBreaker(CircuitSettings(failure_threshold=3, cooldown=30), store)
            for _ in range(3):
                await b.record_failure({KEY!r})
            await store.aclose()

        asyncio.run(main())
        """
    )
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", script, stderr=asyncio.subprocess.PIPE
    )
    _, stderr = await asyncio.wait_for(proc.communicate(), timeout=30)
    assert proc.returncode == 0, stderr.decode()

    store = RedisCircuitStore(REDIS_URL, namespace)
    try:
        here = CircuitBreaker(CircuitSettings(failure_threshold=3, cooldown=30), store)
        assert await here.state(KEY) is CircuitState.OPEN  # wall clock: shared with the child
        assert not await here.allow(KEY)
    finally:
        await store.aclose()
