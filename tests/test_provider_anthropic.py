"""AnthropicProvider against the fake server, through the real ``anthropic`` SDK."""

from __future__ import annotations

from typing import Any

import pytest

from llm_dispatch.providers.anthropic import DEFAULT_MAX_TOKENS, JSON_INSTRUCTION
from llm_dispatch.request import Message, Request
from llm_dispatch.testing import FakeProviderServer, Script

# Every test here that builds an anthropic provider runs under each of its stream parsers.
pytestmark = [pytest.mark.usefixtures("clean_provider_env"), pytest.mark.stream_parsers]

MODEL = "claude-test"


async def test_request_fields_reach_the_wire(
    fake_server, sdk_provider, collect, ask, person_schema
) -> None:
    request = ask(
        system="You are terse.",
        temperature=0.3,
        max_tokens=77,
        stop=("END",),
        response_format={
            "type": "json_schema",
            "json_schema": {"name": "p", "schema": person_schema},
        },
    )

    outcome = await collect(sdk_provider("anthropic"), request, MODEL)

    assert outcome.error is None
    recorded = fake_server.requests[0]
    body = recorded.body
    assert body["model"] == MODEL
    assert body["system"] == "You are terse."
    assert body["messages"] == [{"role": "user", "content": "say hi"}]
    assert body["temperature"] == 0.3
    assert body["max_tokens"] == 77
    assert body["stop_sequences"] == ["END"]
    assert body["output_config"] == {"format": {"type": "json_schema", "schema": person_schema}}
    assert body["stream"] is True
    assert recorded.json_mode


async def test_max_tokens_defaults_and_unset_fields_are_not_sent(
    fake_server, sdk_provider, collect, say_hi
) -> None:
    await collect(sdk_provider("anthropic"), say_hi, MODEL)

    body = fake_server.requests[0].body
    assert body["max_tokens"] == DEFAULT_MAX_TOKENS
    for key in ("system", "temperature", "stop_sequences", "output_config"):
        assert key not in body


async def test_plain_json_mode_asks_in_the_system_prompt(
    fake_server, sdk_provider, collect, ask
) -> None:
    request = ask(system="You are terse.", response_format={"type": "json_object"})

    await collect(sdk_provider("anthropic"), request, MODEL)

    body = fake_server.requests[0].body
    assert body["system"] == f"You are terse.\n\n{JSON_INSTRUCTION}"
    assert "output_config" not in body


async def test_trailing_assistant_message_is_sent_as_prefill(
    fake_server, sdk_provider, collect, partial_answer
) -> None:
    await collect(sdk_provider("anthropic"), partial_answer, MODEL)

    assert fake_server.requests[0].body["messages"][-1] == {
        "role": "assistant",
        "content": "One, two,",
    }


async def test_continuation_prefill_ending_in_whitespace_is_trimmed_not_repeated(
    fake_server: FakeProviderServer, sdk_provider: Any, collect: Any
) -> None:
    # The real API rejects an assistant prefill that ends in whitespace.
    provider = sdk_provider("anthropic")
    fake_server.enqueue(Script(chunks=["  ", " next", " words."]))
    request = Request(
        messages=(
            Message(role="user", content="Tell me"),
            Message(role="assistant", content="Once upon a time \n"),
        )
    )
    outcome = await collect(provider, request, "claude-haiku-4-5")
    assert outcome.error is None
    assert outcome.texts == ["next", " words."]
    assert fake_server.requests[-1].messages[-1] == {
        "role": "assistant",
        "content": "Once upon a time",
    }
