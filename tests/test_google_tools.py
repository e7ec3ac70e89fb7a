"""Gemini tool calling through the real ``google-genai`` SDK, over HTTP to the fake server:
function declarations and the calling mode, whole function calls out (one at a time,
parallel, across chunks), tool results and thought signatures back."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import pytest

from llm_dispatch.content import TextPart, ToolCallPart, ToolResultPart
from llm_dispatch.errors import BadRequestError, ErrorKind
from llm_dispatch.events import ToolCallDelta
from llm_dispatch.request import Message
from llm_dispatch.testing import FakeProviderServer, Script
from llm_dispatch.testing.script import ScriptedToolCall
from llm_dispatch.testing.wire_google import call_signature
from llm_dispatch.tools import Tool, tool_from

pytestmark = [pytest.mark.usefixtures("clean_provider_env"), pytest.mark.stream_parsers]

MODEL = "gemini-test"
WEATHER_SCHEMA = {
    "type": "object",
    "properties": {"city": {"type": "string"}, "days": {"type": "integer", "minimum": 1}},
    "required": ["city"],
    "additionalProperties": False,
}
WEATHER = Tool(name="get_weather", description="The weather in a city.", parameters=WEATHER_SCHEMA)
TIME = Tool(name="get_time")


def tool_calls(events: list[Any]) -> list[ToolCallDelta]:
    return [e.tool_call for e in events if e.tool_call is not None]


def user(text: str) -> Message:
    return Message(role="user", content=text)


async def gemini_chunks(server: FakeProviderServer, answer: Script) -> list[dict[str, Any]]:
    """The chunks the fake server streams for ``answer``, read without the SDK."""
    server.enqueue(answer)
    url = f"{server.google_base_url}/v1beta/models/m:streamGenerateContent?alt=sse"
    body = {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}
    async with aiohttp.ClientSession() as session, session.post(url, json=body) as response:
        raw = (await response.read()).decode().replace("\r\n", "\n")
    return [json.loads(block.removeprefix("data: ")) for block in filter(None, raw.split("\n\n"))]


def function_calls(chunk: dict[str, Any]) -> list[str]:
    parts = chunk.get("candidates", [{}])[0].get("content", {}).get("parts", [])
    return [p["functionCall"]["name"] for p in parts if "functionCall" in p]


# -- tools and tool choice in ---------------------------------------------------------------


async def test_tools_are_function_declarations_with_the_json_schema_as_is(
    fake_server, sdk_provider, collect, ask
) -> None:
    outcome = await collect(sdk_provider("google"), ask(tools=(WEATHER, TIME)), MODEL)

    assert outcome.error is None
    recorded = fake_server.requests[0]
    assert recorded.tools == [
        {
            "name": "get_weather",
            "description": "The weather in a city.",
            "parameters": WEATHER_SCHEMA,
        },
        {"name": "get_time", "description": "", "parameters": {"type": "object", "properties": {}}},
    ]
    (tool,) = recorded.body["tools"]
    declarations = tool.get("functionDeclarations", tool.get("function_declarations"))
    # The JSON schema field, not the OpenAPI ``parameters`` schema; no empty description.
    assert [sorted(d) for d in declarations] == [
        ["description", "name", "parameters_json_schema"],
        ["name", "parameters_json_schema"],
    ]
    assert "toolConfig" not in recorded.body


@pytest.mark.parametrize(
    ("choice", "config"),
    [
        ("auto", {"mode": "AUTO"}),
        ("none", {"mode": "NONE"}),
        ("required", {"mode": "ANY"}),
        ("get_time", {"mode": "ANY", "allowedFunctionNames": ["get_time"]}),
    ],
)
async def test_tool_choice_is_the_function_calling_mode(
    fake_server, sdk_provider, collect, ask, choice, config
) -> None:
    request = ask(tools=(WEATHER, TIME), tool_choice=choice)

    outcome = await collect(sdk_provider("google"), request, MODEL)

    assert outcome.error is None
    assert fake_server.requests[0].tool_choice == config


async def test_tool_choice_none_without_tools_sends_no_tool_config(
    fake_server, sdk_provider, collect, ask
) -> None:
    outcome = await collect(sdk_provider("google"), ask(tool_choice="none"), MODEL)

    assert outcome.error is None
    assert "toolConfig" not in fake_server.requests[0].body
    assert "tools" not in fake_server.requests[0].body


@pytest.mark.parametrize(
    ("fields", "why"),
    [
        ({"tool_choice": "required"}, "needs tools"),
        ({"tools": (WEATHER,), "tool_choice": "get_time"}, "names no tool"),
        ({"tools": (Tool(name="9lives"),)}, "starts with a letter"),
    ],
    ids=["required-without-tools", "unknown-name", "bad-function-name"],
)
async def test_what_gemini_cannot_take_is_refused_before_sending(
    fake_server, sdk_provider, collect, ask, fields, why
) -> None:
    outcome = await collect(sdk_provider("google"), ask(**fields), MODEL)

    assert isinstance(outcome.error, BadRequestError)
    assert why in outcome.error.message
    assert fake_server.requests == []


async def test_the_sdk_never_runs_a_python_tool_itself(
    fake_server, sdk_provider, collect, ask
) -> None:
    ran: list[str] = []

    def get_weather(city: str) -> str:
        """The weather in a city."""
        ran.append(city)
        return "sunny"

    fake_server.enqueue(Script(tool_calls=[ScriptedToolCall("get_weather", {"city": "Oslo"})]))
    request = ask(tools=(tool_from(get_weather, "tools[0]"),))

    outcome = await collect(sdk_provider("google"), request, MODEL)

    assert outcome.error is None
    assert [c.name for c in tool_calls(outcome.events)] == ["get_weather"]
    assert ran == []
    assert len(fake_server.requests) == 1


# -- tool calls out ---------------------------------------------------------------------------


async def test_one_call_is_one_whole_delta_and_finishes_as_tool_calls(
    fake_server, sdk_provider, collect, ask
) -> None:
    call = ScriptedToolCall("get_weather", {"city": "Paris", "days": 2})
    fake_server.enqueue(Script(tool_calls=[call]))

    outcome = await collect(sdk_provider("google"), ask(tools=(WEATHER,)), MODEL)

    assert outcome.error is None
    assert outcome.texts == []
    (delta,) = tool_calls(outcome.events)
    assert (delta.index, delta.id, delta.name) == (0, None, "get_weather")
    assert json.loads(delta.arguments) == {"city": "Paris", "days": 2}
    assert delta.signature == call_signature(call)
    assert outcome.final.finish_reason == "tool_calls"


async def test_the_id_gemini_gives_a_call_is_kept(fake_server, sdk_provider, collect, ask) -> None:
    fake_server.enqueue(Script(tool_calls=[ScriptedToolCall("get_time", id="fc-7")]))

    outcome = await collect(sdk_provider("google"), ask(tools=(TIME,)), MODEL)

    (delta,) = tool_calls(outcome.events)
    assert (delta.id, delta.name, json.loads(delta.arguments)) == ("fc-7", "get_time", {})


PARALLEL = [
    ScriptedToolCall("get_weather", {"city": "Rome"}, pieces=1),
    ScriptedToolCall("get_time", {}, id="t1", pieces=1),
]
ACROSS = [
    ScriptedToolCall("get_weather", {"city": "Rome"}),
    ScriptedToolCall("get_weather", {"city": "Lima"}, id="w2"),
]


@pytest.mark.parametrize(
    ("calls", "chunks"),
    [(PARALLEL, [["get_weather", "get_time"]]), (ACROSS, [["get_weather"], ["get_weather"]])],
    ids=["in-one-chunk", "across-chunks"],
)
async def test_parallel_calls_stay_apart(
    fake_server, sdk_provider, collect, ask, calls, chunks
) -> None:
    sent = await gemini_chunks(fake_server, Script(text="Checking.", tool_calls=calls))
    assert [function_calls(c) for c in sent if function_calls(c)] == chunks
    fake_server.enqueue(Script(text="Checking.", tool_calls=calls))

    outcome = await collect(sdk_provider("google"), ask(tools=(WEATHER, TIME)), MODEL)

    assert outcome.error is None
    assert outcome.texts == ["Checking."]
    deltas = tool_calls(outcome.events)
    assert [(d.index, d.id, d.name) for d in deltas] == [
        (i, c.id, c.name) for i, c in enumerate(calls)
    ]
    assert [json.loads(d.arguments) for d in deltas] == [c.arguments for c in calls]
    # Gemini signs the first call of a step only.
    assert [d.signature for d in deltas] == [call_signature(calls[0]), None]
    assert outcome.final.finish_reason == "tool_calls"


async def test_text_after_tools_were_offered_finishes_as_stop(
    fake_server, sdk_provider, collect, ask
) -> None:
    fake_server.enqueue(Script(text="No tool needed."))

    outcome = await collect(sdk_provider("google"), ask(tools=(WEATHER,)), MODEL)

    assert tool_calls(outcome.events) == []
    assert outcome.final.finish_reason == "stop"


async def test_a_drop_after_a_tool_call_step_is_a_provider_error(
    fake_server, sdk_provider, collect, ask
) -> None:
    calls = [
        ScriptedToolCall("get_time", pieces=1),
        ScriptedToolCall("get_weather", {"city": "Kyiv"}, pieces=3),
    ]
    # Steps: get_time (whole), then get_weather's three pieces; drop before its second.
    fake_server.enqueue(Script(tool_calls=calls, drop_after=2))

    outcome = await collect(sdk_provider("google"), ask(tools=(WEATHER, TIME)), MODEL)

    assert [d.name for d in tool_calls(outcome.events)] == ["get_time"]
    assert outcome.error is not None
    assert outcome.error.kind is ErrorKind.CONNECTION
    assert all(e.finish_reason is None for e in outcome.events)


# -- tool calls and results back --------------------------------------------------------------


def conversation(*calls: ToolCallPart, results: tuple[ToolResultPart, ...]) -> tuple[Message, ...]:
    """A user question, the model's turn with ``calls``, one tool turn per result."""
    return (
        user("Weather in Rome and Lima?"),
        Message(role="assistant", content=(TextPart(text="Checking both."), *calls)),
        *(Message(role="tool", content=(r,)) for r in results),
    )


