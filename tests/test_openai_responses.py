"""The OpenAI provider's Responses API path, over real HTTP through the ``openai`` SDK to the
fake server's ``POST /v1/responses`` wire: which API a model goes to, the request built,
the stream read (text, reasoning, tool calls, usage) and every failure mapped as chat
completions maps it."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import textwrap
from pathlib import Path
from typing import Any

import media_samples
import openai
import pytest
from conftest import TEST_KEYS

from llm_dispatch import llm_stream
from llm_dispatch.content import (
    AudioPart,
    DocumentPart,
    ImagePart,
    ReasoningPart,
    TextPart,
    ToolCallPart,
    ToolResultPart,
)
from llm_dispatch.errors import (
    BadRequestError,
    ConfigError,
    ContentFilterError,
    ContextLengthError,
    IncompleteStreamError,
    MalformedEventError,
    OverloadedError,
    ProviderConnectionError,
    RateLimitError,
    ServerError,
)
from llm_dispatch.events import ProviderEvent, ToolCallDelta, Usage
from llm_dispatch.providers.base import ProviderSettings
from llm_dispatch.providers.continuation import CONTINUE_INSTRUCTION
from llm_dispatch.providers.openai_apis import RESPONSES_ONLY_MODELS, serves_only_responses
from llm_dispatch.providers.openai_responses_request import CHAT_ONLY_OPTIONS
from llm_dispatch.request import Message, Reasoning
from llm_dispatch.settings.loader import load_config
from llm_dispatch.testing import FakeProviderServer, Script
from llm_dispatch.testing.script import ScriptedToolCall
from llm_dispatch.tools import Tool

pytestmark = [pytest.mark.usefixtures("clean_provider_env"), pytest.mark.stream_parsers]

MODEL = "gpt-5"
RESPONSES_PATH = "/v1/responses"
CHAT_PATH = "/v1/chat/completions"
WEATHER = Tool(
    name="get_weather",
    description="The weather in a city.",
    parameters={"type": "object", "properties": {"city": {"type": "string"}}},
)


def responses(sdk_provider: Any, **settings: Any) -> Any:
    """An openai-kind provider aimed at the fake server that sends every model to the
    Responses API."""
    return sdk_provider("openai", api="responses", **settings)


def user(*parts: Any) -> Message:
    return Message(
        role="user", content=tuple(TextPart(text=p) if isinstance(p, str) else p for p in parts)
    )


def tool_deltas(events: list[ProviderEvent]) -> list[ToolCallDelta]:
    return [e.tool_call for e in events if e.tool_call is not None]


def assembled(events: list[ProviderEvent]) -> dict[int, tuple[str | None, str | None, Any]]:
    """Each call's (id, name, parsed arguments), from its deltas."""
    calls: dict[int, list[Any]] = {}
    for delta in tool_deltas(events):
        call = calls.setdefault(delta.index, [delta.id, delta.name, ""])
        call[2] += delta.arguments
    return {i: (c[0], c[1], json.loads(c[2])) for i, c in calls.items()}


# -- which API ------------------------------------------------------------------------------


async def test_text_streams_exactly_as_chunked(fake_server, sdk_provider, collect, say_hi) -> None:
    chunks = ["Hel", "lo, w", "orld", "!\n", " ok"]
    fake_server.enqueue(Script(chunks=chunks))

    outcome = await collect(responses(sdk_provider), say_hi, MODEL)

    assert outcome.error is None
    assert outcome.texts == chunks
    assert all(not e.reasoning and e.tool_call is None for e in outcome.events)
    assert outcome.final.finish_reason == "stop"
    [rec] = fake_server.requests
    assert (rec.provider, rec.path, rec.model) == ("openai", RESPONSES_PATH, MODEL)
    assert rec.body["stream"] is True


async def test_chat_completions_stay_the_default(
    fake_server, sdk_provider, collect, say_hi
) -> None:
    outcome = await collect(sdk_provider("openai"), say_hi, MODEL)

    assert outcome.error is None
    assert [r.path for r in fake_server.requests] == [CHAT_PATH]


async def test_model_api_overrides_the_provider_api_per_model(
    fake_server, sdk_provider, collect, say_hi
) -> None:
    provider = responses(sdk_provider, model_api={"legacy-chat": "chat"})
    mixed = sdk_provider("openai", model_api={"o-special": "responses"})

    for p, model in (
        (provider, "legacy-chat"),
        (provider, MODEL),
        (mixed, "o-special"),
        (mixed, MODEL),
    ):
        assert (await collect(p, say_hi, model)).error is None

    assert [(r.model, r.path) for r in fake_server.requests] == [
        ("legacy-chat", CHAT_PATH),
        (MODEL, RESPONSES_PATH),
        ("o-special", RESPONSES_PATH),
        (MODEL, CHAT_PATH),
    ]


