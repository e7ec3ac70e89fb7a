"""The except clauses of seed 004's error-handling samples catch what the library raises:
``llm_dispatch.exceptions.StreamingError`` / ``ProviderError`` and ``asyncio.TimeoutError``,
over real HTTP against the fake server."""

from __future__ import annotations

import asyncio
from typing import Any

from llm_dispatch import AllProvidersFailed, StreamTimeout, TaskType, errors, llm_stream
from llm_dispatch.exceptions import ProviderError, StreamingError
from llm_dispatch.testing import FakeProviderServer, Script


def test_the_exceptions_module_is_the_errors_module() -> None:
    assert StreamingError is errors.StreamingError
    assert ProviderError is errors.ProviderError


async def test_robust_sample_catches_every_provider_failing(
    fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    fake_server.enqueue(Script(status=500), times=20)

    @llm_stream(
        task_type=TaskType.TEXT_GENERATION,
        fallback_enabled=True,
        max_retries=3,
        dispatcher=make_dispatcher(routes={"default": {"targets": ["openai", "anthropic"]}}),
    )
    async def robust_stream(prompt: str) -> Any:
        yield "unused"

    caught: list[str] = []
    async with asyncio.timeout(20):
        try:
            async for _ in robust_stream("Write a story"):
                pass
        except StreamingError as e:
            caught.append(f"Streaming error: {type(e).__name__}")
        except ProviderError as e:
            caught.append(f"Provider error: {e}")
    assert caught == ["Streaming error: AllProvidersFailed"]
    # Both providers were tried, each 1 + 3 times.
    assert len(fake_server.requests_for("openai")) == 4
    assert len(fake_server.requests_for("anthropic")) == 4
    assert issubclass(AllProvidersFailed, ProviderError)


async def test_timeout_sample_catches_a_stalled_stream(
    fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    fake_server.enqueue(Script(chunks=["late"], first_delay=5.0), times=4)

    @llm_stream(
        task_type=TaskType.TEXT_GENERATION,
        timeout=0.5,
        fallback_enabled=True,
        dispatcher=make_dispatcher(routes={"default": {"targets": ["openai", "anthropic"]}}),
    )
    async def stream_with_timeout(prompt: str) -> Any:
        yield "unused"

    caught: list[BaseException] = []
    async with asyncio.timeout(10):
        try:
            async for _ in stream_with_timeout("Write a long story"):
                pass
        except asyncio.TimeoutError as e:  # noqa: UP041 (as the seed writes it)
            caught.append(e)
    assert len(caught) == 1 and isinstance(caught[0], StreamTimeout)
