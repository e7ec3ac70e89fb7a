"""JSON mode on the three providers: each provider's native mechanism on the wire, parsing
with get_json(), invalid JSON reported with its text, and the JSON-mode client example."""

from __future__ import annotations

import json
from typing import Any

import pytest

from llm_dispatch import Client, InvalidJSONError, llm_stream
from llm_dispatch.providers.anthropic import JSON_INSTRUCTION
from llm_dispatch.streaming import JSON_MODE_OPTIONS, StreamErrorEvent
from llm_dispatch.testing import FakeProviderServer, Script

PROVIDERS = ["openai", "anthropic", "google"]
USER = {"name": "John Doe", "age": 30, "email": "john@example.com"}
SCHEMA = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
    "required": ["name", "age"],
    "additionalProperties": False,
}


def split(text: str, size: int = 7) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


def native_json_mode(provider: str, body: dict[str, Any], system: str | None) -> Any:
    """What the provider's request carries for JSON mode."""
    if provider == "openai":
        return body["response_format"]
    if provider == "google":
        return body["generationConfig"]
    return {"system": system, "output_config": body.get("output_config")}


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_json_object_mode_maps_to_each_providers_mechanism(
    provider: str, fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    fake_server.enqueue(Script(chunks=split(json.dumps(USER))))

    @llm_stream(
        dispatcher=make_dispatcher(),
        providers=[provider],
        response_format={"type": "json_object"},
    )
    async def user_data(prompt: str) -> Any:
        yield "unused"

    stream = user_data("Generate a JSON object with user data")
    await stream.collect()
    assert stream.get_json() == USER

    [recorded] = fake_server.requests
    native = native_json_mode(provider, recorded.body, recorded.system)
    if provider == "openai":
        assert native == {"type": "json_object"}
    elif provider == "google":
        assert native == {"responseMimeType": "application/json"}
    else:
        # Native structured output needs a schema: plain JSON mode is an instruction.
        assert native == {"system": JSON_INSTRUCTION, "output_config": None}


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_json_schema_uses_native_structured_output(
    provider: str, fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    response_format = {"type": "json_schema", "json_schema": {"name": "user", "schema": SCHEMA}}

    @llm_stream(dispatcher=make_dispatcher(), providers=[provider], response_format=response_format)
    async def user_data(prompt: str) -> Any:
        yield "unused"

    stream = user_data("a user")
    await stream.collect()
    # The fake server answers a JSON-mode request it recognises with a JSON object.
    assert stream.get_json() == {"provider": provider, "model": stream.model, "prompt": "a user"}

    [recorded] = fake_server.requests
    assert recorded.json_mode
    native = native_json_mode(provider, recorded.body, recorded.system)
    if provider == "openai":
        assert native == response_format
    elif provider == "google":
        assert native == {"responseMimeType": "application/json", "responseJsonSchema": SCHEMA}
    else:
        assert native == {
            "system": None,
            "output_config": {"format": {"type": "json_schema", "schema": SCHEMA}},
        }


async def test_invalid_json_raises_with_the_text(
    fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    fake_server.enqueue(Script(chunks=['{"name": ', '"John", ', "oops"]))

    @llm_stream(
        dispatcher=make_dispatcher(), providers=["openai"], response_format={"type": "json_object"}
    )
    async def user_data(prompt: str) -> Any:
        yield "unused"

    stream = user_data("a user")
    await stream.collect()
    with pytest.raises(InvalidJSONError) as info:
        stream.get_json()
    assert info.value.text == '{"name": "John", oops'
    assert isinstance(info.value, ValueError)


async def test_get_json_ignores_the_invisible_provenance(
    fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    fake_server.enqueue(Script(chunks=split(json.dumps(USER), 5)))

    @llm_stream(
        dispatcher=make_dispatcher(),
        providers=["google"],
        response_format={"type": "json_object"},
        embed_metadata={"hmac_key": "json-test-key-0123456789", "target": "whitespace"},
    )
    async def user_data(prompt: str) -> Any:
        yield "unused"

    stream = user_data("a user")
    await stream.collect()
    assert stream.get_text() != json.dumps(USER)  # signed
    assert stream.get_json() == USER


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_seed_003_json_example(
    provider: str, fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    fake_server.enqueue(Script(chunks=split(json.dumps(USER))))
    client = Client(dispatcher=make_dispatcher())

    response = await client.stream_with_usage(
        "Generate a JSON object with user data including name, age, and email",
        model={
            "openai": "gpt-4o-mini",
            "anthropic": "claude-haiku-4-5",
            "google": "gemini-2.5-flash",
        }[provider],
        response_format={"type": "json_object"},
        streaming_options=JSON_MODE_OPTIONS,
    )
    assert response.provider == provider
    assert response.get_json() == USER
    assert response.get_text() == json.dumps(USER)


async def test_json_mode_options_ask_for_json_and_fail_invalid_answers(
    fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    client = Client(dispatcher=make_dispatcher())
    errors: list[StreamErrorEvent] = []

    fake_server.enqueue(Script(chunks=["not ", "json"]))
    with pytest.raises(InvalidJSONError) as info:
        await client.stream_with_usage(
            "data please",
            provider="openai",
            streaming_options=JSON_MODE_OPTIONS,
            on_error=errors.append,
        )
    assert info.value.text == "not json"
    [recorded] = fake_server.requests
    assert recorded.body["response_format"] == {"type": "json_object"}
    [event] = errors
    assert event.error_type == "InvalidJSONError"

    # A response format given with the options is kept.
    fake_server.enqueue(Script(chunks=['{"a": 1}']))
    schema_format = {"type": "json_schema", "json_schema": {"name": "a", "schema": SCHEMA}}
    await client.stream_with_usage(
        "data",
        provider="openai",
        response_format=schema_format,
        streaming_options=JSON_MODE_OPTIONS,
    )
    assert fake_server.requests[-1].body["response_format"] == schema_format