@pytest.mark.parametrize(
    ("model", "api"),
    [
        ("o3-pro", "responses"),
        ("o1-pro-2025-03-19", "responses"),
        ("codex-mini-latest", "responses"),
        ("gpt-5-pro", "responses"),
        ("computer-use-preview", "responses"),
        ("o4-mini-deep-research", "responses"),
        ("O3-DEEP-RESEARCH", "responses"),
        ("gpt-4o-mini", "chat"),
        ("o3", "chat"),
        ("gpt-5", "chat"),
    ],
)
async def test_models_served_only_by_responses_go_there_on_openai(
    fake_server, sdk_provider, collect, say_hi, monkeypatch, model, api
) -> None:
    # base_url unset: the SDK reads OPENAI_BASE_URL, as it would for api.openai.com.
    monkeypatch.setenv("OPENAI_BASE_URL", fake_server.openai_base_url)
    provider = sdk_provider("openai", base_url=None)

    assert (await collect(provider, say_hi, model)).error is None

    assert fake_server.requests[0].path == (RESPONSES_PATH if api == "responses" else CHAT_PATH)


async def test_a_compatible_server_keeps_chat_unless_configured(
    fake_server, sdk_provider, collect, say_hi
) -> None:
    compatible = sdk_provider("openai")  # base_url: the fake server, not api.openai.com
    configured = sdk_provider("openai", model_api={"o3-pro": "responses"})

    await collect(compatible, say_hi, "o3-pro")
    await collect(configured, say_hi, "o3-pro")

    assert [r.path for r in fake_server.requests] == [CHAT_PATH, RESPONSES_PATH]


def test_the_built_in_rule_and_its_overrides() -> None:
    official = ProviderSettings(name="openai", kind="openai")
    listed = ProviderSettings(
        name="openai", kind="openai", base_url="https://api.openai.com/v1", api="chat"
    )
    pinned = ProviderSettings(name="openai", kind="openai", model_api={"o3-pro": "chat"})
    local = ProviderSettings(name="vllm", kind="openai", base_url="http://127.0.0.1:8000/v1")

    assert official.api_for("o3-pro") == listed.api_for("o3-pro") == "responses"
    assert official.api_for("gpt-4o") == listed.api_for("gpt-4o") == "chat"
    assert pinned.api_for("o3-pro") == "chat"
    assert local.api_for("o3-pro") == "chat"
    assert all(serves_only_responses(p.replace("*", "x")) for p in RESPONSES_ONLY_MODELS)


@pytest.mark.parametrize("kind", ["anthropic", "google"])
def test_only_the_openai_kind_takes_an_api(kind: str) -> None:
    with pytest.raises(ValueError, match="takes no api or model_api"):
        ProviderSettings(name=kind, kind=kind, api="responses")


def config_file(tmp_path: Path, entry: str) -> Path:
    """A one-provider configuration; the entry's own keys start on line 3."""
    path = tmp_path / "dispatch.yaml"
    body = textwrap.indent(textwrap.dedent(entry).strip("\n"), "    ")
    path.write_text(f"providers:\n  mine:\n{body}\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("entry", "line", "key_path", "message"),
    [
        ("kind: anthropic\napi: responses", 4, "providers.mine.api", "takes no api"),
        (
            "kind: google\nmodel_api:\n  gemini-2.5-flash: responses",
            4,
            "providers.mine.model_api",
            "takes no model_api",
        ),
        ("kind: openai\napi: response", 4, "providers.mine.api", "'chat' or 'responses'"),
        (
            "kind: openai\nmodel_api:\n  o3: completions",
            5,
            "providers.mine.model_api.o3",
            "'chat' or 'responses'",
        ),
        (
            "kind: openai\nmodels: [gpt-5]\nmodel_api:\n  gpt-5-pro: responses",
            6,
            "providers.mine.model_api.gpt-5-pro",
            "an api for 'gpt-5-pro', which is not in models",
        ),
    ],
)
def test_api_config_errors_name_file_line_and_key_path(
    tmp_path: Path, entry: str, line: int, key_path: str, message: str
) -> None:
    file = config_file(tmp_path, entry)

    with pytest.raises(ConfigError) as info:
        load_config(file, environ={})

    err = info.value
    assert (err.source, err.line, err.path) == (str(file), line, key_path)
    assert message in str(err), str(err)


def test_the_configured_api_reaches_the_provider_settings(tmp_path: Path) -> None:
    file = config_file(tmp_path, "kind: openai\napi: responses\nmodel_api:\n  gpt-4o-mini: chat")

    settings = load_config(file, environ={}).providers["mine"].to_settings("mine")

    assert (settings.api_for("gpt-5"), settings.api_for("gpt-4o-mini")) == ("responses", "chat")


