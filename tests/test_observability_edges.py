"""Less common streams, as spans and metrics: an interruption continued on the next target,
a consumer that leaves, a target refused by its circuit, a sink that raises (which never
fails the stream), and calls that share one provider stream."""

from __future__ import annotations

import asyncio
from typing import Any

from observability_capture import (  # noqa: F401  (the fixture)
    Telemetry,
    answer_with,
    telemetry,
)
from opentelemetry.trace import StatusCode

from llm_dispatch import Stage, llm_stream
from llm_dispatch.cache import StreamingCache
from llm_dispatch.testing import FakeProviderServer, Script, capture_events

OPENAI = "gpt-4o-mini"
CHUNKS = ["one ", "two ", "three ", "four"]


async def test_an_interruption_continued(
    telemetry: Telemetry,  # noqa: F811
    fake_server: FakeProviderServer,
    make_dispatcher: Any,
) -> None:
    fake_server.enqueue(Script(chunks=CHUNKS, drop_after=3), provider="openai")
    fake_server.enqueue(Script(chunks=["four"], usage=(20, 1)), provider="anthropic")
    answer = answer_with(
        make_dispatcher(), providers=["openai", "anthropic"], mid_stream="continue"
    )
    assert (await answer("Count").collect()).get_text() == "one two three four"

    span, [cut, went_on] = telemetry.stream()
    assert cut.attributes["error.type"] == "connection"
    assert went_on.attributes["gen_ai.usage.output_tokens"] == 1
    assert span.attributes["llm_dispatch.interruptions"] == 1
    assert span.attributes["llm_dispatch.outcome"] == "ok"
    assert span.status.status_code is StatusCode.UNSET
    assert (
        telemetry.sample(
            "llm_dispatch_interruptions_total",
            provider="openai",
            model=OPENAI,
            error_type="connection",
            continued="true",
        )
        == 1
    )


async def test_a_consumer_that_leaves(
    telemetry: Telemetry,  # noqa: F811
    fake_server: FakeProviderServer,
    make_dispatcher: Any,
) -> None:
    fake_server.enqueue(Script(chunks=CHUNKS, chunk_delay=0.05), provider="openai")
    chunks = aiter(answer_with(make_dispatcher(), providers=["openai"])("Count"))
    assert await anext(chunks) == "one "
    await chunks.aclose()  # type: ignore[attr-defined]

    span, [tried] = telemetry.stream()
    assert tried.attributes["error.type"] == span.attributes["error.type"] == "cancelled"
    assert span.attributes["llm_dispatch.outcome"] == "cancelled"
    assert (
        telemetry.sample(
            "llm_dispatch_requests_total",
            provider="openai",
            model=OPENAI,
            outcome="cancelled",
            error_type="cancelled",
        )
        == 1
    )


class BrokenSink:
    """A sink whose every call raises."""

    def __getattr__(self, name: str) -> Any:
        def broken(*args: Any) -> None:
            raise RuntimeError(f"{name} is broken")

        return broken


async def test_a_sink_that_raises_never_fails_the_stream(
    telemetry: Telemetry,  # noqa: F811
    fake_server: FakeProviderServer,
    make_dispatcher: Any,
) -> None:
    stage = telemetry.instrumentation.stage
    stage.sinks = (BrokenSink(), *stage.sinks)
    answer = answer_with(make_dispatcher(), providers=["openai"])
    with capture_events() as events:
        for _ in range(2):
            assert (await answer("Count").collect()).get_text()

    failed = [e for e in events if e["event"] == "observability.sink_failed"]
    # Once per call of the sink (the second stream's failures are held back), as a warning.
    assert sorted(e["call"] for e in failed) == [
        "stream_ended",
        "stream_started",
        "try_ended",
        "try_started",
    ]
    assert {(e["sink"], e["error"], e["log_level"]) for e in failed} == {
        ("BrokenSink", "RuntimeError", "warning")
    }
    # The other sinks saw both streams.
    assert len(telemetry.streams()) == 2
    assert (
        telemetry.sample(
            "llm_dispatch_requests_total",
            provider="openai",
            model=OPENAI,
            outcome="ok",
            error_type="",
        )
        == 2
    )


async def test_a_target_refused_by_its_circuit_has_a_span_of_its_own(
    telemetry: Telemetry,  # noqa: F811
    fake_server: FakeProviderServer,
    make_dispatcher: Any,
) -> None:
    dispatcher = make_dispatcher(
        defaults={"circuit": {"failure_threshold": 1, "window": 10, "cooldown": 0.2}}
    )
    key = "openai/gpt-4o-mini"
    await dispatcher.circuit.record_failure(key)
    await asyncio.sleep(0.25)  # half-open: one probe, which this stage takes after the plan

    class ProbeTaker(Stage):
        async def on_start(self, ctx: Any) -> None:
            assert await dispatcher.circuit.allow(key)

    @llm_stream(dispatcher=dispatcher, providers=["openai", "anthropic"], stages=(ProbeTaker(),))
    async def answer(prompt: str) -> Any:
        yield "unused"

    await answer("hi").collect()
    span, [refused, answered] = telemetry.stream()
    assert refused.attributes["llm_dispatch.attempt"] == 0
    assert refused.attributes["error.type"] == "circuit_open"
    assert "gen_ai.usage.input_tokens" not in refused.attributes
    assert answered.attributes["gen_ai.provider.name"] == "anthropic"
    assert span.attributes["llm_dispatch.fallbacks"] == 1
    assert (
        telemetry.sample(
            "llm_dispatch_attempts_total",
            provider="openai",
            model="gpt-4o-mini",
            outcome="circuit_open",
        )
        == 1
    )


async def test_calls_sharing_one_provider_stream_count_its_tokens_once(
    telemetry: Telemetry,  # noqa: F811
    fake_server: FakeProviderServer,
    make_dispatcher: Any,
) -> None:
    fake_server.enqueue(Script(chunks=CHUNKS, chunk_delay=0.01, usage=(1000, 500)))
    answer = answer_with(make_dispatcher(), providers=["openai"], cache=StreamingCache())
    streams = [answer("the same question") for _ in range(3)]
    await asyncio.gather(*(s.collect() for s in streams))
    assert len(fake_server.requests) == 1

    assert len(telemetry.streams()) == 3
    # Each stream's span shows the shared answer's counts; one provider stream spent them.
    for span in telemetry.streams():
        assert span.attributes["gen_ai.usage.output_tokens"] == 500
    target = {"provider": "openai", "model": OPENAI}
    assert telemetry.sample("llm_dispatch_tokens_total", **target, type="input") == 1000
    assert telemetry.sample("llm_dispatch_tokens_total", **target, type="output") == 500
    assert (
        telemetry.sample("llm_dispatch_requests_total", **target, outcome="ok", error_type="") == 3
    )
    tokens = {
        a["gen_ai.token.type"]: (p.count, p.sum)
        for a, p in telemetry.points("gen_ai.client.token.usage")
    }
    assert tokens == {"input": (1, 1000), "output": (1, 500)}
