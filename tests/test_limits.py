"""Rate and concurrency limits through decorated calls, against the fake provider server:
requests and tokens per window, streams at once, waiting or falling back, the hold a 429's
Retry-After puts on a target, and the circuit breaker no longer counting 429s."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import pytest
from conftest import fake_providers

from llm_dispatch import LimitReached, llm_stream
from llm_dispatch.errors import AllProvidersFailed, StreamInterrupted
from llm_dispatch.policies.circuit_store import CircuitState
from llm_dispatch.policies.limit_store import MemoryLimitStore
from llm_dispatch.testing import FakeProviderServer, Script

OPENAI = "openai/gpt-4o-mini"
STREAM_TIMEOUT = 20.0  # every stream's total deadline, unless a test needs its own


@pytest.fixture
def make(make_dispatcher: Callable[..., Any], fake_server: FakeProviderServer) -> Any:
    """A dispatcher on the fake server whose openai entry carries ``limits``."""

    def build(limits: dict[str, Any], *, defaults: dict[str, Any] | None = None) -> Any:
        openai = {**fake_providers(fake_server)["openai"], "limits": limits}
        return make_dispatcher(providers={"openai": openai}, defaults=defaults)

    return build


def ask_with(dispatcher: Any, *providers: str, **options: Any) -> Any:
    @llm_stream(
        dispatcher=dispatcher,
        providers=list(providers or ["openai", "anthropic"]),
        timeout=options.pop("timeout", STREAM_TIMEOUT),
        **options,
    )
    async def ask(prompt: str):  # type: ignore[no-untyped-def]
        yield "unused"

    return ask


def store_of(dispatcher: Any) -> MemoryLimitStore:
    store = dispatcher.limits.store
    assert isinstance(store, MemoryLimitStore)
    return store


# -- requests per minute --------------------------------------------------------------------


async def test_rpm_fallback_sends_only_the_allowance_to_the_limited_provider(
    make: Any, fake_server: FakeProviderServer
) -> None:
    dispatcher = make({"requests_per_minute": 3, "on_limit": "fallback"})
    ask = ask_with(dispatcher)
    try:
        served = [(await (s := ask(f"q{i}")).collect(), s.provider)[1] for i in range(5)]
    finally:
        await dispatcher.aclose()
    assert served == ["openai"] * 3 + ["anthropic"] * 2
    assert len(fake_server.requests_for("openai")) == 3
    last = s.ledger.entries
    assert [e.outcome for e in last] == ["limit_reached", "ok"]
    assert "requests_per_minute of openai reached" in last[0].message
    assert not last[0].charged


async def test_rpm_wait_sends_the_next_request_once_the_window_moved_on(
    make: Any, fake_server: FakeProviderServer
) -> None:
    # 240 per minute over a half-second window: 2 requests in any half second.
    dispatcher = make({"requests_per_minute": 240}, defaults={"limits": {"window": 0.5}})
    ask = ask_with(dispatcher, "openai")
    started = time.monotonic()
    try:
        streams = [ask(f"q{i}") for i in range(3)]
        await asyncio.gather(*(s.collect() for s in streams))
    finally:
        await dispatcher.aclose()
    assert [s.provider for s in streams] == ["openai"] * 3
    received = sorted(r.received_at for r in fake_server.requests_for("openai"))
    # The third was admitted only when the first left the window (a lower bound: it holds
    # however busy the machine is).
    assert received[2] - started >= 0.5


async def test_a_wait_past_the_total_deadline_fails_naming_provider_model_and_limit(
    make: Any, fake_server: FakeProviderServer
) -> None:
    dispatcher = make({"requests_per_minute": 1})  # on_limit: wait (the default)
    ask = ask_with(dispatcher, "openai", timeout=2.0)
    try:
        await ask("first").collect()
        with pytest.raises(LimitReached) as info:
            await ask("second").collect()
    finally:
        await dispatcher.aclose()
    error = info.value
    assert (error.provider, error.model, error.limit, error.scope) == (
        "openai",
        "gpt-4o-mini",
        "requests_per_minute",
        "openai",
    )
    assert "after the call's total deadline" in str(error) and OPENAI in str(error)
    assert not error.allows_fallback
    assert len(fake_server.requests_for("openai")) == 1


async def test_fallback_with_no_next_target_fails_with_every_attempt_listed(
    make: Any, fake_server: FakeProviderServer
) -> None:
    dispatcher = make({"requests_per_minute": 1, "on_limit": "fallback"})
    ask = ask_with(dispatcher, "openai")
    try:
        await ask("first").collect()
        with pytest.raises(AllProvidersFailed) as info:
            await ask("second").collect()
    finally:
        await dispatcher.aclose()
    assert info.value.kind.value == "limit_reached"
    assert isinstance(info.value.last, LimitReached)
    assert "requests_per_minute of openai reached" in str(info.value)
    assert len(fake_server.requests_for("openai")) == 1


async def test_a_models_limit_applies_to_that_model_only(
    make: Any, fake_server: FakeProviderServer
) -> None:
    dispatcher = make(
        {"models": {"gpt-4o-mini": {"requests_per_minute": 1, "on_limit": "fallback"}}}
    )
    mini = ask_with(dispatcher)
    other = ask_with(dispatcher, "openai", model="gpt-4o")
    try:
        assert [(await (s := mini(f"q{i}")).collect(), s.provider)[1] for i in range(2)] == [
            "openai",
            "anthropic",
        ]
        await other("to another model").collect()
    finally:
        await dispatcher.aclose()
    assert [r.model for r in fake_server.requests_for("openai")] == ["gpt-4o-mini", "gpt-4o"]


# -- tokens per minute ----------------------------------------------------------------------


async def test_tpm_counts_the_estimate_then_settles_on_the_reported_usage(
    make: Any, fake_server: FakeProviderServer
) -> None:
    # Each request is estimated at 61 tokens ("hi" and max_tokens 60) and reports 15.
    fake_server.default = Script(text="fine, thanks", usage=(10, 5))
    dispatcher = make({"tokens_per_minute": 100, "on_limit": "fallback"})
    ask = ask_with(dispatcher, max_tokens=60)
    try:
        served = [(await (s := ask("hi")).collect(), s.provider)[1] for _ in range(4)]
    finally:
        await dispatcher.aclose()
    # Settled: 15, 30, 45 counted before the 2nd, 3rd and 4th; the 4th (45 + 61) is refused.
    # Without settling, the 2nd (61 + 61) would have been.
    assert served == ["openai", "openai", "openai", "anthropic"]
    assert "tokens_per_minute of openai reached" in s.ledger.entries[0].message


async def test_a_request_larger_than_the_token_allowance_falls_back_even_under_wait(
    make: Any, fake_server: FakeProviderServer
) -> None:
    dispatcher = make({"tokens_per_minute": 100})
    ask = ask_with(dispatcher, max_tokens=500)
    try:
        stream = ask("hi")
        await stream.collect()
    finally:
        await dispatcher.aclose()
    assert stream.provider == "anthropic"
    assert "the request alone is more than it allows" in stream.ledger.entries[0].message
    assert fake_server.requests_for("openai") == []


# -- concurrency ----------------------------------------------------------------------------


async def test_max_concurrent_wait_never_lets_more_streams_run(
    make: Any, fake_server: FakeProviderServer
) -> None:
    fake_server.default = Script(chunks=["a ", "b ", "c ", "d"], chunk_delay=0.03)
    dispatcher = make({"max_concurrent": 2})
    ask = ask_with(dispatcher, "openai")
    try:
        texts = [
            s.get_text() for s in await asyncio.gather(*(ask(f"q{i}").collect() for i in range(6)))
        ]
    finally:
        assert store_of(dispatcher).in_use("openai") == 0  # every slot given back
        await dispatcher.aclose()
    assert texts == ["a b c d"] * 6
    assert len(fake_server.requests_for("openai")) == 6
    assert fake_server.peak_in_flight <= 2


async def test_max_concurrent_fallback_sends_the_overflow_elsewhere(
    make: Any, fake_server: FakeProviderServer
) -> None:
    fake_server.enqueue(Script(chunks=["slow ", "answer"], chunk_delay=0.2), provider="openai")
    dispatcher = make({"max_concurrent": 1, "on_limit": "fallback"})
    ask = ask_with(dispatcher)
    try:
        first = ask("one")
        iterator = aiter(first)
        assert await anext(iterator) == "slow "  # holds openai's one slot
        second = ask("two")
        await second.collect()
        assert second.provider == "anthropic"
        assert "".join([c async for c in iterator]) == "answer"
        third = ask("three")  # the slot is back
        await third.collect()
        assert third.provider == "openai"
    finally:
        await dispatcher.aclose()


async def test_waiting_for_a_slot_past_the_total_deadline_fails_naming_the_limit(
    make: Any, fake_server: FakeProviderServer
) -> None:
    fake_server.enqueue(Script(chunks=["slow ", "answer"], chunk_delay=1.5), provider="openai")
    dispatcher = make({"models": {"gpt-4o-mini": {"max_concurrent": 1}}})
    try:
        iterator = aiter(ask_with(dispatcher, "openai")("holds the slot"))
        assert await anext(iterator) == "slow "
        with pytest.raises(LimitReached) as info:
            await ask_with(dispatcher, "openai", timeout=0.3)("waits").collect()
        await iterator.aclose()
    finally:
        await dispatcher.aclose()
    error = info.value
    assert (error.limit, error.scope, error.retry_in) == ("max_concurrent", OPENAI, None)
    assert "max_concurrent of openai/gpt-4o-mini reached: no slot is free, after" in str(error)
    assert len(fake_server.requests_for("openai")) == 1


@pytest.mark.parametrize("ending", ["left", "cancelled", "failed", "refused"])
async def test_a_slot_is_given_back_exactly_once_however_the_stream_ends(
    make: Any, fake_server: FakeProviderServer, ending: str
) -> None:
    if ending == "failed":
        fake_server.enqueue(Script(chunks=["a ", "b ", "c"], drop_after=1), provider="openai")
    elif ending == "refused":
        fake_server.enqueue(Script(status=500), provider="openai", times=3)
    else:
        fake_server.enqueue(Script(chunks=["a ", "b ", "c"], chunk_delay=0.5), provider="openai")
    dispatcher = make({"max_concurrent": 1, "on_limit": "fallback"})
    ask = ask_with(dispatcher, "openai")
    store = store_of(dispatcher)
    try:
        stream = ask("one")
        if ending == "left":  # the consumer stops after the first chunk
            iterator = aiter(stream)
            await anext(iterator)
            assert store.in_use("openai") == 1
            await iterator.aclose()
        elif ending == "cancelled":  # the consumer's task is cancelled mid-stream
            first_chunk = asyncio.Event()

            async def consume() -> None:
                async for _ in stream:
                    first_chunk.set()

            task = asyncio.create_task(consume())
            await first_chunk.wait()
            assert store.in_use("openai") == 1
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
        else:
            with pytest.raises(Exception, match=r"interrupted|server"):
                await stream.collect()
        assert store.in_use("openai") == 0
        await ask("two").collect()  # would find no slot (and no fallback) had it leaked
        assert store.in_use("openai") == 0
    finally:
        await dispatcher.aclose()


# -- Retry-After, and the circuit breaker ---------------------------------------------------


async def test_retry_after_holds_the_target_and_the_next_call_falls_back(
    make: Any, fake_server: FakeProviderServer
) -> None:
    fake_server.enqueue(Script(status=429, retry_after=5), provider="openai")
    dispatcher = make({"on_limit": "fallback"}, defaults={"retry": {"max_retries": 0}})
    ask = ask_with(dispatcher)
    try:
        first, second = ask("one"), ask("two")
        await first.collect()
        await second.collect()
    finally:
        await dispatcher.aclose()
    assert (first.provider, second.provider) == ("anthropic", "anthropic")
    assert len(fake_server.requests_for("openai")) == 1  # the second never reached it
    message = second.ledger.entries[0].message
    assert "retry_after of openai/gpt-4o-mini reached: the provider's Retry-After" in message


async def test_retry_after_hold_makes_a_waiting_call_wait_until_it_ends(
    make: Any, fake_server: FakeProviderServer
) -> None:
    fake_server.enqueue(Script(status=429, retry_after=0.5), provider="openai")
    dispatcher = make({}, defaults={"retry": {"max_retries": 0}})
    ask = ask_with(dispatcher, "openai")
    try:
        with pytest.raises(AllProvidersFailed, match="rate_limit"):
            await ask("one").collect()
        second = ask("two")  # on_limit: wait (the default) for the hold to end
        await second.collect()
    finally:
        await dispatcher.aclose()
    assert second.provider == "openai"
    refused, sent = fake_server.requests_for("openai")
    assert refused.status == 429
    # The hold started after the 429 arrived and lasted half a second: a lower bound that
    # holds however busy the machine is.
    assert sent.received_at - refused.received_at >= 0.5


async def test_a_429_storm_does_not_open_the_circuit_but_a_500_storm_does(
    make: Any, fake_server: FakeProviderServer
) -> None:
    circuit = {"failure_threshold": 3, "cooldown": 30}
    dispatcher = make({}, defaults={"retry": {"max_retries": 0}, "circuit": circuit})
    ask = ask_with(dispatcher, "openai")
    try:
        fake_server.enqueue(Script(status=429), provider="openai", times=5)
        for _ in range(5):
            with pytest.raises(AllProvidersFailed, match="rate_limit"):
                await ask("throttled").collect()
        assert await dispatcher.circuit.state(OPENAI) is CircuitState.CLOSED
        # Nor does a rate-limit error in the middle of a stream.
        cut = Script(chunks=["a ", "b ", "c"], error_event_after=1, error_kind="rate_limit")
        fake_server.enqueue(cut, provider="openai", times=3)
        for _ in range(3):
            with pytest.raises(StreamInterrupted, match="rate_limit"):
                await ask("cut short").collect()
        assert await dispatcher.circuit.state(OPENAI) is CircuitState.CLOSED
        fake_server.enqueue(Script(status=500), provider="openai", times=3)
        for _ in range(3):
            with pytest.raises(Exception, match="server"):
                await ask("broken").collect()
        assert await dispatcher.circuit.state(OPENAI) is CircuitState.OPEN
    finally:
        await dispatcher.aclose()
    assert len(fake_server.requests_for("openai")) == 11


def test_limit_reached_is_a_provider_error_that_is_not_retried() -> None:
    from llm_dispatch.errors import ErrorKind, ProviderError
    from llm_dispatch.provider_errors import provider_error

    error = provider_error("limit_reached", "max_concurrent of openai reached", provider="openai")
    assert isinstance(error, LimitReached) and isinstance(error, ProviderError)
    assert error.kind is ErrorKind.LIMIT_REACHED
    assert (error.is_retryable, error.allows_fallback, error.scope) == (False, True, "openai")
    waited = LimitReached("x", provider="openai", limit="requests_per_minute", fallback=False)
    assert not waited.allows_fallback