async def test_a_dispatcher_streams_through_the_configured_api(
    fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    entry = {
        "kind": "openai",
        "api_key": TEST_KEYS["openai"],
        "base_url": fake_server.openai_base_url,
        "default_model": "gpt-4o-mini",
        "api": "responses",
    }
    dispatcher = make_dispatcher(providers={"openai": entry})

    @llm_stream(dispatcher=dispatcher, providers=["openai"], max_retries=0)
    async def answer(prompt: str) -> Any:
        yield "unused"

    fake_server.enqueue(Script(chunks=["Via ", "responses"], usage=(5, 2)))
    stream = await answer("hello").collect()

    assert stream.get_text() == "Via responses"
    assert stream.usage is not None and stream.usage.total_tokens == 7
    assert [r.path for r in fake_server.requests] == [RESPONSES_PATH]


# -- the request ------------------------------------------------------------------------------


async def test_request_fields_become_responses_fields(
    fake_server, sdk_provider, collect, ask
) -> None:
    request = ask(
        Message(role="user", content="Hi"),
        Message(role="assistant", content="Hello!"),
        Message(role="user", content="Bye"),
        system="Be terse.",
        temperature=0.3,
        max_tokens=77,
    )

    assert (await collect(responses(sdk_provider), request, MODEL)).error is None

    rec = fake_server.requests[0]
    body = rec.body
    assert body["instructions"] == "Be terse."
    assert body["input"] == [
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello!"},
        {"role": "user", "content": "Bye"},
    ]
    assert (body["temperature"], body["max_output_tokens"]) == (0.3, 77)
    for key in ("messages", "max_tokens", "max_completion_tokens", "stream_options", "stop"):
        assert key not in body
    assert rec.system == "Be terse."
    assert [m["role"] for m in rec.messages] == ["user", "assistant", "user"]


async def test_unset_fields_are_not_sent(fake_server, sdk_provider, collect, say_hi) -> None:
    await collect(responses(sdk_provider), say_hi, MODEL)

    body = fake_server.requests[0].body
    assert set(body) == {"model", "input", "stream"}


async def test_content_parts_are_input_parts(fake_server, sdk_provider, collect, ask) -> None:
    png = media_samples.png()
    pdf = b"%PDF-1.4 tiny"
    request = ask(
        user(
            "Look:",
            ImagePart(mime_type="image/png", data=png),
            ImagePart(mime_type="image/png", url="https://img.example/cat.png"),
            DocumentPart(mime_type="application/pdf", data=pdf, name="a.pdf"),
            DocumentPart(mime_type="application/pdf", data=pdf),
            DocumentPart(mime_type="application/pdf", url="https://docs.example/r.pdf"),
        )
    )

    assert (await collect(responses(sdk_provider), request, MODEL)).error is None

    rec = fake_server.requests[0]
    content = rec.body["input"][0]["content"]
    assert content[0] == {"type": "input_text", "text": "Look:"}
    assert content[1]["image_url"].startswith("data:image/png;base64,")
    assert content[2] == {
        "type": "input_image",
        "image_url": "https://img.example/cat.png",
        "detail": "auto",
    }
    assert content[3]["file_data"].startswith("data:application/pdf;base64,")
    assert (content[3]["filename"], content[4]["filename"]) == ("a.pdf", "document.pdf")
    assert content[5] == {"type": "input_file", "file_url": "https://docs.example/r.pdf"}
    assert rec.parts[0] == [
        {"type": "text", "text": "Look:"},
        {"type": "image", "mime_type": "image/png", "data": png},
        {"type": "image", "mime_type": None, "url": "https://img.example/cat.png"},
        {"type": "document", "mime_type": "application/pdf", "data": pdf, "name": "a.pdf"},
        {"type": "document", "mime_type": "application/pdf", "data": pdf, "name": "document.pdf"},
        {"type": "document", "mime_type": None, "url": "https://docs.example/r.pdf"},
    ]


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        (
            user("Hear:", AudioPart(mime_type="audio/wav", data=b"RIFF", source="audio[0]")),
            "cannot send the audio part from 'audio[0]': the Responses API takes no audio",
        ),
        (
            Message(
                role="assistant",
                content=(ImagePart(mime_type="image/png", data=b"x", source="images[1]"),),
            ),
            "cannot send the image part from 'images[1]': the Responses API takes media in "
            "user messages only",
        ),
    ],
)
async def test_parts_the_api_cannot_take_are_refused_before_sending(
    fake_server, sdk_provider, collect, ask, message, reason
) -> None:
    outcome = await collect(responses(sdk_provider), ask(message), MODEL)

    assert isinstance(outcome.error, BadRequestError)
    assert reason in str(outcome.error)
    assert fake_server.requests == []


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"stop": ("END",)}, "takes no stop sequences"),
        ({"response_format": {"type": "json_schema", "json_schema": {"name": "x"}}}, "'schema'"),
        ({"response_format": {"type": "yaml"}}, "response_format type 'yaml'"),
        ({"options": {"seed": 7}}, "provider option 'seed' is not applied by the OpenAI"),
        ({"options": {"top_k": 7}}, "provider option 'top_k' is not applied by openai"),
        (
            {"reasoning": Reasoning(effort="high"), "options": {"reasoning_effort": "low"}},
            "'reasoning_effort' ('low') disagrees",
        ),
    ],
)
async def test_fields_the_api_lacks_are_refused_before_sending(
    fake_server, sdk_provider, collect, say_hi, fields, reason
) -> None:
    request = say_hi.model_copy(update=fields)

    outcome = await collect(responses(sdk_provider), request, MODEL)

    assert isinstance(outcome.error, BadRequestError)
    assert reason in str(outcome.error), str(outcome.error)
    assert fake_server.requests == []


