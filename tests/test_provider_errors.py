"""Every failure of every SDK provider becomes the right ProviderError, over real HTTP.

Parametrised over the three providers; each test drives the real SDK against the fake
server with one scripted fault.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from email.utils import formatdate

import pytest

from llm_dispatch.errors import (
    AuthenticationError,
    BadRequestError,
    ContextLengthError,
    ErrorKind,
    IncompleteStreamError,
    MalformedEventError,
    NotFoundError,
    OverloadedError,
    ProviderConnectionError,
    ProviderTimeoutError,
    RateLimitError,
    ServerError,
)
from llm_dispatch.providers.classify import retry_after_from_headers
from llm_dispatch.testing import Script

# Every test here that builds a provider of a kind with a fast parser runs under each of
# its stream parsers.
pytestmark = [pytest.mark.usefixtures("clean_provider_env"), pytest.mark.stream_parsers]

MODEL = "test-model"
TEN_CHUNKS = [f"c{i} " for i in range(10)]

# What each provider says when the prompt does not fit (as their APIs word it).
CONTEXT_LENGTH_MESSAGES = {
    "openai": "This model's maximum context length is 8192 tokens. However, your messages "
    "resulted in 9000 tokens.",
    "anthropic": "prompt is too long: 210000 tokens > 200000 maximum",
    "google": "The input token count (1200000) exceeds the maximum number of tokens allowed "
    "(1048576).",
}


# -- HTTP status errors ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "error_class", "retryable"),
    [
        (429, RateLimitError, True),
        (500, ServerError, True),
        (502, ServerError, True),
        (503, OverloadedError, True),
        (529, OverloadedError, True),
        (504, ProviderTimeoutError, True),
        (401, AuthenticationError, False),
        (403, AuthenticationError, False),
        (400, BadRequestError, False),
        (404, NotFoundError, False),
    ],
)
async def test_http_status_maps_to_kind(
    fake_server, sdk_provider, collect, say_hi, kind, status, error_class, retryable
) -> None:
    fake_server.enqueue(Script(status=status, error_message="scripted failure"))

    outcome = await collect(sdk_provider(kind), say_hi, MODEL)

    error = outcome.error
    assert type(error) is error_class
    assert error.is_retryable is retryable
    assert error.status_code == status
    assert error.provider == kind
    assert error.model == MODEL
    assert error.retry_after is None
    assert "scripted failure" in error.message
    assert outcome.events == []
    assert len(fake_server.requests) == 1, "the SDK must not retry on its own"


async def test_rate_limit_carries_retry_after(
    fake_server, sdk_provider, collect, say_hi, kind
) -> None:
    fake_server.enqueue(Script(status=429, retry_after=2.5))

    error = (await collect(sdk_provider(kind), say_hi, MODEL)).error

    assert isinstance(error, RateLimitError)
    assert error.retry_after == 2.5


async def test_context_length_400_is_its_own_kind(
    fake_server, sdk_provider, collect, say_hi, kind
) -> None:
    fake_server.enqueue(Script(status=400, error_message=CONTEXT_LENGTH_MESSAGES[kind]))

    error = (await collect(sdk_provider(kind), say_hi, MODEL)).error

    assert isinstance(error, ContextLengthError)
    assert error.kind is ErrorKind.CONTEXT_LENGTH
    assert error.status_code == 400
    assert not error.is_retryable


async def test_api_key_in_an_error_message_is_redacted(
    fake_server, sdk_provider, collect, say_hi, provider_keys, kind
) -> None:
    key = provider_keys[kind]
    fake_server.enqueue(Script(status=401, error_message=f"Incorrect API key provided: {key}"))

    error = (await collect(sdk_provider(kind), say_hi, MODEL)).error

    assert isinstance(error, AuthenticationError)
    for rendering in (error.message, str(error), repr(error)):
        assert key not in rendering


async def test_missing_credentials_are_an_auth_error(sdk_provider, collect, say_hi, kind) -> None:
    # No key anywhere: each SDK refuses before sending anything.
    provider = sdk_provider(kind, api_key=None, base_url=None)

    outcome = await collect(provider, say_hi, MODEL)

    assert isinstance(outcome.error, AuthenticationError)
    assert not outcome.error.is_retryable
    assert outcome.events == []


# -- failures in the middle of the body -------------------------------------------------------


async def test_dropped_connection_after_text(
    fake_server, sdk_provider, collect, say_hi, kind
) -> None:
    fake_server.enqueue(Script(chunks=TEN_CHUNKS, drop_after=3))

    outcome = await collect(sdk_provider(kind), say_hi, MODEL)

    assert isinstance(outcome.error, ProviderConnectionError)
    assert outcome.error.is_retryable
    assert outcome.texts == TEN_CHUNKS[:3]


async def test_body_cut_without_closing_event_is_incomplete(
    fake_server, sdk_provider, collect, say_hi, kind
) -> None:
    chunks = [f"w{i} " for i in range(20)]
    fake_server.enqueue(Script(chunks=chunks, cut_after=10))

    outcome = await collect(sdk_provider(kind), say_hi, MODEL)

    assert isinstance(outcome.error, IncompleteStreamError)
    assert outcome.error.kind is ErrorKind.INCOMPLETE
    assert outcome.error.is_retryable
    assert outcome.texts == chunks[:10]
    assert all(e.finish_reason is None for e in outcome.events)


@pytest.mark.parametrize("after", [0, 3], ids=["before-text", "after-text"])
@pytest.mark.parametrize(
    ("error_kind", "expected"),
    [
        ("overloaded", ErrorKind.OVERLOADED),
        ("server", ErrorKind.SERVER),
        ("rate_limit", ErrorKind.RATE_LIMIT),
        ("bad_request", ErrorKind.BAD_REQUEST),
    ],
)
async def test_in_stream_error_event_maps_by_its_type(
    fake_server, sdk_provider, collect, say_hi, kind, error_kind, expected, after
) -> None:
    fake_server.enqueue(Script(chunks=TEN_CHUNKS, error_event_after=after, error_kind=error_kind))

    outcome = await collect(sdk_provider(kind), say_hi, MODEL)

    assert outcome.error is not None
    assert outcome.error.kind is expected
    assert outcome.error.message == "scripted failure"
    assert outcome.texts == TEN_CHUNKS[:after]


async def test_malformed_event(fake_server, sdk_provider, collect, say_hi, kind) -> None:
    fake_server.enqueue(Script(chunks=TEN_CHUNKS, malformed_after=2))

    outcome = await collect(sdk_provider(kind), say_hi, MODEL)

    assert isinstance(outcome.error, MalformedEventError)
    assert outcome.error.is_retryable
    assert outcome.texts == TEN_CHUNKS[:2]


def base_url_on(kind: str, port: int) -> str:
    return f"http://127.0.0.1:{port}" + ("/v1" if kind == "openai" else "")


@pytest.fixture
def unresponsive_port() -> Iterator[int]:
    """A port on 127.0.0.1 that never completes a handshake: its listener's accept queue is
    full, so the kernel drops further connection attempts."""
    with contextlib.ExitStack() as stack:
        listener = stack.enter_context(socket.socket())
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        address = listener.getsockname()
        for _ in range(3):
            filler = stack.enter_context(socket.socket())
            filler.setblocking(False)
            filler.connect_ex(address)
        yield address[1]


async def test_refused_connection_fails_at_once(sdk_provider, collect, say_hi, kind) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    provider = sdk_provider(kind, base_url=base_url_on(kind, closed_port))
    await provider.prepare()  # the SDK's import and client are not what is timed
    started = time.monotonic()

    outcome = await collect(provider, say_hi, MODEL)

    assert isinstance(outcome.error, ProviderConnectionError)
    assert time.monotonic() - started < 0.9, "no hidden SDK retry or reconnect sleep"


async def test_connect_timeout_comes_from_settings(
    sdk_provider, collect, say_hi, kind, unresponsive_port
) -> None:
    provider = sdk_provider(
        kind, base_url=base_url_on(kind, unresponsive_port), connect_timeout=0.2
    )

    outcome = await asyncio.wait_for(collect(provider, say_hi, MODEL), timeout=5)

    assert isinstance(outcome.error, ProviderTimeoutError)
    assert outcome.error.is_retryable


# -- closing early ---------------------------------------------------------------------------


async def test_closing_early_drops_the_connection(fake_server, sdk_provider, say_hi, kind) -> None:
    fake_server.enqueue(Script(chunks=[f"w{i} " for i in range(50)], chunk_delay=0.02))
    received: list[str] = []

    async with contextlib.aclosing(sdk_provider(kind).stream(say_hi, MODEL)) as stream:
        async for event in stream:
            received.append(event.text)
            if len(received) == 3:
                break

    recorded = fake_server.requests[0]
    await recorded.wait_done(timeout=0.5)
    assert recorded.disconnected is True
    assert recorded.chunks_sent < 10


async def test_cancelling_the_consumer_drops_the_connection(
    fake_server, sdk_provider, say_hi, kind
) -> None:
    fake_server.enqueue(Script(chunks=[f"w{i} " for i in range(50)], chunk_delay=0.02))
    three_received = asyncio.Event()

    async def consume() -> None:
        count = 0
        async for _ in sdk_provider(kind).stream(say_hi, MODEL):
            count += 1
            if count == 3:
                three_received.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(three_received.wait(), timeout=2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    recorded = fake_server.requests[0]
    await recorded.wait_done(timeout=0.5)
    assert recorded.disconnected is True


# -- building blocks -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Retry-After": "3"}, 3.0),
        ({"retry-after": "0.5"}, 0.5),
        ({"retry-after-ms": "1500", "Retry-After": "9"}, 1.5),
        ({"Retry-After": "soon"}, None),
        ({"Retry-After": "-1"}, None),
        ({}, None),
        (None, None),
    ],
)
def test_retry_after_header_forms(headers, expected) -> None:
    assert retry_after_from_headers(headers) == expected


def test_retry_after_http_date() -> None:
    seconds = retry_after_from_headers({"Retry-After": formatdate(time.time() + 30, usegmt=True)})

    assert seconds is not None
    assert 25 <= seconds <= 31


async def test_gemini_retry_info_gives_retry_after(sdk_provider) -> None:
    from google.genai import errors as genai_errors

    body = {
        "error": {
            "code": 429,
            "message": "Resource has been exhausted",
            "status": "RESOURCE_EXHAUSTED",
            "details": [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "13s"}],
        }
    }
    error = sdk_provider("google").map_error(genai_errors.ClientError(429, body), MODEL)

    assert isinstance(error, RateLimitError)
    assert error.retry_after == 13.0


def test_importing_the_providers_imports_no_sdk() -> None:
    code = (
        "import sys, llm_dispatch, llm_dispatch.providers, llm_dispatch.providers.openai, "
        "llm_dispatch.providers.anthropic, llm_dispatch.providers.google\n"
        "loaded = sorted(m for m in ('openai', 'anthropic', 'google.genai') if m in sys.modules)\n"
        "print(','.join(loaded))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=30, check=True
    )

    assert result.stdout.strip() == ""
