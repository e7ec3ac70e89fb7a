"""``fallback_on``: falling back after a context-length error or a refusal, end to end over
real HTTP against the fake provider server."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import TEST_KEYS

from llm_dispatch import AllProvidersFailed, llm_stream
from llm_dispatch.errors import ContentFilterError, ContextLengthError
from llm_dispatch.testing import FakeProviderServer, Script

TOO_LONG = "This model's maximum context length is 128000 tokens. However, you sent 150000."

# Context windows: anthropic/claude-haiku-4-5 200k, openai/gpt-4o-mini and gpt-4o 128k,
# google/gemini-2.5-flash 1M, compat/local-model unknown.
ROUTE = ["anthropic", "openai", "openai/gpt-4o", "compat/local-model", "google"]


def compat(server: FakeProviderServer) -> dict[str, Any]:
    """An OpenAI-compatible server whose model no built-in family knows."""
    return {
        "compat": {
            "kind": "openai",
            "api_key": TEST_KEYS["openai"],
            "base_url": server.base_url_for("openai"),
            "default_model": "local-model",
        }
    }


def answerer(dispatcher: Any, **options: Any) -> Any:
    @llm_stream(dispatcher=dispatcher, max_retries=0, **options)
    async def answer(prompt: str) -> Any:
        yield "unused"

    return answer


def too_long(**where: Any) -> Script:
    return Script(status=400, error_message=TOO_LONG, **where)


def outcomes(stream_or_error: Any) -> list[tuple[str, str, int, str | None]]:
    return [(a.provider, a.model, a.attempt, a.kind) for a in stream_or_error.attempts]


async def test_without_fallback_on_a_context_length_error_stops_the_chain(
    fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    answer = answerer(make_dispatcher(), providers=["openai", "anthropic"])
    fake_server.enqueue(too_long(), provider="openai")
    with pytest.raises(ContextLengthError):
        await answer("a very long prompt").collect()
    assert [r.provider for r in fake_server.requests] == ["openai"]


async def test_context_length_falls_back_to_larger_and_unknown_windows_only(
    fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    dispatcher = make_dispatcher(
        providers=compat(fake_server),
        routes={"default": ROUTE},
        defaults={"fallback_on": ["context_length"]},
    )
    fake_server.enqueue(too_long(), provider="anthropic")
    fake_server.enqueue(too_long(model="local-model"), provider="openai")
    fake_server.enqueue(Script(chunks=["fits"]), provider="google")

    stream = await answerer(dispatcher)("a very long prompt").collect()

    assert stream.get_text() == "fits"
    assert [(r.provider, r.model) for r in fake_server.requests] == [
        ("anthropic", "claude-haiku-4-5"),
        ("openai", "local-model"),
        ("google", "gemini-2.5-flash"),
    ]
    assert outcomes(stream) == [
        ("anthropic", "claude-haiku-4-5", 1, "context_length"),
        ("openai", "gpt-4o-mini", 0, "skipped"),
        ("openai", "gpt-4o", 0, "skipped"),
        ("compat", "local-model", 1, "context_length"),
        ("google", "gemini-2.5-flash", 1, None),
    ]
    skipped = stream.attempts[1]
    assert skipped.message == (
        "context window of 128,000 tokens is not larger than that of "
        "anthropic/claude-haiku-4-5 (200,000 tokens), which the request did not fit"
    )
    assert not skipped.charged


async def test_when_no_larger_window_is_left_every_skip_is_listed(
    fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    dispatcher = make_dispatcher(
        routes={"default": ["google", "anthropic", "openai"]},
        defaults={"fallback_on": ["context_length"]},
    )
    fake_server.enqueue(too_long(), provider="google")

    with pytest.raises(AllProvidersFailed) as info:
        await answerer(dispatcher)("a very long prompt").collect()

    assert [r.provider for r in fake_server.requests] == ["google"]
    assert outcomes(info.value) == [
        ("google", "gemini-2.5-flash", 1, "context_length"),
        ("anthropic", "claude-haiku-4-5", 0, "skipped"),
        ("openai", "gpt-4o-mini", 0, "skipped"),
    ]
    assert info.value.kind == "context_length"
    assert "anthropic/claude-haiku-4-5" in str(info.value)


async def test_after_a_refusal_the_next_target_is_tried_only_with_fallback_on(
    fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    dispatcher = make_dispatcher()
    refusal = Script(chunks=[], finish_reason="content_filter")

    fake_server.enqueue(refusal, provider="openai")
    with pytest.raises(ContentFilterError):
        await answerer(dispatcher, providers=["openai", "anthropic"])("hi").collect()
    assert [r.provider for r in fake_server.requests] == ["openai"]

    fake_server.reset()
    fake_server.enqueue(Script(chunks=[], finish_reason="content_filter"), provider="openai")
    fake_server.enqueue(Script(chunks=["answered"]), provider="google")
    # a per-function policy override; a refusal does not narrow the windows tried
    answer = answerer(
        dispatcher, providers=["openai", "google"], policy={"fallback_on": ["content_filter"]}
    )
    stream = await answer("hi").collect()
    assert stream.get_text() == "answered"
    assert [a.kind for a in stream.attempts] == ["content_filter", None]


async def test_content_filter_in_fallback_on_does_not_let_context_length_through(
    fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    dispatcher = make_dispatcher(defaults={"fallback_on": ["content_filter"]})
    fake_server.enqueue(too_long(), provider="openai")
    with pytest.raises(ContextLengthError):
        await answerer(dispatcher, providers=["openai", "google"])("hi").collect()
    assert [r.provider for r in fake_server.requests] == ["openai"]


async def test_fallback_off_wins_over_fallback_on(
    fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    dispatcher = make_dispatcher(defaults={"fallback": False, "fallback_on": ["context_length"]})
    fake_server.enqueue(too_long(), provider="anthropic")
    with pytest.raises(ContextLengthError):
        await answerer(dispatcher, providers=["anthropic", "google"])("hi").collect()
    assert [r.provider for r in fake_server.requests] == ["anthropic"]