def test_the_chat_only_options_are_those_without_a_responses_field() -> None:
    assert sorted(CHAT_ONLY_OPTIONS) == [
        "frequency_penalty",
        "logit_bias",
        "logprobs",
        "presence_penalty",
        "seed",
    ]


@pytest.mark.parametrize("name", sorted(CHAT_ONLY_OPTIONS))
async def test_every_chat_only_option_is_refused(
    fake_server, sdk_provider, collect, say_hi, name
) -> None:
    request = say_hi.model_copy(update={"options": {name: 1}})

    outcome = await collect(responses(sdk_provider), request, MODEL)

    assert isinstance(outcome.error, BadRequestError)
    assert f"'{name}'" in str(outcome.error)
    assert fake_server.requests == []


async def test_the_options_it_applies_are_sent(
    fake_server, sdk_provider, collect, say_hi, sent_headers
) -> None:
    options = {
        "top_p": 0.5,
        "user": "user-1",
        "service_tier": "flex",
        "metadata": {"team": "search"},
        "store": False,
        "top_logprobs": 2,
        "reasoning_effort": "medium",
        "extra_body": {"truncation": "auto"},
        "extra_headers": {"X-Trace-Id": "trace-1"},
        "extra_query": {"api-version": "2025-01-01"},
    }
    request = say_hi.model_copy(update={"options": options})

    assert (await collect(responses(sdk_provider), request, MODEL)).error is None

    rec = fake_server.requests[0]
    body = rec.body
    for name in ("top_p", "user", "service_tier", "metadata", "store", "top_logprobs"):
        assert body[name] == options[name]
    assert body["reasoning"] == {"effort": "medium"}
    assert body["truncation"] == "auto"
    assert sent_headers()["x-trace-id"] == "trace-1"
    assert rec.path == f"{RESPONSES_PATH}?api-version=2025-01-01"


async def test_extra_body_may_not_change_a_field(
    fake_server, sdk_provider, collect, say_hi
) -> None:
    request = say_hi.model_copy(update={"options": {"extra_body": {"model": "other"}}})

    outcome = await collect(responses(sdk_provider), request, MODEL)

    assert isinstance(outcome.error, BadRequestError) and "'model'" in str(outcome.error)
    assert fake_server.requests == []


@pytest.mark.parametrize(
    ("response_format", "sent"),
    [
        ({"type": "json_object"}, {"type": "json_object"}),
        (
            {
                "type": "json_schema",
                "json_schema": {"name": "person", "schema": {"type": "object"}, "strict": True},
            },
            {"type": "json_schema", "name": "person", "schema": {"type": "object"}, "strict": True},
        ),
        (
            {"type": "json_schema", "json_schema": {"schema": {"type": "object"}}},
            {"type": "json_schema", "name": "response", "schema": {"type": "object"}},
        ),
        (
            {"type": "json_schema", "name": "flat", "schema": {"type": "object"}},
            {"type": "json_schema", "name": "flat", "schema": {"type": "object"}},
        ),
    ],
)
async def test_response_format_becomes_the_text_format(
    fake_server, sdk_provider, collect, say_hi, response_format, sent
) -> None:
    request = say_hi.model_copy(update={"response_format": response_format})

    assert (await collect(responses(sdk_provider), request, MODEL)).error is None

    rec = fake_server.requests[0]
    assert rec.body["text"] == {"format": sent}
    assert rec.json_mode