async def test_tool_calls_and_results_round_trip(fake_server, sdk_provider, collect, ask) -> None:
    calls = (
        ToolCallPart(id="w1", name="get_weather", arguments={"city": "Rome"}),
        ToolCallPart(id="w2", name="get_weather", arguments={"city": "Lima"}),
    )
    results = (
        ToolResultPart(tool_call_id="w1", name="get_weather", content="22 C, sunny"),
        ToolResultPart(
            tool_call_id="w2", name="get_weather", content="no such city", is_error=True
        ),
    )

    outcome = await collect(
        sdk_provider("google"), ask(*conversation(*calls, results=results), tools=(WEATHER,)), MODEL
    )

    assert outcome.error is None
    recorded = fake_server.requests[0]
    # Both results are one user turn, right after the model's.
    assert [m["role"] for m in recorded.messages] == ["user", "assistant", "tool"]
    assert recorded.parts[1] == [
        {"type": "text", "text": "Checking both."},
        {"type": "tool_call", "id": "w1", "name": "get_weather", "arguments": {"city": "Rome"}},
        {"type": "tool_call", "id": "w2", "name": "get_weather", "arguments": {"city": "Lima"}},
    ]
    assert recorded.parts[2] == [
        {
            "type": "tool_result",
            "tool_call_id": "w1",
            "name": "get_weather",
            "content": "22 C, sunny",
            "is_error": False,
        },
        {
            "type": "tool_result",
            "tool_call_id": "w2",
            "name": "get_weather",
            "content": "no such city",
            "is_error": True,
        },
    ]
    responses = [p["functionResponse"] for p in recorded.body["contents"][2]["parts"]]
    assert [r["response"] for r in responses] == [
        {"result": "22 C, sunny"},
        {"error": "no such city"},
    ]


