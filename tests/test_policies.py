"""Retry, fallback, timeouts, mid-stream failure and the circuit breaker, end to end over real
HTTP against the fake provider server."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from llm_dispatch import (
    AllProvidersFailed,
    ProviderError,
    Stage,
    StreamInterrupted,
    StreamTimeout,
    llm_stream,
    llm_stream_with_metadata,
)
from llm_dispatch.errors import BadRequestError
from llm_dispatch.events import (
    CircuitEvent,
    ContinuationEvent,
    FallbackEvent,
    InterruptionEvent,
    RetryEvent,
)
from llm_dispatch.providers.continuation import CONTINUE_INSTRUCTION
from llm_dispatch.testing import FakeProviderServer, Script

PROVIDERS = ["openai", "anthropic", "google"]
OTHER = {"openai": "anthropic", "anthropic": "google", "google": "openai"}


class EventLog(Stage):
    """Records the dispatcher events and the end/error calls a stream produced."""

    def __init__(self) -> None:
        self.events: list[Any] = []
        self.ends = 0
        self.errors: list[BaseException] = []

    async def on_event(self, ctx: Any, event: Any) -> None:
        self.events.append(event)

    async def on_end(self, ctx: Any) -> str:
        self.ends += 1
        return ""

    async def on_error(self, ctx: Any, exc: BaseException) -> None:
        self.errors.append(exc)

    def of(self, kind: type) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind)]


def streamer(
    dispatcher: Any, *, stages: tuple[Stage, ...] = (), metadata: bool = False, **options: Any
) -> Any:
    decorator = llm_stream_with_metadata if metadata else llm_stream

    @decorator(dispatcher=dispatcher, stages=stages, **options)
    async def answer(prompt: str, system: str | None = None) -> Any:
        yield "unused"

    return answer


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_rate_limit_with_retry_after_is_retried_once(
    provider: str, fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    log = EventLog()
    dispatcher = make_dispatcher()
    answer = streamer(dispatcher, providers=[provider], stages=(log,))
    fake_server.enqueue(
        Script(status=429, retry_after=1), Script(chunks=["once ", "only"]), provider=provider
    )

    await dispatcher.warm_up([provider])  # keep the SDK's import out of the timing
    started = time.monotonic()
    stream = answer("hi")
    chunks = [c async for c in stream]
    elapsed = time.monotonic() - started

    assert chunks == ["once ", "only"]
    assert len(fake_server.requests) == 2
    assert 0.95 <= elapsed < 2.0
    [retry] = log.of(RetryEvent)
    assert retry.kind == "rate_limit" and retry.status_code == 429 and retry.wait == 1
    assert [(a.attempt, a.kind) for a in stream.attempts] == [(1, "rate_limit"), (2, None)]


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_server_errors_exhaust_retries_then_fall_back(
    provider: str, fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    fallback = OTHER[provider]
    log = EventLog()
    answer = streamer(
        make_dispatcher(), providers=[provider, fallback], max_retries=2, stages=(log,)
    )
    fake_server.enqueue(Script(status=500), provider=provider, times=3)
    fake_server.enqueue(Script(chunks=["from ", "the ", "fallback"]), provider=fallback)

    stream = answer("hi")
    assert "".join([c async for c in stream]) == "from the fallback"

    assert [r.provider for r in fake_server.requests] == [provider] * 3 + [fallback]
    assert [(a.provider, a.attempt, a.kind, a.status_code) for a in stream.attempts] == [
        (provider, 1, "server", 500),
        (provider, 2, "server", 500),
        (provider, 3, "server", 500),
        (fallback, 1, None, None),
    ]
    assert len(log.of(RetryEvent)) == 2
    [fell] = log.of(FallbackEvent)
    assert (fell.from_provider, fell.to_provider) == (provider, fallback)
    assert stream.provider == fallback


async def test_auth_error_is_not_retried_but_falls_back(
    fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    answer = streamer(make_dispatcher(), providers=["openai", "anthropic"], max_retries=3)
    fake_server.enqueue(Script(status=401, error_message="bad key"), provider="openai")
    fake_server.enqueue(Script(chunks=["ok"]), provider="anthropic")

    stream = answer("hi")
    assert [c async for c in stream] == ["ok"]
    assert [r.provider for r in fake_server.requests] == ["openai", "anthropic"]
    assert stream.attempts[0].kind == "auth"


async def test_bad_request_is_raised_at_once_without_fallback(
    fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    log = EventLog()
    answer = streamer(make_dispatcher(), providers=["anthropic", "openai"], stages=(log,))
    fake_server.enqueue(
        Script(status=400, error_message="messages: field required"), provider="anthropic"
    )

    with pytest.raises(BadRequestError) as info:
        await answer("hi").collect()
    assert info.value.provider == "anthropic" and info.value.status_code == 400
    assert info.value.attempt == 1
    assert [r.provider for r in fake_server.requests] == ["anthropic"]
    assert log.ends == 0 and len(log.errors) == 1


async def test_all_targets_failing_lists_every_attempt(
    fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    answer = streamer(make_dispatcher(), providers=["openai", "google"], max_retries=1)
    fake_server.enqueue(Script(status=503), provider="openai", times=2)
    fake_server.enqueue(Script(status=404, error_message="no such model"), provider="google")

    with pytest.raises(AllProvidersFailed) as info:
        await answer("hi").collect()
    err = info.value
    assert isinstance(err, ProviderError)  # code catching ProviderError sees it too
    assert [(a.provider, a.attempt, a.kind) for a in err.attempts] == [
        ("openai", 1, "overloaded"),
        ("openai", 2, "overloaded"),
        ("google", 1, "not_found"),
    ]
    text = str(err)
    assert "openai/gpt-4o-mini attempt 2: HTTP 503 overloaded" in text
    assert "google/gemini-2.5-flash attempt 1: HTTP 404 not_found" in text


async def test_fallback_disabled_stops_at_the_first_target(
    fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    answer = streamer(
        make_dispatcher(), providers=["openai", "anthropic"], fallback_enabled=False, max_retries=0
    )
    fake_server.enqueue(Script(status=500), provider="openai")
    with pytest.raises(AllProvidersFailed):
        await answer("hi").collect()
    assert [r.provider for r in fake_server.requests] == ["openai"]


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_slow_first_token_is_retried_within_the_deadline(
    provider: str, fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    dispatcher = make_dispatcher(defaults={"timeouts": {"first_token": 0.3, "total": 5}})
    answer = streamer(dispatcher, providers=[provider, OTHER[provider]], max_retries=1)
    fake_server.enqueue(Script(first_delay=2.0, chunks=["late"]), provider=provider, times=2)
    fake_server.enqueue(Script(chunks=["quick"]), provider=OTHER[provider])
    await dispatcher.warm_up([provider, OTHER[provider]])  # time the deadlines, not imports

    started = time.monotonic()
    stream = answer("hi")
    assert [c async for c in stream] == ["quick"]
    assert time.monotonic() - started < 1.5
    assert [(a.provider, a.kind) for a in stream.attempts] == [
        (provider, "timeout"),
        (provider, "timeout"),
        (OTHER[provider], None),
    ]
    for recorded in fake_server.requests[:2]:
        await recorded.wait_done(timeout=3)
        assert recorded.disconnected


async def test_exhausted_first_token_deadline_says_which_limit_fired(
    fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    dispatcher = make_dispatcher(defaults={"timeouts": {"first_token": 0.2}})
    answer = streamer(dispatcher, providers=["openai", "google"], max_retries=0)
    fake_server.default = Script(first_delay=1.0)
    with pytest.raises(StreamTimeout) as info:
        await answer("hi").collect()
    assert info.value.limit == "first_token" and info.value.seconds == 0.2
    assert "first_token timeout of 0.2s" in str(info.value)
    assert [(a.provider, a.kind) for a in info.value.attempts] == [
        ("openai", "timeout"),
        ("google", "timeout"),
    ]


async def test_total_deadline_stops_a_chain_of_slow_failures(
    fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    dispatcher = make_dispatcher(defaults={"timeouts": {"first_token": 10}})
    answer = streamer(
        dispatcher, providers=["openai", "anthropic", "google"], timeout=1.0, max_retries=5
    )
    fake_server.default = Script(status=503, first_delay=0.3)
    await dispatcher.warm_up()  # the SDK imports would count against `total` too

    started = time.monotonic()
    with pytest.raises(StreamTimeout) as info:
        await answer("hi").collect()
    elapsed = time.monotonic() - started
    assert info.value.limit == "total" and "total" in str(info.value)
    assert 0.95 <= elapsed < 1.3
    assert info.value.attempts  # what was tried is on the error
    assert isinstance(info.value, TimeoutError)  # `except asyncio.TimeoutError` catches it


async def test_idle_timeout_after_text_is_a_mid_stream_failure(
    fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    dispatcher = make_dispatcher(defaults={"timeouts": {"idle": 0.2}})
    answer = streamer(dispatcher, providers=["openai"])
    fake_server.enqueue(Script(chunks=["x ", "y ", "z"], chunk_delay=1.0), provider="openai")

    received: list[str] = []
    with pytest.raises(StreamInterrupted) as info:
        async for chunk in answer("hi"):
            received.append(chunk)
    assert received == ["x "]
    assert isinstance(info.value.cause, StreamTimeout) and info.value.cause.limit == "idle"
    assert info.value.partial_text == "x "


@pytest.mark.parametrize("fault", ["drop_after", "cut_after", "error_event_after"])
@pytest.mark.parametrize("provider", PROVIDERS)
async def test_mid_stream_raise_carries_exactly_the_delivered_text(
    provider: str, fault: str, fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    log = EventLog()
    answer = streamer(make_dispatcher(), providers=[provider, OTHER[provider]], stages=(log,))
    chunks = [f"w{i} " for i in range(25)]
    fake_server.enqueue(Script(chunks=chunks, **{fault: 10}), provider=provider)

    received: list[str] = []
    with pytest.raises(StreamInterrupted) as info:
        async for chunk in answer("hi"):
            received.append(chunk)
    assert received == chunks[:10]
    assert info.value.partial_text == "".join(chunks[:10])
    assert info.value.provider == provider
    assert isinstance(info.value.cause, ProviderError)
    assert len(fake_server.requests) == 1  # no retry, no fallback: text would repeat
    assert len(log.of(InterruptionEvent)) == 1 and log.ends == 0 and len(log.errors) == 1


@pytest.mark.parametrize("fault", ["drop_after", "cut_after"])
@pytest.mark.parametrize("provider", PROVIDERS)
async def test_mid_stream_continue_appends_the_continuation(
    provider: str, fault: str, fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    fallback = OTHER[provider]
    log = EventLog()
    answer = streamer(
        make_dispatcher(),
        providers=[provider, fallback],
        mid_stream="continue",
        stages=(log,),
        metadata=True,
    )
    chunks = [f"w{i} " for i in range(25)]
    fake_server.enqueue(Script(chunks=chunks, **{fault: 10}), provider=provider)
    fake_server.enqueue(Script(chunks=["and ", "the ", "end."]), provider=fallback)

    items = [m async for m in answer("Tell me", system="Answer in English.")]
    text = "".join(m["chunk"] for m in items)
    assert text == "".join(chunks[:10]) + "and the end."
    assert [m["provider"] for m in items[:10]] == [provider] * 10
    assert [m["provider"] for m in items[10:]] == [fallback] * 4
    assert items[-1]["is_final"]

    _, second = fake_server.requests
    assert second.provider == fallback
    assert second.system == "Answer in English."
    partial = "".join(chunks[:10])
    if fallback == "anthropic":
        # A prefill; Anthropic rejects one ending in whitespace, so it is sent trimmed.
        assert second.messages == [
            {"role": "user", "content": "Tell me"},
            {"role": "assistant", "content": partial.rstrip()},
        ]
    else:
        # The partial answer, then the instruction to go on from it.
        assert second.messages == [
            {"role": "user", "content": "Tell me"},
            {"role": "assistant", "content": partial},
            {"role": "user", "content": CONTINUE_INSTRUCTION},
        ]
    [cont] = log.of(ContinuationEvent)
    assert cont.provider == fallback and cont.prefix_chars == len("".join(chunks[:10]))
    assert log.ends == 1 and not log.errors


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_in_stream_error_before_text_is_retried(
    provider: str, fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    answer = streamer(make_dispatcher(), providers=[provider])
    fake_server.enqueue(
        Script(chunks=["x"], error_event_after=0), Script(chunks=["fine"]), provider=provider
    )
    stream = answer("hi")
    assert [c async for c in stream] == ["fine"]
    assert stream.attempts[0].kind == "overloaded"


async def test_continue_with_no_target_left_raises_interrupted(
    fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    answer = streamer(make_dispatcher(), providers=["openai"], mid_stream="continue")
    fake_server.enqueue(Script(chunks=["a ", "b ", "c "], drop_after=2))
    with pytest.raises(StreamInterrupted) as info:
        await answer("hi").collect()
    assert info.value.partial_text == "a b "


async def test_circuit_opens_skips_target_and_closes_after_cooldown(
    fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    dispatcher = make_dispatcher(
        defaults={"circuit": {"failure_threshold": 2, "window": 10, "cooldown": 0.4}}
    )
    log = EventLog()
    answer = streamer(dispatcher, providers=["openai", "anthropic"], max_retries=0, stages=(log,))
    fake_server.enqueue(Script(status=500), provider="openai", times=2)

    for _ in range(2):
        assert "anthropic" in "".join([c async for c in answer("hi")])
    opened = [e for e in log.of(CircuitEvent) if e.new == "open"]
    assert [e.target for e in opened] == ["openai/gpt-4o-mini"]

    fake_server.requests.clear()
    assert "anthropic" in "".join([c async for c in answer("hi")])
    assert [r.provider for r in fake_server.requests] == ["anthropic"]  # openai skipped

    await asyncio.sleep(0.45)
    fake_server.requests.clear()
    assert "openai" in "".join([c async for c in answer("hi")])  # half-open probe succeeds
    assert [r.provider for r in fake_server.requests] == ["openai"]
    assert any(e.new == "closed" for e in log.of(CircuitEvent))


async def half_open_openai(fake_server: FakeProviderServer, make_dispatcher: Any) -> Any:
    """A dispatcher whose openai circuit is half-open: one probe allowed."""
    dispatcher = make_dispatcher(
        defaults={"circuit": {"failure_threshold": 1, "window": 10, "cooldown": 0.2}}
    )
    fake_server.enqueue(Script(status=500), provider="openai")
    await streamer(dispatcher, providers=["openai", "anthropic"], max_retries=0)("hi").collect()
    await asyncio.sleep(0.25)
    fake_server.requests.clear()
    return dispatcher


async def test_half_open_probe_planned_but_not_tried_is_given_back(
    fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    dispatcher = await half_open_openai(fake_server, make_dispatcher)

    # Planned second behind a target that succeeds: planning claims no probe.
    await streamer(dispatcher, providers=["anthropic", "openai"])("hi").collect()
    fake_server.requests.clear()
    stream = await streamer(dispatcher, providers=["openai"])("hi").collect()
    assert stream.provider == "openai"
    assert [r.provider for r in fake_server.requests] == ["openai"]


class ProbeTaker(Stage):
    """Claims a half-open target's probe after the plan is made: another request's probe."""

    def __init__(self, circuit: Any, key: str) -> None:
        self.circuit, self.key = circuit, key

    async def on_start(self, ctx: Any) -> None:
        assert await self.circuit.allow(self.key)


async def test_a_probe_taken_after_planning_falls_back_without_a_request(
    fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    dispatcher = await half_open_openai(fake_server, make_dispatcher)

    taker = ProbeTaker(dispatcher.circuit, "openai/gpt-4o-mini")
    stream = streamer(dispatcher, providers=["openai", "anthropic"], stages=(taker,))("hi")
    await stream.collect()

    assert stream.provider == "anthropic"
    assert [r.provider for r in fake_server.requests] == ["anthropic"]
    refused, ok = stream.attempts
    assert (refused.provider, refused.kind, refused.charged) == ("openai", "circuit_open", False)
    assert "half-open" in refused.message
    assert (ok.provider, ok.kind) == ("anthropic", None)


async def test_a_probe_whose_stream_the_consumer_left_is_given_back_at_once(
    fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    dispatcher = make_dispatcher(
        defaults={"circuit": {"failure_threshold": 1, "window": 10, "cooldown": 30}}
    )
    key = "openai/gpt-4o-mini"
    await dispatcher.circuit.record_failure(key)
    # Past the cooldown on the breaker's clock: half-open, the probe free.
    dispatcher.circuit.clock = lambda: time.monotonic() + 31
    fake_server.enqueue(Script(chunks=["a ", "b ", "c"], chunk_delay=0.05), provider="openai")

    chunks = streamer(dispatcher, providers=["openai"])("hi").__aiter__()
    async with asyncio.timeout(10):
        assert await anext(chunks) == "a "
        assert not await dispatcher.circuit.allow(key)  # the stream holds the probe
        await chunks.aclose()  # the consumer leaves: the probe got no verdict
    assert await dispatcher.circuit.allow(key)  # free for the next request, not leased


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_exhausted_connect_deadline_says_connect(provider: str, make_dispatcher: Any) -> None:
    import contextlib
    import socket

    with contextlib.ExitStack() as stack:
        # A listener whose accept queue is full: connection attempts never complete.
        listener = stack.enter_context(socket.socket())
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        for _ in range(3):
            filler = stack.enter_context(socket.socket())
            filler.setblocking(False)
            filler.connect_ex(listener.getsockname())
        port = listener.getsockname()[1]
        suffix = "/v1" if provider == "openai" else ""
        dispatcher = make_dispatcher(
            providers={
                "slow": {
                    "kind": provider,
                    "api_key": "sk-test-0123456789",
                    "base_url": f"http://127.0.0.1:{port}{suffix}",
                    "default_model": "m",
                    "timeouts": {"connect": 0.2},
                }
            }
        )
        answer = streamer(dispatcher, providers=["slow"], max_retries=1)
        with pytest.raises(StreamTimeout) as info:
            await asyncio.wait_for(answer("hi").collect(), timeout=10)
    assert info.value.limit == "connect" and info.value.seconds == 0.2
    assert [a.kind for a in info.value.attempts] == ["timeout", "timeout"]