@pytest.mark.parametrize(
    ("choice", "sent"),
    [
        ("auto", "auto"),
        ("none", "none"),
        ("required", "required"),
        ("get_weather", {"type": "function", "name": "get_weather"}),
    ],
)
async def test_tools_and_tool_choice(
    fake_server, sdk_provider, collect, say_hi, choice, sent
) -> None:
    bare = Tool(name="ping")
    request = say_hi.model_copy(update={"tools": (WEATHER, bare), "tool_choice": choice})

    assert (await collect(responses(sdk_provider), request, MODEL)).error is None

    rec = fake_server.requests[0]
    assert rec.body["tools"] == [
        {
            "type": "function",
            "name": "get_weather",
            "description": "The weather in a city.",
            "parameters": WEATHER.parameters,
            "strict": False,
        },
        {
            "type": "function",
            "name": "ping",
            "parameters": {"type": "object", "properties": {}},
            "strict": False,
        },
    ]
    assert rec.body["tool_choice"] == sent
    assert rec.tool_choice == sent
    assert rec.tools == [
        {
            "name": "get_weather",
            "description": "The weather in a city.",
            "parameters": WEATHER.parameters,
        },
        {"name": "ping", "description": "", "parameters": {"type": "object", "properties": {}}},
    ]


async def test_tool_calls_and_results_become_function_call_items(
    fake_server, sdk_provider, collect, ask
) -> None:
    request = ask(
        Message(role="user", content="Weather in Paris and Rome?"),
        Message(
            role="assistant",
            content=(
                ReasoningPart(text="two cities", provider_kind="openai"),
                TextPart(text="Checking."),
                ToolCallPart(id="call_1", name="get_weather", arguments={"city": "Paris"}),
                ToolCallPart(id="call_2", name="get_weather", arguments={"city": "Rome"}),
            ),
        ),
        Message(
            role="tool",
            content=(
                ToolResultPart(tool_call_id="call_1", name="get_weather", content="18C"),
                ToolResultPart(
                    tool_call_id="call_2", name="get_weather", content="no data", is_error=True
                ),
            ),
        ),
        tools=(WEATHER,),
    )

    assert (await collect(responses(sdk_provider), request, MODEL)).error is None

    rec = fake_server.requests[0]
    assert rec.body["input"] == [
        {"role": "user", "content": "Weather in Paris and Rome?"},
        {"role": "assistant", "content": "Checking."},
        {
            "type": "function_call",
            "call_id": "call_1",
            "name": "get_weather",
            "arguments": '{"city": "Paris"}',
        },
        {
            "type": "function_call",
            "call_id": "call_2",
            "name": "get_weather",
            "arguments": '{"city": "Rome"}',
        },
        {"type": "function_call_output", "call_id": "call_1", "output": "18C"},
        {"type": "function_call_output", "call_id": "call_2", "output": "no data"},
    ]
    assert [m["role"] for m in rec.messages] == ["user", "assistant", "tool"]
    assert rec.parts[1] == [
        {"type": "text", "text": "Checking."},
        {
            "type": "tool_call",
            "id": "call_1",
            "name": "get_weather",
            "arguments": {"city": "Paris"},
        },
        {"type": "tool_call", "id": "call_2", "name": "get_weather", "arguments": {"city": "Rome"}},
    ]
    assert rec.parts[2] == [
        {
            "type": "tool_result",
            "tool_call_id": "call_1",
            "name": "get_weather",
            "content": "18C",
            "is_error": None,
        },
        {
            "type": "tool_result",
            "tool_call_id": "call_2",
            "name": "get_weather",
            "content": "no data",
            "is_error": None,
        },
    ]


@pytest.mark.parametrize(
    ("reasoning", "sent"),
    [
        (Reasoning(effort="high"), {"effort": "high", "summary": "auto"}),
        (Reasoning(effort="low", budget_tokens=30000), {"effort": "low", "summary": "auto"}),
        (Reasoning(budget_tokens=1024), {"effort": "low", "summary": "auto"}),
        (Reasoning(budget_tokens=4096), {"effort": "low", "summary": "auto"}),
        (Reasoning(budget_tokens=4097), {"effort": "medium", "summary": "auto"}),
        (Reasoning(budget_tokens=16384), {"effort": "medium", "summary": "auto"}),
        (Reasoning(budget_tokens=16385), {"effort": "high", "summary": "auto"}),
    ],
)
async def test_reasoning_becomes_an_effort_with_a_summary(
    fake_server, sdk_provider, collect, say_hi, reasoning, sent
) -> None:
    request = say_hi.model_copy(update={"reasoning": reasoning})

    assert (await collect(responses(sdk_provider), request, MODEL)).error is None

    assert fake_server.requests[0].body["reasoning"] == sent
    assert fake_server.requests[0].reasoning == sent


