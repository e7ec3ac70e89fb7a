"""AnthropicProvider against the fake server, through the real ``anthropic`` SDK."""

from __future__ import annotations

from typing import Any

import pytest

from llm_dispatch.providers import disabled_reason
from llm_dispatch.providers.anthropic import (
    DEFAULT_MAX_TOKENS,
    JSON_INSTRUCTION,
    AnthropicProvider,
)
from llm_dispatch.providers.base import ProviderSettings
from llm_dispatch.request import Message, Request
from llm_dispatch.testing import FakeProviderServer, Script

pytestmark = pytest.mark.usefixtures("clean_provider_env")

MODEL = "claude-test"
SCHEMA = {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}


def ask(*messages: Message, **fields: object) -> Request:
    turns = messages or (Message(role="user", content="say hi"),)
    return Request(messages=turns, **fields)  # type: ignore[arg-type]


async def test_request_fields_reach_the_wire(fake_server, sdk_provider, collect) -> None:
    request = ask(
        system="You are terse.",
        temperature=0.3,
        max_tokens=77,
        stop=("END",),
        response_format={"type": "json_schema", "json_schema": {"name": "p", "schema": SCHEMA}},
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
    assert body["output_config"] == {"format": {"type": "json_schema", "schema": SCHEMA}}
    assert body["stream"] is True
    assert recorded.json_mode


async def test_max_tokens_defaults_and_unset_fields_are_not_sent(
    fake_server, sdk_provider, collect
) -> None:
    await collect(sdk_provider("anthropic"), ask(), MODEL)

    body = fake_server.requests[0].body
    assert body["max_tokens"] == DEFAULT_MAX_TOKENS
    for key in ("system", "temperature", "stop_sequences", "output_config"):
        assert key not in body


async def test_plain_json_mode_asks_in_the_system_prompt(
    fake_server, sdk_provider, collect
) -> None:
    request = ask(system="You are terse.", response_format={"type": "json_object"})

    await collect(sdk_provider("anthropic"), request, MODEL)

    body = fake_server.requests[0].body
    assert body["system"] == f"You are terse.\n\n{JSON_INSTRUCTION}"
    assert "output_config" not in body


async def test_trailing_assistant_message_is_sent_as_prefill(
    fake_server, sdk_provider, collect
) -> None:
    request = ask(
        Message(role="user", content="Count to five."),
        Message(role="assistant", content="One, two,"),
    )

    await collect(sdk_provider("anthropic"), request, MODEL)

    assert fake_server.requests[0].body["messages"][-1] == {
        "role": "assistant",
        "content": "One, two,",
    }


async def test_environment_supplies_key_and_endpoint(fake_server, collect, monkeypatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-from-env-0123456789")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", fake_server.anthropic_base_url)
    provider = AnthropicProvider(ProviderSettings(name="anthropic", kind="anthropic"))
    try:
        outcome = await collect(provider, ask(), MODEL)
    finally:
        await provider.aclose()

    assert outcome.error is None
    headers = {k.lower(): v for k, v in fake_server.requests[0].headers.items()}
    # This SDK generation sends API keys as a bearer token, not as x-api-key.
    assert headers["authorization"] == "Bearer sk-ant-from-env-0123456789"


def test_has_credentials_from_settings_or_environment(monkeypatch) -> None:
    bare = ProviderSettings(name="anthropic", kind="anthropic")
    assert not AnthropicProvider.has_credentials(bare)
    assert "ANTHROPIC_API_KEY" in (disabled_reason(bare) or "")

    assert AnthropicProvider.has_credentials(
        ProviderSettings(name="anthropic", kind="anthropic", api_key="sk-ant-x")
    )

    monkeypatch.setenv("ANTHROPIC_AUTH_TOKEN", "token-from-env")
    assert AnthropicProvider.has_credentials(bare)


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
