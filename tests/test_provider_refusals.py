"""Refusals: a stream the provider ends with a content-filter finish reason is an error.

With no text it is a ``ContentFilterError`` before anything reached the consumer; after a
partial answer it comes after that text, so the dispatcher treats it as a failure mid-stream.
Over real HTTP, through each official SDK and through a dispatcher.
"""

from __future__ import annotations

from typing import Any

import pytest

from llm_dispatch import StreamInterrupted, llm_stream
from llm_dispatch.cache import StreamingCache
from llm_dispatch.errors import ContentFilterError, ErrorKind
from llm_dispatch.testing import FakeProviderServer, Script

# Every test here that builds a provider of a kind with a fast parser runs under each of
# its stream parsers.
pytestmark = [pytest.mark.usefixtures("clean_provider_env"), pytest.mark.stream_parsers]

PARTIAL = ["Sure, ", "here is ", "how"]

# (provider, Script fields, the finish reason as the provider sends it)
REFUSALS: list[tuple[str, dict[str, Any], str]] = [
    ("anthropic", {"finish_reason": "content_filter"}, "refusal"),
    # As recorded from the API: no usage in message_start, no null fields.
    (
        "anthropic",
        {"finish_reason": "content_filter", "shape": ("no_start_usage", "sparse")},
        "refusal",
    ),
    ("openai", {"finish_reason": "content_filter"}, "content_filter"),
    ("openai", {"finish_reason": "content_filter", "shape": ("sparse",)}, "content_filter"),
    ("google", {"finish_reason": "content_filter"}, "SAFETY"),
    ("google", {"native_finish_reason": "PROHIBITED_CONTENT"}, "PROHIBITED_CONTENT"),
    ("google", {"native_finish_reason": "RECITATION", "send_usage": False}, "RECITATION"),
]
REFUSAL_IDS = [f"{kind}-{native}-{i}" for i, (kind, _, native) in enumerate(REFUSALS)]


@pytest.mark.parametrize(("kind", "fields", "native"), REFUSALS, ids=REFUSAL_IDS)
async def test_refusal_without_text_is_a_content_filter_error(
    fake_server, sdk_provider, collect, say_hi, kind, fields, native
) -> None:
    fake_server.enqueue(Script(chunks=[], **fields))

    outcome = await collect(sdk_provider(kind), say_hi, "test-model")

    error = outcome.error
    assert isinstance(error, ContentFilterError)
    assert error.kind is ErrorKind.CONTENT_FILTER
    assert not error.is_retryable and not error.allows_fallback
    assert (error.provider, error.model) == (kind, "test-model")
    assert f"finish reason {native!r} after 0 characters" in error.message
    assert outcome.events == []


@pytest.mark.parametrize(("kind", "fields", "native"), REFUSALS, ids=REFUSAL_IDS)
async def test_refusal_after_partial_text_comes_after_the_text(
    fake_server, sdk_provider, collect, say_hi, kind, fields, native
) -> None:
    fake_server.enqueue(Script(chunks=PARTIAL, **fields))

    outcome = await collect(sdk_provider(kind), say_hi, "test-model")

    assert isinstance(outcome.error, ContentFilterError)
    assert outcome.texts == PARTIAL
    assert all(e.finish_reason is None and e.usage is None for e in outcome.events)
    delivered = len("".join(PARTIAL))
    assert f"finish reason {native!r} after {delivered} characters" in outcome.error.message


async def test_anthropic_refusal_names_its_category_and_explanation(
    fake_server, sdk_provider, collect, say_hi
) -> None:
    fake_server.enqueue(
        Script(chunks=[], finish_reason="content_filter", error_message="declined by policy")
    )

    error = (await collect(sdk_provider("anthropic"), say_hi, "test-model")).error

    assert isinstance(error, ContentFilterError)
    assert error.message.endswith("(general_harms: declined by policy)")


async def test_gemini_safety_refusal_names_the_blocked_category(
    fake_server, sdk_provider, collect, say_hi
) -> None:
    fake_server.enqueue(Script(chunks=PARTIAL, finish_reason="content_filter"))

    error = (await collect(sdk_provider("google"), say_hi, "test-model")).error

    assert isinstance(error, ContentFilterError)
    assert error.message.endswith("(blocked for HARM_CATEGORY_DANGEROUS_CONTENT)")


# -- through the dispatcher -----------------------------------------------------------------

FALLBACK = {"openai": "anthropic", "anthropic": "google", "google": "openai"}


def answer_with(dispatcher: Any, **options: Any) -> Any:
    @llm_stream(dispatcher=dispatcher, **options)
    async def answer(prompt: str) -> Any:
        yield "unused"

    return answer


async def test_dispatcher_raises_a_refusal_without_retry_or_fallback(
    kind: str, fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    answer = answer_with(make_dispatcher(), providers=[kind, FALLBACK[kind]], max_retries=3)
    fake_server.enqueue(Script(chunks=[], finish_reason="content_filter"), provider=kind)

    stream = answer("hi")
    with pytest.raises(ContentFilterError) as info:
        await stream.collect()

    assert info.value.provider == kind and info.value.attempt == 1
    assert [(a.provider, a.attempt, a.kind) for a in stream.attempts] == [
        (kind, 1, "content_filter")
    ]
    assert [r.provider for r in fake_server.requests] == [kind]


async def test_dispatcher_interrupts_a_partial_answer_that_is_refused(
    kind: str, fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    answer = answer_with(make_dispatcher(), providers=[kind, FALLBACK[kind]])
    fake_server.enqueue(Script(chunks=PARTIAL, finish_reason="content_filter"), provider=kind)

    received: list[str] = []
    with pytest.raises(StreamInterrupted) as info:
        async for chunk in answer("hi"):
            received.append(chunk)

    assert received == PARTIAL
    assert info.value.partial_text == "".join(PARTIAL)
    cause = info.value.cause
    assert isinstance(cause, ContentFilterError) and cause.kind is ErrorKind.CONTENT_FILTER
    assert [(a.provider, a.kind, a.chars) for a in info.value.attempts] == [
        (kind, "content_filter", len("".join(PARTIAL)))
    ]
    assert len(fake_server.requests) == 1


@pytest.mark.parametrize("chunks", [[], PARTIAL], ids=["no-text", "partial"])
async def test_a_refused_stream_is_never_cached(
    chunks: list[str], fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    cache = StreamingCache()
    answer = answer_with(make_dispatcher(), providers=["anthropic"], cache=cache)
    fake_server.enqueue(Script(chunks=chunks, finish_reason="content_filter"))
    fake_server.enqueue(Script(chunks=["A ", "real ", "answer."]))

    with pytest.raises((ContentFilterError, StreamInterrupted)):
        await answer("Tell me something").collect()
    text = "".join([c async for c in answer("Tell me something")])

    assert text == "A real answer."
    assert len(fake_server.requests) == 2
    await cache.flush()
    assert cache.stats().stores == 1