@pytest.mark.parametrize(
    ("mode", "tail"),
    [
        (
            None,
            [
                {"role": "assistant", "content": "One, two,"},
                {"role": "user", "content": CONTINUE_INSTRUCTION},
            ],
        ),
        (
            "instruction",
            [
                {"role": "assistant", "content": "One, two,"},
                {"role": "user", "content": CONTINUE_INSTRUCTION},
            ],
        ),
        ("prefill", [{"role": "assistant", "content": "One, two,"}]),
    ],
)
async def test_a_continuation_follows_the_continuation_mode(
    fake_server, sdk_provider, collect, partial_answer, mode, tail
) -> None:
    provider = responses(sdk_provider, continuation=mode)

    assert (await collect(provider, partial_answer, MODEL)).error is None

    assert fake_server.requests[0].body["input"] == [
        {"role": "user", "content": "Count to five."},
        *tail,
    ]


async def test_continue_final_message_is_refused(
    fake_server, sdk_provider, collect, partial_answer
) -> None:
    provider = responses(sdk_provider, continuation="continue_final_message")

    outcome = await collect(provider, partial_answer, MODEL)

    assert isinstance(outcome.error, BadRequestError)
    assert "continue_final_message" in str(outcome.error)
    assert fake_server.requests == []


# -- the stream -------------------------------------------------------------------------------


async def test_one_tool_call_streams_as_exact_deltas(
    fake_server, sdk_provider, collect, say_hi
) -> None:
    call = ScriptedToolCall("get_weather", {"city": "Paris"}, id="call_abc", pieces=3)
    fake_server.enqueue(Script(tool_calls=[call]))

    outcome = await collect(responses(sdk_provider), say_hi, MODEL)

    assert outcome.error is None
    assert outcome.texts == []
    assert tool_deltas(outcome.events) == [
        ToolCallDelta(0, id="call_abc", name="get_weather", arguments=""),
        ToolCallDelta(0, arguments='{"city'),
        ToolCallDelta(0, arguments='":"Par'),
        ToolCallDelta(0, arguments='is"}'),
    ]
    assert outcome.final.finish_reason == "tool_calls"


@pytest.mark.parametrize("interleave", [False, True])
async def test_two_parallel_tool_calls_are_reassembled(
    fake_server, sdk_provider, collect, say_hi, interleave
) -> None:
    calls = [
        ScriptedToolCall("get_weather", {"city": "Paris"}, id="call_1", pieces=2),
        ScriptedToolCall("get_time", {"zone": "CET"}, id="call_2", pieces=2),
    ]
    fake_server.enqueue(
        Script(chunks=["Let me check."], tool_calls=calls, interleave_tool_calls=interleave)
    )

    outcome = await collect(responses(sdk_provider), say_hi, MODEL)

    assert outcome.error is None
    assert outcome.texts == ["Let me check."]
    first = [
        ToolCallDelta(0, id="call_1", name="get_weather", arguments=""),
        ToolCallDelta(0, arguments='{"city":'),
    ]
    second = [
        ToolCallDelta(1, id="call_2", name="get_time", arguments=""),
        ToolCallDelta(1, arguments='{"zone"'),
    ]
    rest = [ToolCallDelta(0, arguments='"Paris"}')], [ToolCallDelta(1, arguments=':"CET"}')]
    expected = (
        [*first, *second, *rest[0], *rest[1]]
        if interleave
        else [*first, *rest[0], *second, *rest[1]]
    )
    assert tool_deltas(outcome.events) == expected
    assert assembled(outcome.events) == {
        0: ("call_1", "get_weather", {"city": "Paris"}),
        1: ("call_2", "get_time", {"zone": "CET"}),
    }
    assert outcome.final.finish_reason == "tool_calls"


async def test_reasoning_summary_is_kept_out_of_the_text(
    fake_server, sdk_provider, collect, say_hi
) -> None:
    fake_server.enqueue(Script(reasoning="First I think. Then I answer.", chunks=["Done", "."]))

    outcome = await collect(responses(sdk_provider), say_hi, MODEL)

    assert outcome.error is None
    assert [e.reasoning for e in outcome.events if e.reasoning] == [
        "First",
        " I",
        " think.",
        " Then",
        " I",
        " answer.",
    ]
    assert outcome.texts == ["Done", "."]
    assert all(not (e.text and e.reasoning) for e in outcome.events)
    assert outcome.final.usage is not None and outcome.final.usage.reasoning_tokens == 6


async def test_usage_fields(fake_server, sdk_provider, collect, say_hi) -> None:
    fake_server.enqueue(
        Script(chunks=["a"], usage=(120, 40), cache_tokens=(30, 50), reasoning_tokens=25)
    )

    outcome = await collect(responses(sdk_provider), say_hi, MODEL)

    assert outcome.final == ProviderEvent(
        usage=Usage.of(120, 40, reasoning=25, cached_input=50, cache_write=30),
        finish_reason="stop",
    )


