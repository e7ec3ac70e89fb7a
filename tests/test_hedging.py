"""Hedging (``hedge_after``), end to end over real HTTP against the fake provider server.

The slow side of each race waits seconds longer than the fast one. The other waits only
order events on one event loop (the fake server's delays and the hedge's timer run on the
test's loop, and a timer never fires before one due earlier), so the outcomes hold on a
busy machine; no test asserts a duration.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from conftest import TEST_MODELS

from llm_dispatch import (
    AllProvidersFailed,
    ConfigError,
    Stage,
    StreamInterrupted,
    StreamTimeout,
    llm_stream,
)
from llm_dispatch.cache import StreamingCache
from llm_dispatch.events import FallbackEvent, FirstTokenEvent, HedgeEvent
from llm_dispatch.policies.circuit import CircuitState
from llm_dispatch.testing import FakeProviderServer, RecordedRequest, Script, capture_events

SLOW = 5.0  # a first event that never comes within a test
HEDGE = {"hedge_after": 0.2}


class Seen(Stage):
    """What the stages are told: events, the text of every chunk, end and errors."""

    def __init__(self) -> None:
        self.events: list[Any] = []
        self.chunks: list[str] = []
        self.errors: list[BaseException] = []

    def handles_chunks(self) -> bool:
        return True

    async def on_event(self, ctx: Any, event: Any) -> None:
        self.events.append(event)

    async def on_chunk(self, ctx: Any, text: str) -> str:
        self.chunks.append(text)
        return text

    async def on_error(self, ctx: Any, exc: BaseException) -> None:
        self.errors.append(exc)

    def of(self, kind: type) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind)]


@pytest.fixture
def make(make_dispatcher: Any) -> Any:
    """``make_dispatcher``, its SDK providers set up: an SDK's first import (seconds on a
    busy machine, blocking the loop) would otherwise fall inside a race."""

    async def made(**kwargs: Any) -> Any:
        dispatcher = make_dispatcher(**kwargs)
        await dispatcher.warm_up()
        return dispatcher

    return made


def streamer(dispatcher: Any, providers: list[str], **options: Any) -> Any:
    @llm_stream(dispatcher=dispatcher, providers=providers, **options)
    async def answer(prompt: str) -> Any:
        yield "unused"

    return answer


async def closed(recorded: RecordedRequest) -> bool:
    """Whether the server saw the client go away before the answer was complete."""
    await recorded.wait_done(timeout=10)
    return recorded.disconnected and not recorded.completed


async def collected(stream: Any) -> str:
    async with asyncio.timeout(20):
        return "".join([chunk async for chunk in stream])


def outcomes(stream: Any) -> list[tuple[str, str]]:
    return sorted((a.provider, a.outcome) for a in stream.attempts)


@pytest.mark.stream_parsers
@pytest.mark.parametrize(
    ("slow", "fast"), [("openai", "anthropic"), ("anthropic", "google"), ("google", "openai")]
)
async def test_the_faster_target_is_streamed_and_the_slower_request_closed(
    slow: str, fast: str, fake_server: FakeProviderServer, make: Any
) -> None:
    dispatcher = await make(defaults={"circuit": {"failure_threshold": 1}})
    seen = Seen()
    answer = streamer(dispatcher, [slow, fast], policy=HEDGE, stages=(seen,))
    fake_server.enqueue(Script(first_delay=SLOW, chunks=["slow ", "answer"]), provider=slow)
    fake_server.enqueue(Script(chunks=["fast ", "answer"]), provider=fast)

    stream = answer("hi")
    assert await collected(stream) == "fast answer"
    assert seen.chunks == ["fast ", "answer"]  # the stages saw one answer, once
    assert stream.provider == fast
    [hedge] = seen.of(HedgeEvent)
    assert (hedge.provider, hedge.hedge_provider, hedge.after) == (slow, fast, 0.2)
    assert [e.provider for e in seen.of(FirstTokenEvent)] == [fast]
    assert not seen.of(FallbackEvent)

    [slow_request] = fake_server.requests_for(slow)
    assert await closed(slow_request)
    assert slow_request.chunks_sent == 0

    # Both attempts are in the ledger; the loser as hedged, with its prompt charged.
    assert outcomes(stream) == sorted([(slow, "hedged"), (fast, "ok")])
    [lost] = [a for a in stream.attempts if a.provider == slow]
    assert lost.charged and lost.usage.prompt_tokens > 0 and lost.usage.completion_tokens == 0
    assert fast in lost.message and lost.chars == 0
    # Losing a race is no failure: with a threshold of one, the circuit would be open.
    status = await dispatcher.circuit.status(f"{slow}/{TEST_MODELS[slow]}")
    assert status.state is CircuitState.CLOSED and status.failures == 0


async def test_a_first_event_before_hedge_after_sends_no_second_request(
    fake_server: FakeProviderServer, make: Any
) -> None:
    dispatcher = await make(defaults={"hedge_after": 3.0})  # configured, not per call
    seen = Seen()
    answer = streamer(dispatcher, ["openai", "anthropic"], stages=(seen,))
    fake_server.enqueue(Script(chunks=["quick"]), provider="openai")

    stream = answer("hi")
    assert await collected(stream) == "quick"
    await asyncio.sleep(0.3)  # the hedge timer is gone: nothing goes out after the stream
    assert [r.provider for r in fake_server.requests] == ["openai"]
    assert not seen.of(HedgeEvent)
    assert outcomes(stream) == [("openai", "ok")]


async def test_the_hedge_is_timed_from_the_request_not_from_the_call(
    fake_server: FakeProviderServer, make: Any
) -> None:
    class SlowStart(Stage):
        async def on_start(self, ctx: Any) -> None:
            await asyncio.sleep(0.8)  # the call is older than hedge_after before any request

    dispatcher = await make()
    answer = streamer(
        dispatcher, ["openai", "anthropic"], policy={"hedge_after": 0.6}, stages=(SlowStart(),)
    )
    fake_server.enqueue(Script(first_delay=0.1, chunks=["in time"]), provider="openai")
    assert await collected(answer("hi")) == "in time"
    assert [r.provider for r in fake_server.requests] == ["openai"]


async def test_retries_do_not_move_the_hedge(fake_server: FakeProviderServer, make: Any) -> None:
    answer = streamer(
        await make(),
        ["openai", "anthropic"],
        policy={**HEDGE, "retry": {"max_retries": 1, "backoff_base": 3.0, "backoff_max": 3.0}},
    )
    # The first try fails at once; while its retry waits, the hedge (timed from that first
    # request) goes out and answers. The retry is never sent.
    fake_server.enqueue(Script(status=503), provider="openai")
    fake_server.enqueue(Script(chunks=["hedged"]), provider="anthropic")
    stream = answer("hi")
    with capture_events(logging.INFO) as events:
        assert await collected(stream) == "hedged"
    assert [r.provider for r in fake_server.requests] == ["openai", "anthropic"]
    assert [(a.provider, a.outcome) for a in stream.attempts] == [
        ("openai", "overloaded"),
        ("anthropic", "ok"),
    ]
    [hedge] = [e for e in events if e["event"] == "stream.hedge"]
    assert (hedge["waiting"], hedge["hedge"], hedge["after_s"]) == (
        "openai/gpt-4o-mini",
        "anthropic/claude-haiku-4-5",
        0.2,
    )


async def test_when_both_are_slow_the_first_to_answer_wins(
    fake_server: FakeProviderServer, make: Any
) -> None:
    answer = streamer(await make(), ["openai", "anthropic"], policy=HEDGE)
    # The first target is slow, but answers long before the hedge does.
    fake_server.enqueue(Script(first_delay=0.6, chunks=["first ", "target"]), provider="openai")
    fake_server.enqueue(Script(first_delay=SLOW * 2, chunks=["hedge"]), provider="anthropic")

    stream = answer("hi")
    assert await collected(stream) == "first target"
    [hedge_request] = fake_server.requests_for("anthropic")
    assert await closed(hedge_request)
    assert outcomes(stream) == [("anthropic", "hedged"), ("openai", "ok")]


async def test_a_racer_that_opens_after_the_winner_claimed_the_race_is_closed(
    fake_server: FakeProviderServer, make: Any
) -> None:
    class SlowFirstToken(Seen):
        async def on_event(self, ctx: Any, event: Any) -> None:
            await super().on_event(ctx, event)
            if isinstance(event, FirstTokenEvent):
                await asyncio.sleep(0.6)  # the other racer opens meanwhile

    seen = SlowFirstToken()
    answer = streamer(await make(), ["openai", "anthropic"], policy=HEDGE, stages=(seen,))
    fake_server.enqueue(
        Script(first_delay=0.4, chunks=["first ", "to answer"], chunk_delay=0.5), provider="openai"
    )
    late = Script(first_delay=0.5, chunks=["second ", "to answer"], chunk_delay=SLOW)
    fake_server.enqueue(late, provider="anthropic")

    stream = answer("hi")
    assert await collected(stream) == "first to answer"
    assert seen.chunks == ["first ", "to answer"]
    assert [e.provider for e in seen.of(FirstTokenEvent)] == ["openai"]
    assert outcomes(stream) == [("anthropic", "hedged"), ("openai", "ok")]
    [hedge_request] = fake_server.requests_for("anthropic")
    assert await closed(hedge_request)
    assert hedge_request.chunks_sent == 1  # its first event came, and went no further


async def test_a_racer_that_fails_leaves_the_other_racing(
    fake_server: FakeProviderServer, make: Any
) -> None:
    seen = Seen()
    answer = streamer(
        await make(),
        ["openai", "anthropic", "google"],
        policy={**HEDGE, "retry": {"max_retries": 0}},
        stages=(seen,),
    )
    # The first target fails after the hedge went out: no fallback to the third target,
    # the hedge keeps racing and answers.
    fake_server.enqueue(Script(status=503, first_delay=0.4), provider="openai")
    hedge = Script(first_delay=0.6, chunks=["from ", "the hedge"])
    fake_server.enqueue(hedge, provider="anthropic")

    stream = answer("hi")
    assert await collected(stream) == "from the hedge"
    assert [r.provider for r in fake_server.requests] == ["openai", "anthropic"]
    assert outcomes(stream) == [("anthropic", "ok"), ("openai", "overloaded")]
    assert not seen.of(FallbackEvent) and not seen.errors


async def test_when_both_racers_fail_the_chain_falls_back_as_usual(
    fake_server: FakeProviderServer, make: Any
) -> None:
    seen = Seen()
    answer = streamer(
        await make(),
        ["openai", "anthropic", "google"],
        policy={**HEDGE, "retry": {"max_retries": 0}},
        stages=(seen,),
    )
    # The hedge fails last (0.2 + 0.4 s after the first request): the chain goes on from it.
    fake_server.enqueue(Script(status=503, first_delay=0.3), provider="openai")
    fake_server.enqueue(Script(status=500, first_delay=0.4), provider="anthropic")
    fake_server.enqueue(Script(chunks=["third"]), provider="google")

    stream = answer("hi")
    assert await collected(stream) == "third"
    assert outcomes(stream) == [("anthropic", "server"), ("google", "ok"), ("openai", "overloaded")]
    [fallback] = seen.of(FallbackEvent)
    assert (fallback.from_provider, fallback.to_provider) == ("anthropic", "google")


async def test_when_both_racers_fail_and_none_is_left_the_chain_fails(
    fake_server: FakeProviderServer, make: Any
) -> None:
    answer = streamer(
        await make(),
        ["openai", "anthropic"],
        policy={**HEDGE, "retry": {"max_retries": 0}},
    )
    fake_server.enqueue(Script(status=503, first_delay=0.3), provider="openai")
    fake_server.enqueue(Script(status=500, first_delay=0.3), provider="anthropic")

    with pytest.raises(AllProvidersFailed) as info:
        await collected(answer("hi"))
    assert sorted((a.provider, a.outcome) for a in info.value.attempts) == [
        ("anthropic", "server"),
        ("openai", "overloaded"),
    ]


async def test_a_failure_before_the_hedge_falls_back_as_usual(
    fake_server: FakeProviderServer, make: Any
) -> None:
    seen = Seen()
    answer = streamer(
        await make(),
        ["openai", "anthropic"],
        policy={"hedge_after": 3.0, "retry": {"max_retries": 0}},
        stages=(seen,),
    )
    fake_server.enqueue(Script(status=503), provider="openai")
    fake_server.enqueue(Script(chunks=["fallback"]), provider="anthropic")

    stream = answer("hi")
    assert await collected(stream) == "fallback"
    assert [(a.provider, a.outcome) for a in stream.attempts] == [
        ("openai", "overloaded"),
        ("anthropic", "ok"),
    ]
    assert len(seen.of(FallbackEvent)) == 1 and not seen.of(HedgeEvent)


async def test_cancelling_the_consumer_mid_race_closes_both_requests(
    fake_server: FakeProviderServer, make: Any
) -> None:
    dispatcher = await make()
    answer = streamer(dispatcher, ["openai", "anthropic"], policy=HEDGE)
    racing = asyncio.Event()

    def slow(recorded: RecordedRequest) -> Script:
        if len(fake_server.requests) == 2:  # both requests are out: the race is on
            racing.set()
        return Script(first_delay=SLOW * 2)

    fake_server.default = slow
    before = asyncio.all_tasks()

    stream = answer("hi")
    consumer = asyncio.create_task(collected(stream))
    async with asyncio.timeout(10):
        await racing.wait()
    consumer.cancel()
    with pytest.raises(asyncio.CancelledError):
        await consumer
    # Both racers' tasks ended before the cancellation reached the consumer.
    assert not [t for t in asyncio.all_tasks() if t.get_name().startswith("llm_dispatch.")]

    for recorded in fake_server.requests:
        assert await closed(recorded)
    assert outcomes(stream) == [("anthropic", "cancelled"), ("openai", "cancelled")]
    # What is left ends with the connections (the server's handlers): nothing else.
    left = asyncio.all_tasks() - before - {asyncio.current_task()}
    if left:
        await asyncio.wait(left, timeout=10)
    assert all(task.done() for task in left)


async def test_the_winners_failure_after_text_carries_only_its_own_text(
    fake_server: FakeProviderServer, make: Any
) -> None:
    answer = streamer(await make(), ["openai", "anthropic"], policy=HEDGE)
    fake_server.enqueue(Script(first_delay=SLOW, chunks=["slow"]), provider="openai")
    dropped = Script(chunks=["one ", "two ", "three"], drop_after=2)
    fake_server.enqueue(dropped, provider="anthropic")

    received: list[str] = []
    with pytest.raises(StreamInterrupted) as info:
        async with asyncio.timeout(20):
            async for chunk in answer("hi"):
                received.append(chunk)
    assert received == ["one ", "two "]
    assert info.value.partial_text == "one two " and info.value.provider == "anthropic"
    assert await closed(fake_server.requests_for("openai")[0])


async def test_each_racer_keeps_its_first_token_deadline(
    fake_server: FakeProviderServer, make: Any
) -> None:
    answer = streamer(
        await make(),
        ["openai", "anthropic", "google"],
        policy={**HEDGE, "retry": {"max_retries": 0}, "timeouts": {"first_token": 0.5}},
    )
    fake_server.enqueue(Script(first_delay=SLOW), provider="openai")
    fake_server.enqueue(Script(first_delay=SLOW), provider="anthropic")
    fake_server.enqueue(Script(chunks=["third"]), provider="google")

    stream = answer("hi")
    assert await collected(stream) == "third"
    assert outcomes(stream) == [("anthropic", "timeout"), ("google", "ok"), ("openai", "timeout")]
    for recorded in fake_server.requests[:2]:
        assert await closed(recorded)


async def test_the_total_deadline_ends_a_race(fake_server: FakeProviderServer, make: Any) -> None:
    dispatcher = await make()
    answer = streamer(dispatcher, ["openai", "anthropic"], policy=HEDGE, timeout=0.7)
    fake_server.default = Script(first_delay=SLOW * 2)

    with pytest.raises(StreamTimeout) as info:
        await collected(answer("hi"))
    assert info.value.limit == "total"
    assert len(fake_server.requests) == 2
    for recorded in fake_server.requests:
        assert await closed(recorded)


async def test_the_idle_deadline_watches_the_winners_stream(
    fake_server: FakeProviderServer, make: Any
) -> None:
    answer = streamer(
        await make(), ["openai", "anthropic"], policy={**HEDGE, "timeouts": {"idle": 0.4}}
    )
    fake_server.enqueue(Script(first_delay=SLOW, chunks=["slow"]), provider="openai")
    stalled = Script(chunks=["one ", "two"], chunk_delay=SLOW * 2)
    fake_server.enqueue(stalled, provider="anthropic")

    received: list[str] = []
    with pytest.raises(StreamInterrupted) as info:
        async with asyncio.timeout(20):
            async for chunk in answer("hi"):
                received.append(chunk)
    assert received == ["one "]
    assert isinstance(info.value.cause, StreamTimeout) and info.value.cause.limit == "idle"


async def test_a_continuation_after_a_won_race_goes_on_from_the_winner(
    fake_server: FakeProviderServer, make: Any
) -> None:
    seen = Seen()
    answer = streamer(
        await make(),
        ["openai", "anthropic", "google"],
        policy=HEDGE,
        mid_stream="continue",
        stages=(seen,),
    )
    fake_server.enqueue(Script(first_delay=SLOW, chunks=["slow"]), provider="openai")
    dropped = Script(chunks=["one ", "two ", "three"], drop_after=2)
    fake_server.enqueue(dropped, provider="anthropic")
    fake_server.enqueue(Script(chunks=["three"]), provider="google")

    stream = answer("hi")
    assert await collected(stream) == "one two three"
    [fallback] = seen.of(FallbackEvent)
    assert (fallback.from_provider, fallback.to_provider) == ("anthropic", "google")
    assert [r.provider for r in fake_server.requests] == ["openai", "anthropic", "google"]


async def test_a_route_of_one_target_never_hedges(
    fake_server: FakeProviderServer, make: Any
) -> None:
    answer = streamer(await make(), ["openai"], policy=HEDGE)
    fake_server.enqueue(Script(first_delay=0.4, chunks=["alone"]), provider="openai")
    stream = answer("hi")
    assert await collected(stream) == "alone"
    assert len(fake_server.requests) == 1


async def test_a_call_switches_configured_hedging_off_and_on(
    fake_server: FakeProviderServer, make: Any
) -> None:
    from llm_dispatch import Client

    client = Client(dispatcher=await make(defaults=HEDGE))
    slow = Script(first_delay=0.4, chunks=["waited"])
    fake_server.enqueue(slow, provider="openai")
    off = client.stream("hi", providers=["openai", "anthropic"], policy={"hedge_after": None})
    assert await collected(off) == "waited"
    assert [r.provider for r in fake_server.requests] == ["openai"]

    fake_server.enqueue(Script(first_delay=SLOW, chunks=["slow"]), provider="openai")
    fake_server.enqueue(Script(chunks=["raced"]), provider="anthropic")
    on = client.stream("hi", providers=["openai", "anthropic"])
    assert await collected(on) == "raced"


async def test_the_winners_answer_is_cached_and_replayed_without_a_race(
    fake_server: FakeProviderServer, make: Any
) -> None:
    answer = streamer(await make(), ["openai", "anthropic"], policy=HEDGE, cache=StreamingCache())
    fake_server.enqueue(Script(first_delay=SLOW, chunks=["slow"]), provider="openai")
    fake_server.enqueue(Script(chunks=["stored ", "answer"]), provider="anthropic")
    assert await collected(answer("hi")) == "stored answer"
    await fake_server.requests_for("openai")[0].wait_done(timeout=10)

    replayed = answer("hi")
    assert await collected(replayed) == "stored answer"
    assert replayed.context.cached and len(fake_server.requests) == 2


async def test_identical_calls_racing_share_each_targets_flight(
    fake_server: FakeProviderServer, make: Any
) -> None:
    answer = streamer(await make(), ["openai", "anthropic"], policy=HEDGE, cache=StreamingCache())
    fake_server.enqueue(Script(first_delay=SLOW, chunks=["slow"]), provider="openai")
    shared = Script(chunks=["one ", "answer"], chunk_delay=0.5)  # in flight when both hedge
    fake_server.enqueue(shared, provider="anthropic")

    first, second = answer("hi"), answer("hi")
    texts = await asyncio.gather(collected(first), collected(second))
    assert texts == ["one answer", "one answer"]
    # One request per target: the second call joined the first one's flights.
    assert sorted(r.provider for r in fake_server.requests) == ["anthropic", "openai"]
    assert await closed(fake_server.requests_for("openai")[0])
    assert outcomes(first) == outcomes(second) == [("anthropic", "ok"), ("openai", "hedged")]


def test_hedge_after_must_be_positive() -> None:
    from llm_dispatch import Dispatcher

    with pytest.raises(ConfigError) as info:
        Dispatcher({"defaults": {"hedge_after": 0}})
    assert "defaults.hedge_after" in str(info.value)
