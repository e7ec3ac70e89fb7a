"""Spans and metrics of real streams (the SDKs against the fake provider server), read back
from the OpenTelemetry SDK's in-memory exporter and reader and a Prometheus registry."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import fake_providers
from observability_capture import (  # noqa: F401  (the fixture)
    Telemetry,
    answer_with,
    telemetry,
)
from opentelemetry.trace import StatusCode

from llm_dispatch import StreamInterrupted, StreamTimeout
from llm_dispatch.cache import StreamingCache
from llm_dispatch.errors import BadRequestError
from llm_dispatch.testing import FakeProviderServer, Script

OPENAI = "gpt-4o-mini"
ANTHROPIC = "claude-haiku-4-5"
CHUNKS = ["one ", "two ", "three ", "four"]


async def test_a_plain_stream(
    telemetry: Telemetry,  # noqa: F811
    fake_server: FakeProviderServer,
    make_dispatcher: Any,
) -> None:
    providers = fake_providers(fake_server)
    providers["openai"]["prices"] = {OPENAI: {"input": 0.15, "output": 0.60}}
    fake_server.enqueue(Script(chunks=CHUNKS, usage=(11, 7)), provider="openai")
    dispatcher = make_dispatcher(providers=providers)
    stream = answer_with(dispatcher, providers=["openai"])("Count to four")
    assert (await stream.collect()).get_text() == "one two three four"

    span, [tried] = telemetry.stream()
    assert span.name == tried.name == f"chat {OPENAI}"
    assert tried.parent == span.context and span.parent is None
    ttft = span.attributes["gen_ai.response.time_to_first_chunk"]
    assert dict(span.attributes) == {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": OPENAI,
        "gen_ai.request.stream": True,
        "gen_ai.response.model": OPENAI,
        "gen_ai.response.finish_reasons": ("stop",),
        "gen_ai.response.time_to_first_chunk": ttft,
        "gen_ai.usage.input_tokens": 11,
        "gen_ai.usage.output_tokens": 7,
        "llm_dispatch.usage.estimated": False,
        "llm_dispatch.provider": "openai",
        "llm_dispatch.request_id": stream.request_id,
        "llm_dispatch.task_type": "text_generation",
        "llm_dispatch.route": "default",
        "llm_dispatch.outcome": "ok",
        "llm_dispatch.attempts": 1,
        "llm_dispatch.retries": 0,
        "llm_dispatch.fallbacks": 0,
        "llm_dispatch.interruptions": 0,
        "llm_dispatch.cache.hit": False,
        "llm_dispatch.cost_usd": COST,
    }
    assert 0 < ttft < span_seconds(span)
    try_ttft = tried.attributes["gen_ai.response.time_to_first_chunk"]
    assert dict(tried.attributes) == {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": OPENAI,
        "gen_ai.request.stream": True,
        "gen_ai.response.model": OPENAI,
        "gen_ai.response.finish_reasons": ("stop",),
        "gen_ai.response.time_to_first_chunk": try_ttft,
        "gen_ai.usage.input_tokens": 11,
        "gen_ai.usage.output_tokens": 7,
        "llm_dispatch.usage.estimated": False,
        "llm_dispatch.provider": "openai",
        "llm_dispatch.attempt": 1,
        "llm_dispatch.cache.hit": False,
        "llm_dispatch.cost_usd": COST,
    }
    assert 0 < try_ttft <= ttft
    assert span.start_time <= tried.start_time and tried.end_time <= span.end_time
    assert span.status.status_code is tried.status.status_code is StatusCode.UNSET

    tokens = {a["gen_ai.token.type"]: (p.count, p.sum) for a, p in telemetry.points(TOKENS)}
    assert tokens == {"input": (1, 11), "output": (1, 7)}
    [(attributes, duration)] = telemetry.points(DURATION)
    assert attributes == {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": OPENAI,
        "gen_ai.response.model": OPENAI,
        "llm_dispatch.provider": "openai",
    }
    assert duration.count == 1 and 0 < duration.sum <= span_seconds(span)
    [(ttft_attributes, first)] = telemetry.points(TTFT)
    assert ttft_attributes == attributes and first.count == 1 and first.sum == ttft

    target = {"provider": "openai", "model": OPENAI}
    assert (
        telemetry.sample("llm_dispatch_requests_total", **target, outcome="ok", error_type="") == 1
    )
    assert telemetry.sample("llm_dispatch_attempts_total", **target, outcome="ok") == 1
    assert telemetry.sample("llm_dispatch_tokens_total", **target, type="input") == 11
    assert telemetry.sample("llm_dispatch_tokens_total", **target, type="output") == 7
    assert telemetry.sample("llm_dispatch_cost_usd_total", **target) == COST
    assert (
        telemetry.sample("llm_dispatch_request_duration_seconds_count", **target, outcome="ok") == 1
    )
    assert telemetry.sample("llm_dispatch_time_to_first_token_seconds_sum", **target) == ttft
    for counter in ("retries", "fallbacks", "interruptions", "cache_hits"):
        assert f"llm_dispatch_{counter}_total{{" not in telemetry.exposition()


#: 11 input and 7 output tokens at 0.15 and 0.60 USD per million.
COST = (11 * 0.15 + 7 * 0.60) / 1e6
TOKENS = "gen_ai.client.token.usage"
DURATION = "gen_ai.client.operation.duration"
TTFT = "gen_ai.client.operation.time_to_first_chunk"


def span_seconds(span: Any) -> float:
    return float(span.end_time - span.start_time) / 1e9


async def test_a_retry_then_success(
    telemetry: Telemetry,  # noqa: F811
    fake_server: FakeProviderServer,
    make_dispatcher: Any,
) -> None:
    fake_server.enqueue(Script(status=503), Script(chunks=CHUNKS, usage=(5, 3)), provider="openai")
    await answer_with(make_dispatcher(), providers=["openai"])("Count").collect()

    span, [failed, ok] = telemetry.stream()
    assert failed.parent == ok.parent == span.context
    assert failed.end_time <= ok.start_time
    assert failed.attributes["llm_dispatch.attempt"] == 1
    assert failed.attributes["error.type"] == "overloaded"
    assert failed.status.status_code is StatusCode.ERROR
    # A 503 before any text is not charged: the try has no token counts.
    assert "gen_ai.usage.input_tokens" not in failed.attributes
    assert "gen_ai.response.model" not in failed.attributes
    assert ok.attributes["llm_dispatch.attempt"] == 2
    assert (
        ok.attributes["gen_ai.usage.input_tokens"],
        ok.attributes["gen_ai.usage.output_tokens"],
    ) == (5, 3)
    assert "error.type" not in ok.attributes and "error.type" not in span.attributes
    assert span.attributes["llm_dispatch.attempts"] == 2
    assert span.attributes["llm_dispatch.retries"] == 1
    assert span.attributes["llm_dispatch.fallbacks"] == 0
    assert span.status.status_code is StatusCode.UNSET

    tokens = {a["gen_ai.token.type"]: (p.count, p.sum) for a, p in telemetry.points(TOKENS)}
    assert tokens == {"input": (1, 5), "output": (1, 3)}
    target = {"provider": "openai", "model": OPENAI}
    assert telemetry.sample("llm_dispatch_retries_total", **target, error_type="overloaded") == 1
    assert telemetry.sample("llm_dispatch_attempts_total", **target, outcome="overloaded") == 1
    assert telemetry.sample("llm_dispatch_attempts_total", **target, outcome="ok") == 1
    assert (
        telemetry.sample("llm_dispatch_requests_total", **target, outcome="ok", error_type="") == 1
    )


async def test_a_retry_the_total_deadline_cut_short_is_not_counted(
    telemetry: Telemetry,  # noqa: F811
    fake_server: FakeProviderServer,
    make_dispatcher: Any,
) -> None:
    # The wait the 429 asks for is longer than what is left of the total: the retry is
    # announced but never sent.
    fake_server.enqueue(Script(status=429, retry_after=5), provider="openai")
    dispatcher = make_dispatcher(defaults={"timeouts": {"total": 0.3}})
    with pytest.raises(StreamTimeout):
        await answer_with(dispatcher, providers=["openai"])("Count").collect()

    span, [tried] = telemetry.stream()
    assert tried.attributes["error.type"] == "rate_limit"
    assert span.attributes["error.type"] == "timeout"
    assert span.attributes["llm_dispatch.retries"] == 0
    assert span.attributes["llm_dispatch.attempts"] == 1
    assert "llm_dispatch_retries_total{" not in telemetry.exposition()
    assert len(fake_server.requests) == 1


async def test_a_fallback(
    telemetry: Telemetry,  # noqa: F811
    fake_server: FakeProviderServer,
    make_dispatcher: Any,
) -> None:
    fake_server.enqueue(Script(status=401), provider="openai")
    fake_server.enqueue(Script(chunks=CHUNKS, usage=(8, 4)), provider="anthropic")
    stream = answer_with(make_dispatcher(), providers=["openai", "anthropic"])("Count")
    await stream.collect()
    assert stream.provider == "anthropic"

    span, [refused, answered] = telemetry.stream()
    assert span.name == answered.name == f"chat {ANTHROPIC}"
    assert refused.name == f"chat {OPENAI}"
    assert refused.attributes["gen_ai.provider.name"] == "openai"
    assert refused.attributes["error.type"] == "auth"
    assert answered.attributes["gen_ai.provider.name"] == "anthropic"
    assert answered.attributes["gen_ai.usage.input_tokens"] == 8
    assert answered.attributes["gen_ai.usage.output_tokens"] == 4
    assert answered.attributes["gen_ai.response.finish_reasons"] == ("stop",)
    assert {k: span.attributes[k] for k in SERVED} == {
        "gen_ai.provider.name": "anthropic",
        "gen_ai.request.model": ANTHROPIC,
        "gen_ai.response.model": ANTHROPIC,
        "llm_dispatch.provider": "anthropic",
        "llm_dispatch.fallbacks": 1,
        "llm_dispatch.retries": 0,
        "llm_dispatch.attempts": 2,
    }
    assert (
        telemetry.sample(
            "llm_dispatch_fallbacks_total",
            provider="openai",
            model=OPENAI,
            to_provider="anthropic",
            to_model=ANTHROPIC,
            error_type="auth",
        )
        == 1
    )
    assert (
        telemetry.sample(
            "llm_dispatch_requests_total",
            provider="anthropic",
            model=ANTHROPIC,
            outcome="ok",
            error_type="",
        )
        == 1
    )
    assert (
        telemetry.sample(
            "llm_dispatch_attempts_total", provider="openai", model=OPENAI, outcome="auth"
        )
        == 1
    )
    [(attributes, _)] = telemetry.points(DURATION)
    assert attributes["gen_ai.provider.name"] == "anthropic"


SERVED = (
    "gen_ai.provider.name",
    "gen_ai.request.model",
    "gen_ai.response.model",
    "llm_dispatch.provider",
    "llm_dispatch.fallbacks",
    "llm_dispatch.retries",
    "llm_dispatch.attempts",
)


async def test_an_interruption_mid_stream(
    telemetry: Telemetry,  # noqa: F811
    fake_server: FakeProviderServer,
    make_dispatcher: Any,
) -> None:
    fake_server.enqueue(Script(chunks=CHUNKS, drop_after=2), provider="openai")
    stream = answer_with(make_dispatcher(), providers=["openai"])("Count")
    with pytest.raises(StreamInterrupted) as raised:
        async for _ in stream:
            pass
    assert raised.value.partial_text == "one two "

    span, [tried] = telemetry.stream()
    [record] = stream.ledger.entries
    assert tried.attributes["error.type"] == span.attributes["error.type"] == "connection"
    assert tried.status.status_code is span.status.status_code is StatusCode.ERROR
    # The try delivered text: it is charged, at the ledger's estimate.
    assert tried.attributes["gen_ai.usage.input_tokens"] == record.usage.prompt_tokens > 0
    assert tried.attributes["gen_ai.usage.output_tokens"] == record.usage.completion_tokens > 0
    assert tried.attributes["llm_dispatch.usage.estimated"] is True
    assert tried.attributes["gen_ai.response.model"] == OPENAI
    assert "gen_ai.response.finish_reasons" not in tried.attributes
    assert span.attributes["llm_dispatch.outcome"] == "error"
    assert span.attributes["llm_dispatch.interruptions"] == 1
    assert "gen_ai.response.finish_reasons" not in span.attributes

    target = {"provider": "openai", "model": OPENAI}
    assert (
        telemetry.sample(
            "llm_dispatch_interruptions_total", **target, error_type="connection", continued="false"
        )
        == 1
    )
    assert (
        telemetry.sample(
            "llm_dispatch_requests_total", **target, outcome="error", error_type="connection"
        )
        == 1
    )
    assert telemetry.sample("llm_dispatch_tokens_total", **target, type="output") == (
        record.usage.completion_tokens
    )
    [(attributes, _)] = telemetry.points(DURATION)
    assert attributes["error.type"] == "connection"


async def test_a_cache_hit(
    telemetry: Telemetry,  # noqa: F811
    fake_server: FakeProviderServer,
    make_dispatcher: Any,
) -> None:
    fake_server.enqueue(Script(chunks=CHUNKS, usage=(9, 5)), provider="openai")
    answer = answer_with(make_dispatcher(), providers=["openai"], cache=StreamingCache())
    live = (await answer("Count to four").collect()).get_text()
    replayed = (await answer("Count to four").collect()).get_text()
    assert live == replayed and len(fake_server.requests) == 1

    first, second = telemetry.streams()
    assert first.attributes["llm_dispatch.cache.hit"] is False
    [tried] = telemetry.tries(second)
    assert {k: second.attributes[k] for k in HIT} == {
        "llm_dispatch.cache.hit": True,
        "llm_dispatch.cache.match": "exact",
        "llm_dispatch.cache.similarity": 1.0,
        "llm_dispatch.route": "cache",
        "gen_ai.response.model": OPENAI,
        "gen_ai.usage.input_tokens": 9,
        "gen_ai.usage.output_tokens": 5,
        "llm_dispatch.cost_usd": 0.0,
    }
    assert tried.attributes["llm_dispatch.cache.hit"] is True
    assert tried.attributes["gen_ai.provider.name"] == "openai"

    # The replay spent no tokens: only the live stream's are counted.
    tokens = {a["gen_ai.token.type"]: (p.count, p.sum) for a, p in telemetry.points(TOKENS)}
    assert tokens == {"input": (1, 9), "output": (1, 5)}
    target = {"provider": "openai", "model": OPENAI}
    assert telemetry.sample("llm_dispatch_cache_hits_total", **target, match="exact") == 1
    assert telemetry.sample("llm_dispatch_tokens_total", **target, type="input") == 9
    assert (
        telemetry.sample("llm_dispatch_requests_total", **target, outcome="ok", error_type="") == 2
    )
    [(_, duration)] = telemetry.points(DURATION)
    assert duration.count == 2


HIT = (
    "llm_dispatch.cache.hit",
    "llm_dispatch.cache.match",
    "llm_dispatch.cache.similarity",
    "llm_dispatch.route",
    "gen_ai.response.model",
    "gen_ai.usage.input_tokens",
    "gen_ai.usage.output_tokens",
    "llm_dispatch.cost_usd",
)


async def test_an_error(
    telemetry: Telemetry,  # noqa: F811
    fake_server: FakeProviderServer,
    make_dispatcher: Any,
) -> None:
    fake_server.enqueue(Script(status=400), provider="openai")
    with pytest.raises(BadRequestError):
        await answer_with(make_dispatcher(), providers=["openai"])("Count").collect()

    span, [tried] = telemetry.stream()
    assert tried.attributes["error.type"] == span.attributes["error.type"] == "bad_request"
    assert span.status.status_code is tried.status.status_code is StatusCode.ERROR
    assert span.status.description == "bad_request"
    assert span.attributes["llm_dispatch.outcome"] == "error"
    assert "gen_ai.response.model" not in span.attributes
    assert "gen_ai.response.time_to_first_chunk" not in span.attributes
    assert telemetry.points(TTFT) == [] and telemetry.points(TOKENS) == []
    [(attributes, _)] = telemetry.points(DURATION)
    assert attributes == {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": OPENAI,
        "llm_dispatch.provider": "openai",
        "error.type": "bad_request",
    }
    target = {"provider": "openai", "model": OPENAI}
    assert (
        telemetry.sample(
            "llm_dispatch_requests_total", **target, outcome="error", error_type="bad_request"
        )
        == 1
    )
    assert telemetry.sample("llm_dispatch_attempts_total", **target, outcome="bad_request") == 1