async def test_a_stream_without_usage_still_completes(
    fake_server, sdk_provider, collect, say_hi
) -> None:
    fake_server.enqueue(Script(chunks=["a"], send_usage=False))

    outcome = await collect(responses(sdk_provider), say_hi, MODEL)

    assert outcome.final == ProviderEvent(usage=None, finish_reason="stop")


async def test_unknown_events_and_fields_are_skipped(
    fake_server, sdk_provider, collect, say_hi
) -> None:
    call = ScriptedToolCall("get_weather", {"city": "Oslo"}, id="call_9", pieces=2)
    fake_server.enqueue(
        Script(
            chunks=["x", "y"],
            reasoning="hm",
            tool_calls=[call],
            shape={"unknown_events", "unknown_fields"},
        )
    )

    outcome = await collect(responses(sdk_provider), say_hi, MODEL)

    assert outcome.error is None
    assert outcome.texts == ["x", "y"]
    assert assembled(outcome.events) == {0: ("call_9", "get_weather", {"city": "Oslo"})}


@pytest.mark.parametrize(
    ("script", "finish"),
    [
        (Script(chunks=["a"], finish_reason="length"), "length"),
        (Script(chunks=["a"], native_finish_reason="max_output_tokens"), "length"),
        (
            Script(
                tool_calls=[ScriptedToolCall("get_weather", '{"ci', pieces=1)],
                finish_reason="length",
            ),
            "length",
        ),
    ],
)
async def test_an_answer_cut_by_max_output_tokens_is_length(
    fake_server, sdk_provider, collect, say_hi, script, finish
) -> None:
    fake_server.enqueue(script)

    outcome = await collect(responses(sdk_provider), say_hi, MODEL)

    assert outcome.error is None
    assert outcome.final.finish_reason == finish


@pytest.mark.parametrize(
    ("script", "detail"),
    [
        (Script(chunks=["Sure, ", "here"], finish_reason="content_filter"), "I can't help"),
        (Script(chunks=[], finish_reason="content_filter"), "I can't help"),
        (Script(chunks=["Sure, ", "here"], native_finish_reason="content_filter"), ""),
    ],
)
async def test_a_refusal_raises_content_filter_after_the_text(
    fake_server, sdk_provider, collect, say_hi, script, detail
) -> None:
    script.error_message = "I can't help with that."
    fake_server.enqueue(script)

    outcome = await collect(responses(sdk_provider), say_hi, MODEL)

    assert isinstance(outcome.error, ContentFilterError)
    assert outcome.texts == (script.chunks or [])
    assert "the provider refused the answer" in str(outcome.error)
    assert detail in str(outcome.error)
    assert f"after {sum(map(len, script.chunks or []))} characters" in str(outcome.error)


# -- faults, mapped as chat completions maps them ---------------------------------------------

TEN = [f"c{i} " for i in range(10)]
FAULTS = {
    "http_429": (Script(status=429, retry_after=2), RateLimitError),
    "http_500": (Script(status=500), ServerError),
    "http_503": (Script(status=503), OverloadedError),
    "http_400": (Script(status=400, error_message="bad parameter"), BadRequestError),
    "http_400_context": (
        Script(status=400, error_message="This model's maximum context length is 8192 tokens."),
        ContextLengthError,
    ),
    "drop": (Script(chunks=TEN, drop_after=3), ProviderConnectionError),
    "cut": (Script(chunks=TEN, cut_after=3), IncompleteStreamError),
    "event_server": (Script(chunks=TEN, error_event_after=3, error_kind="server"), ServerError),
    "event_overloaded": (
        Script(chunks=TEN, error_event_after=3, error_kind="overloaded"),
        OverloadedError,
    ),
    "event_rate_limit": (
        Script(chunks=TEN, error_event_after=3, error_kind="rate_limit"),
        RateLimitError,
    ),
    "event_bad_request": (
        Script(chunks=TEN, error_event_after=3, error_kind="bad_request"),
        BadRequestError,
    ),
    "malformed": (Script(chunks=TEN, malformed_after=3), MalformedEventError),
}


@pytest.mark.parametrize("api", ["chat", "responses"])
@pytest.mark.parametrize("fault", sorted(FAULTS))
async def test_each_fault_maps_as_in_chat_completions(
    fake_server, sdk_provider, collect, say_hi, api, fault
) -> None:
    script, error_class = FAULTS[fault]
    fake_server.enqueue(dataclasses.replace(script))

    outcome = await collect(sdk_provider("openai", api=api), say_hi, MODEL)

    assert type(outcome.error) is error_class, repr(outcome.error)
    assert outcome.error.kind == error_class.default_kind
    assert (outcome.error.provider, outcome.error.model) == ("openai", MODEL)
    faults = (script.drop_after, script.cut_after, script.error_event_after, script.malformed_after)
    delivered = next((after for after in faults if after is not None), 0)
    assert outcome.texts == TEN[:delivered]
    if script.status is not None:
        assert outcome.error.status_code == script.status
    if script.retry_after is not None:
        assert outcome.error.retry_after == 2.0
    assert fake_server.requests[0].path == (RESPONSES_PATH if api == "responses" else CHAT_PATH)