async def test_a_thought_signature_goes_back_with_its_call(
    fake_server, sdk_provider, collect, ask
) -> None:
    provider = sdk_provider("google")
    fake_server.enqueue(Script(tool_calls=[ScriptedToolCall("get_weather", {"city": "Rome"})]))
    first = await collect(provider, ask(user("Rome?"), tools=(WEATHER,)), MODEL)
    (delta,) = tool_calls(first.events)
    assert delta.signature is not None
    call = ToolCallPart(
        id="w1",
        name=delta.name or "",
        arguments=json.loads(delta.arguments),
        signature=delta.signature,
    )
    result = ToolResultPart(tool_call_id="w1", name="get_weather", content="sunny")

    second = await collect(
        provider, ask(*conversation(call, results=(result,)), tools=(WEATHER,)), MODEL
    )

    assert second.error is None
    model_turn = fake_server.requests[1].body["contents"][1]
    assert model_turn["role"] == "model"
    signed = [p for p in model_turn["parts"] if "functionCall" in p]
    assert [p.get("thoughtSignature") for p in signed] == [delta.signature]


async def test_a_signature_that_is_not_base64_is_refused(
    fake_server, sdk_provider, collect, ask
) -> None:
    call = ToolCallPart(id="w1", name="get_weather", arguments={}, signature="not base64!")
    result = ToolResultPart(tool_call_id="w1", name="get_weather", content="sunny")

    outcome = await collect(
        sdk_provider("google"), ask(*conversation(call, results=(result,))), MODEL
    )

    assert isinstance(outcome.error, BadRequestError)
    assert "base64" in outcome.error.message
    assert fake_server.requests == []


@pytest.mark.parametrize(
    "shape",
    [("sparse",), ("unknown_fields",), ("unknown_events", "partial_usage")],
    ids=["sparse", "unknown-fields", "unknown-events"],
)
async def test_calls_read_the_same_in_every_shape(
    fake_server, sdk_provider, collect, ask, shape
) -> None:
    fake_server.enqueue(
        Script(reasoning="Two lookups.", text="Checking.", tool_calls=PARALLEL, shape=shape)
    )

    outcome = await collect(sdk_provider("google"), ask(tools=(WEATHER, TIME)), MODEL)

    assert outcome.error is None
    assert "".join(e.reasoning for e in outcome.events) == "Two lookups."
    assert outcome.texts == ["Checking."]
    deltas = tool_calls(outcome.events)
    assert [(d.index, d.id, d.name, json.loads(d.arguments)) for d in deltas] == [
        (0, None, "get_weather", {"city": "Rome"}),
        (1, "t1", "get_time", {}),
    ]
    assert outcome.final.finish_reason == "tool_calls"
    assert outcome.final.usage is not None and outcome.final.usage.reasoning_tokens == 2
