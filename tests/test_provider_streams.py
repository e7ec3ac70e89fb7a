"""What every SDK provider must do with a well-formed stream, for each provider."""

from __future__ import annotations

import pytest

from llm_dispatch.events import ProviderEvent, Usage
from llm_dispatch.testing import Script

# Every test here that builds a provider of a kind with a fast parser runs under each of
# its stream parsers.
pytestmark = [pytest.mark.usefixtures("clean_provider_env"), pytest.mark.stream_parsers]


async def test_text_keeps_chunk_boundaries_then_usage_and_finish(
    fake_server, sdk_provider, collect, say_hi, kind
) -> None:
    chunks = ["Hel", "lo", ", wor", "ld!", " ", "\n\nBye"]
    fake_server.enqueue(Script(chunks=chunks, usage=(11, 6)))

    outcome = await collect(sdk_provider(kind), say_hi, "test-model")

    assert outcome.error is None
    assert outcome.texts == chunks
    assert [e.text for e in outcome.events[:-1]] == chunks
    assert outcome.final == ProviderEvent(usage=Usage.of(11, 6), finish_reason="stop")


# A finish reason each API has that the library does not name, and what it becomes.
OTHER_FINISH = {
    "openai": ("function_call", "tool_calls"),
    "anthropic": ("pause_turn", "pause_turn"),
    "google": ("OTHER", "other"),
}


@pytest.mark.parametrize("finish", ["length", "other"])
async def test_finish_reason_is_normalised(
    fake_server, sdk_provider, collect, say_hi, kind, finish
) -> None:
    if finish == "length":
        answer, expected = Script(chunks=["a", "b"], finish_reason="length"), "length"
    else:
        native, expected = OTHER_FINISH[kind]
        answer = Script(chunks=["a", "b"], native_finish_reason=native)
    fake_server.enqueue(answer)

    outcome = await collect(sdk_provider(kind), say_hi, "test-model")

    assert outcome.error is None
    assert outcome.texts == ["a", "b"]
    assert outcome.final.finish_reason == expected