async def test_a_failed_event_says_what_failed(fake_server, sdk_provider, collect, say_hi) -> None:
    fake_server.enqueue(
        Script(chunks=TEN, error_event_after=0, error_kind="server", error_message="GPU fell over")
    )

    outcome = await collect(responses(sdk_provider), say_hi, MODEL)

    assert isinstance(outcome.error, ServerError)
    assert "GPU fell over" in str(outcome.error)
    assert outcome.error.status_code is None
    assert outcome.texts == []


@pytest.mark.parametrize(
    "script",
    [
        Script(status=401),
        Script(status=500),
        Script(chunks=TEN, error_event_after=2, error_kind="server"),
        Script(chunks=TEN, error_event_after=2, error_kind="bad_request"),
    ],
    ids=["http_401", "http_500", "failed_event", "error_event"],
)
async def test_errors_never_carry_the_api_key(
    fake_server, sdk_provider, collect, say_hi, script
) -> None:
    key = TEST_KEYS["openai"]
    header = "Bearer CANARY-header-0123456789"
    script.error_message = f"Incorrect API key provided: {key}; proxy said {header}"
    fake_server.enqueue(script)
    provider = responses(sdk_provider, extra_headers={"Proxy-Authorization": header})

    outcome = await collect(provider, say_hi, MODEL)

    error = outcome.error
    assert error is not None
    seen = [str(error), repr(error), error.message, *map(str, error.args)]
    cause = error.__cause__
    while cause is not None:
        seen += [str(cause), repr(cause)]
        cause = cause.__cause__ or cause.__context__
    for text in seen:
        assert key not in text and header not in text, text
    assert "Incorrect API key provided" in str(error)
    # The key did reach the server, where it belongs.
    assert fake_server.requests[0].headers["Authorization"] == f"Bearer {key}"


async def test_closing_early_closes_the_response(fake_server, sdk_provider, say_hi) -> None:
    fake_server.enqueue(Script(chunks=TEN, chunk_delay=0.2))
    stream = responses(sdk_provider).stream(say_hi, MODEL)

    first = await asyncio.wait_for(stream.__anext__(), 5)
    await stream.aclose()

    assert first.text == TEN[0]
    rec = fake_server.requests[0]
    await rec.wait_done()
    assert rec.disconnected and rec.chunks_sent < len(TEN)


# -- the wire, as the SDK's own types read it --------------------------------------------------


@pytest.mark.parametrize(
    "script",
    [
        Script(
            reasoning="Let me see.",
            chunks=["Two ", "calls."],
            tool_calls=[
                ScriptedToolCall("get_weather", {"city": "Paris"}),
                ScriptedToolCall("get_time", {"zone": "CET"}),
            ],
            interleave_tool_calls=True,
            cache_tokens=(1, 2),
        ),
        Script(chunks=["Sure"], finish_reason="content_filter", shape={"unknown_fields"}),
        Script(chunks=["a"], finish_reason="length", send_usage=False),
        Script(chunks=TEN, error_event_after=2, error_kind="overloaded"),
        Script(chunks=TEN, error_event_after=2, error_kind="bad_request"),
    ],
    ids=["everything", "refusal", "length", "failed", "error"],
)
async def test_every_event_passes_the_sdks_strict_validation(
    fake_server: FakeProviderServer, script: Script
) -> None:
    fake_server.enqueue(script)
    client = openai.AsyncOpenAI(
        api_key=TEST_KEYS["openai"],
        base_url=fake_server.openai_base_url,
        max_retries=0,
        _strict_response_validation=True,
    )
    try:
        sdk_stream = await client.responses.create(model=MODEL, input="hi", stream=True)
        events = [event async for event in sdk_stream]
    finally:
        await client.close()

    kinds = [e.type for e in events]
    assert [e.sequence_number for e in events] == list(range(len(events)))
    assert kinds[:2] == ["response.created", "response.in_progress"]
    assert kinds[-1] in ("response.completed", "response.incomplete", "response.failed", "error")
    added = [e for e in events if e.type == "response.output_item.added"]
    done = [e for e in events if e.type == "response.output_item.done"]
    assert [e.output_index for e in added] == list(range(len(added)))
    assert sorted(e.output_index for e in done) == [e.output_index for e in added][: len(done)]
