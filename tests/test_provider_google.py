"""GoogleProvider against the fake server, through the real ``google-genai`` SDK."""

from __future__ import annotations

import pytest

from llm_dispatch.errors import ContentFilterError
from llm_dispatch.providers import disabled_reason
from llm_dispatch.providers.base import ProviderSettings
from llm_dispatch.providers.continuation import CONTINUE_INSTRUCTION
from llm_dispatch.providers.google import GoogleProvider
from llm_dispatch.request import Message, Request

pytestmark = pytest.mark.usefixtures("clean_provider_env")

MODEL = "gemini-test"
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

    outcome = await collect(sdk_provider("google"), request, MODEL)

    assert outcome.error is None
    recorded = fake_server.requests[0]
    assert recorded.model == MODEL
    assert recorded.system == "You are terse."
    assert recorded.body["contents"] == [{"role": "user", "parts": [{"text": "say hi"}]}]
    config = recorded.body["generationConfig"]
    assert config["temperature"] == 0.3
    assert config["maxOutputTokens"] == 77
    assert config["stopSequences"] == ["END"]
    assert config["responseMimeType"] == "application/json"
    assert config["responseJsonSchema"] == SCHEMA
    assert recorded.json_mode


async def test_plain_json_mode_sets_only_the_mime_type(fake_server, sdk_provider, collect) -> None:
    await collect(sdk_provider("google"), ask(response_format={"type": "json_object"}), MODEL)

    config = fake_server.requests[0].body["generationConfig"]
    assert config["responseMimeType"] == "application/json"
    assert "responseJsonSchema" not in config


async def test_trailing_assistant_message_is_a_model_turn_then_the_instruction(
    fake_server, sdk_provider, collect
) -> None:
    request = ask(
        Message(role="user", content="Count to five."),
        Message(role="assistant", content="One, two,"),
    )

    await collect(sdk_provider("google"), request, MODEL)

    assert fake_server.requests[0].body["contents"][-2:] == [
        {"role": "model", "parts": [{"text": "One, two,"}]},
        {"role": "user", "parts": [{"text": CONTINUE_INSTRUCTION}]},
    ]


@pytest.mark.parametrize("variable", ["GEMINI_API_KEY", "GOOGLE_API_KEY"])
async def test_environment_supplies_key_and_endpoint(
    fake_server, collect, monkeypatch, variable
) -> None:
    monkeypatch.setenv(variable, "AIzaFromEnv0123456789abcdefghij")
    monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", fake_server.google_base_url)
    provider = GoogleProvider(ProviderSettings(name="google", kind="google"))
    try:
        outcome = await collect(provider, ask(), MODEL)
    finally:
        await provider.aclose()

    assert outcome.error is None
    headers = {k.lower(): v for k, v in fake_server.requests[0].headers.items()}
    assert headers["x-goog-api-key"] == "AIzaFromEnv0123456789abcdefghij"


def test_has_credentials_from_settings_or_environment(monkeypatch) -> None:
    bare = ProviderSettings(name="google", kind="google")
    assert not GoogleProvider.has_credentials(bare)
    assert "GEMINI_API_KEY" in (disabled_reason(bare) or "")

    assert GoogleProvider.has_credentials(
        ProviderSettings(name="google", kind="google", api_key="AIza-x")
    )

    monkeypatch.setenv("GOOGLE_API_KEY", "AIzaFromEnv0123456789abcdefghij")
    assert GoogleProvider.has_credentials(bare)


async def test_blocked_prompt_is_a_content_filter_error(sdk_provider) -> None:
    # The fake server cannot script prompt feedback; build the chunk Gemini would send.
    from google.genai import types

    chunk = types.GenerateContentResponse(
        prompt_feedback=types.GenerateContentResponsePromptFeedback(block_reason="SAFETY")
    )

    error = sdk_provider("google")._blocked_error(chunk, MODEL)

    assert isinstance(error, ContentFilterError)
    assert "SAFETY" in error.message
