"""Tools through OpenAIProvider and the official ``openai`` SDK, over real HTTP: the tools and
tool choice sent, tool calls streamed back as deltas, tool results sent in the history."""

from __future__ import annotations

import json
from typing import Any

import pytest
from openai_raw import chunk, raw_chat_server

from llm_dispatch.content import ReasoningPart, TextPart, ToolCallPart, ToolResultPart
from llm_dispatch.errors import BadRequestError, ProviderError
from llm_dispatch.events import ProviderEvent, ToolCallDelta
from llm_dispatch.request import Message
from llm_dispatch.testing import Script
from llm_dispatch.testing.parts import tool_call, tool_result
from llm_dispatch.testing.script import ScriptedToolCall
from llm_dispatch.tools import Tool

# Every test here that builds an openai provider runs under each of its stream parsers.
pytestmark = [pytest.mark.usefixtures("clean_provider_env"), pytest.mark.stream_parsers]

MODEL = "gpt-test"
WEATHER = Tool(
    name="get_weather",
    description="The weather in a city.",
    parameters={
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    },
)
CLOCK = Tool(name="get_time")  # no description, the default (empty) parameters


def tool_deltas(events: list[ProviderEvent]) -> list[ToolCallDelta]:
    return [e.tool_call for e in events if e.tool_call is not None]


def arguments_of(deltas: list[ToolCallDelta], index: int) -> str:
    return "".join(d.arguments for d in deltas if d.index == index)


# -- tools and tool_choice in -----------------------------------------------------------------


async def test_tools_are_sent_as_functions(fake_server, sdk_provider, collect, ask) -> None:
    outcome = await collect(sdk_provider("openai"), ask(tools=(WEATHER, CLOCK)), MODEL)

    assert outcome.error is None
    body = fake_server.requests[0].body
    assert body["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "description": "The weather in a city.",
                "parameters": WEATHER.parameters,
            },
        },
        # An empty description is left out.
        {
            "type": "function",
            "function": {"name": "get_time", "parameters": {"type": "object", "properties": {}}},
        },
    ]
    assert "tool_choice" not in body
    assert fake_server.requests[0].tools == [
        {
            "name": "get_weather",
            "description": "The weather in a city.",
            "parameters": WEATHER.parameters,
        },
        {
            "name": "get_time",
            "description": None,
            "parameters": {"type": "object", "properties": {}},
        },
    ]


@pytest.mark.parametrize(
    ("choice", "sent"),
    [
        ("auto", "auto"),
        ("none", "none"),
        ("required", "required"),
        ("get_time", {"type": "function", "function": {"name": "get_time"}}),
    ],
)
async def test_each_tool_choice_is_sent_in_the_apis_form(
    fake_server, sdk_provider, collect, ask, choice, sent
) -> None:
    request = ask(tools=(WEATHER, CLOCK), tool_choice=choice)

    outcome = await collect(sdk_provider("openai"), request, MODEL)

    assert outcome.error is None
    assert fake_server.requests[0].body["tool_choice"] == sent
    assert fake_server.requests[0].tool_choice == sent


async def test_a_choice_that_names_no_tool_is_refused_before_sending(
    fake_server, sdk_provider, collect, ask
) -> None:
    outcome = await collect(
        sdk_provider("openai"), ask(tools=(WEATHER,), tool_choice="get_time"), MODEL
    )

    assert isinstance(outcome.error, BadRequestError)
    assert "'get_time'" in outcome.error.message and "'get_weather'" in outcome.error.message
    assert fake_server.requests == []


@pytest.mark.parametrize("choice", ["auto", "required", "get_time"])
async def test_a_tool_choice_without_tools_is_refused(
    fake_server, sdk_provider, collect, ask, choice
) -> None:
    outcome = await collect(sdk_provider("openai"), ask(tool_choice=choice), MODEL)

    assert isinstance(outcome.error, BadRequestError)
    assert "needs tools" in outcome.error.message
    assert fake_server.requests == []


async def test_tool_choice_none_without_tools_sends_neither(
    fake_server, sdk_provider, collect, ask
) -> None:
    outcome = await collect(sdk_provider("openai"), ask(tool_choice="none"), MODEL)

    assert outcome.error is None
    body = fake_server.requests[0].body
    assert "tools" not in body and "tool_choice" not in body


# -- tool calls out ---------------------------------------------------------------------------


async def test_one_tool_call_arrives_in_pieces(fake_server, sdk_provider, collect, say_hi) -> None:
    arguments = {"city": "Paris", "unit": "celsius"}
    fake_server.enqueue(Script(tool_calls=[ScriptedToolCall("get_weather", arguments, pieces=3)]))

    outcome = await collect(sdk_provider("openai"), say_hi, MODEL)

    assert outcome.error is None
    assert outcome.texts == []
    deltas = tool_deltas(outcome.events)
    text = json.dumps(arguments, separators=(",", ":"))
    assert len(deltas) == 3
    assert [(d.index, d.id, d.name) for d in deltas] == [
        (0, "call_0", "get_weather"),
        (0, None, None),
        (0, None, None),
    ]
    assert all(d.arguments for d in deltas)
    assert arguments_of(deltas, 0) == text
    assert outcome.final.finish_reason == "tool_calls"
    # Every event carries one thing only.
    assert all(e.text == "" and e.reasoning == "" for e in outcome.events if e.tool_call)


async def test_text_then_a_call_with_its_own_id(fake_server, sdk_provider, collect, say_hi) -> None:
    call = ScriptedToolCall("get_time", "{}", id="call_abc", pieces=1)
    fake_server.enqueue(Script(chunks=["Let me ", "check."], tool_calls=[call]))

    outcome = await collect(sdk_provider("openai"), say_hi, MODEL)

    assert outcome.texts == ["Let me ", "check."]
    assert tool_deltas(outcome.events) == [ToolCallDelta(0, "call_abc", "get_time", "{}")]
    assert outcome.final.finish_reason == "tool_calls"


async def test_parallel_calls_interleaved_stay_apart(
    fake_server, sdk_provider, collect, say_hi
) -> None:
    calls = [
        ScriptedToolCall("get_weather", '{"city":"Oslo"}', pieces=3),
        ScriptedToolCall("get_time", '{"tz":"UTC"}', pieces=2),
    ]
    fake_server.enqueue(Script(tool_calls=calls, interleave_tool_calls=True))

    outcome = await collect(sdk_provider("openai"), say_hi, MODEL)

    assert outcome.error is None
    assert tool_deltas(outcome.events) == [
        ToolCallDelta(0, "call_0", "get_weather", '{"cit'),
        ToolCallDelta(1, "call_1", "get_time", '{"tz":'),
        ToolCallDelta(0, None, None, 'y":"O'),
        ToolCallDelta(1, None, None, '"UTC"}'),
        ToolCallDelta(0, None, None, 'slo"}'),
    ]
    assert outcome.final.finish_reason == "tool_calls"


async def test_stop_after_tool_calls_is_a_tool_calls_finish(sdk_provider, collect, say_hi) -> None:
    # Some compatible servers finish an answer of tool calls with "stop".
    call = {"index": 0, "id": "c1", "type": "function", "function": {"name": "get_time"}}
    chunks = [chunk({"role": "assistant", "tool_calls": [call]}), chunk({}, "stop")]
    async with raw_chat_server(chunks) as server:
        outcome = await collect(sdk_provider("openai", base_url=server.base_url), say_hi, MODEL)

    assert tool_deltas(outcome.events) == [ToolCallDelta(0, "c1", "get_time", "")]
    assert outcome.final.finish_reason == "tool_calls"


async def test_stop_without_tool_calls_stays_stop(sdk_provider, collect, say_hi) -> None:
    chunks = [chunk({"role": "assistant", "content": "Hi"}), chunk({}, "stop")]
    async with raw_chat_server(chunks) as server:
        outcome = await collect(sdk_provider("openai", base_url=server.base_url), say_hi, MODEL)

    assert outcome.final.finish_reason == "stop"


async def test_a_drop_after_a_tool_call_piece_is_a_provider_error(
    fake_server, sdk_provider, collect, say_hi
) -> None:
    call = ScriptedToolCall("get_weather", {"city": "Rome"}, pieces=3)
    fake_server.enqueue(Script(tool_calls=[call], drop_after=1))

    outcome = await collect(sdk_provider("openai"), say_hi, MODEL)

    assert isinstance(outcome.error, ProviderError)
    assert outcome.error.kind == "connection"
    assert tool_deltas(outcome.events) == [ToolCallDelta(0, "call_0", "get_weather", '{"cit')]
    assert all(e.finish_reason is None for e in outcome.events)


async def test_the_legacy_function_call_is_call_zero(sdk_provider, collect, say_hi) -> None:
    chunks = [
        chunk({"role": "assistant", "content": None, "function_call": {"name": "get_time"}}),
        chunk({"function_call": {"arguments": '{"tz":'}}),
        chunk({"function_call": {"arguments": '"UTC"}'}}),
        chunk({}, "function_call"),
    ]
    async with raw_chat_server(chunks) as server:
        provider = sdk_provider("openai", base_url=server.base_url)
        outcome = await collect(provider, say_hi, MODEL)

    assert outcome.error is None
    assert tool_deltas(outcome.events) == [
        ToolCallDelta(0, None, "get_time", ""),
        ToolCallDelta(0, None, None, '{"tz":'),
        ToolCallDelta(0, None, None, '"UTC"}'),
    ]
    assert outcome.final.finish_reason == "tool_calls"


async def test_calls_a_server_puts_at_one_index_are_told_apart_by_id(
    sdk_provider, collect, say_hi
) -> None:
    def piece(**fields: Any) -> dict[str, Any]:
        return chunk({"tool_calls": [{"index": 0, **fields}]})

    chunks = [
        piece(id="a", type="function", function={"name": "get_time", "arguments": "{}"}),
        piece(id="b", type="function", function={"name": "get_weather", "arguments": '{"ci'}),
        # The id again, with the next piece: still call "b", whose id was given already.
        piece(id="b", function={"arguments": 'ty":"Rome"}'}),
        chunk({}, "tool_calls"),
    ]
    async with raw_chat_server(chunks) as server:
        outcome = await collect(sdk_provider("openai", base_url=server.base_url), say_hi, MODEL)

    assert tool_deltas(outcome.events) == [
        ToolCallDelta(0, "a", "get_time", "{}"),
        ToolCallDelta(1, "b", "get_weather", '{"ci'),
        ToolCallDelta(1, None, None, 'ty":"Rome"}'),
    ]


# -- tool calls and results in the history ----------------------------------------------------


def tool_conversation() -> tuple[Message, ...]:
    return (
        Message(role="user", content="Weather in Paris and the time?"),
        Message(
            role="assistant",
            content=(
                ReasoningPart(text="Two tools.", signature="sig", provider_kind="anthropic"),
                TextPart(text="Checking."),
                ToolCallPart(id="call_1", name="get_weather", arguments={"city": "Paris"}),
                ToolCallPart(id="call_2", name="get_time", arguments={}, signature="gem"),
            ),
        ),
        Message(
            role="tool",
            content=(
                ToolResultPart(tool_call_id="call_1", name="get_weather", content="18 C"),
                ToolResultPart(
                    tool_call_id="call_2", name="get_time", content="clock down", is_error=True
                ),
            ),
        ),
    )


async def test_a_tool_round_trip_is_sent_as_chat_messages(
    fake_server, sdk_provider, collect, ask
) -> None:
    outcome = await collect(
        sdk_provider("openai"), ask(*tool_conversation(), tools=(WEATHER, CLOCK)), MODEL
    )

    assert outcome.error is None
    recorded = fake_server.requests[0]
    assert recorded.body["messages"] == [
        {"role": "user", "content": "Weather in Paris and the time?"},
        {
            "role": "assistant",
            "content": "Checking.",
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
                },
                {
                    "id": "call_2",
                    "type": "function",
                    "function": {"name": "get_time", "arguments": "{}"},
                },
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "18 C"},
        {"role": "tool", "tool_call_id": "call_2", "content": "Error: clock down"},
    ]
    assert recorded.parts[1:] == [
        [
            {"type": "text", "text": "Checking."},
            tool_call("call_1", "get_weather", {"city": "Paris"}),
            tool_call("call_2", "get_time", {}),
        ],
        [tool_result("call_1", None, "18 C")],
        [tool_result("call_2", None, "Error: clock down")],
    ]
    assert [m["role"] for m in recorded.messages] == ["user", "assistant", "tool", "tool"]


async def test_an_assistant_turn_of_calls_only_has_null_content(
    fake_server, sdk_provider, collect, ask
) -> None:
    turns = (
        Message(role="user", content="Time?"),
        Message(role="assistant", content=(ToolCallPart(id="c", name="get_time"),)),
        Message(
            role="tool",
            content=(ToolResultPart(tool_call_id="c", name="get_time", content="noon"),),
        ),
    )

    await collect(sdk_provider("openai"), ask(*turns, tools=(CLOCK,)), MODEL)

    assistant = fake_server.requests[0].body["messages"][1]
    assert assistant["content"] is None
    assert [c["id"] for c in assistant["tool_calls"]] == ["c"]


async def test_reasoning_parts_are_not_sent_back(fake_server, sdk_provider, collect, ask) -> None:
    turns = (
        Message(role="user", content="Hi"),
        Message(
            role="assistant",
            content=(
                ReasoningPart(text="greet back", provider_kind="openai"),
                TextPart(text="Hello"),
            ),
        ),
        Message(role="user", content="Again"),
    )

    await collect(sdk_provider("openai"), ask(*turns), MODEL)

    assert fake_server.requests[0].body["messages"][1] == {"role": "assistant", "content": "Hello"}
    assert "greet back" not in json.dumps(fake_server.requests[0].body)


async def test_repeated_ids_names_and_empty_pieces_give_nothing_new(
    sdk_provider, collect, say_hi
) -> None:
    def piece(**fields: Any) -> dict[str, Any]:
        return chunk({"tool_calls": [fields]})

    weather = {"name": "get_weather"}
    chunks = [
        piece(index=0, id="a", type="function", function={**weather, "arguments": ""}),
        # A server that repeats the id and name on every piece.
        piece(index=0, id="a", type="function", function={**weather, "arguments": '{"city"'}),
        piece(index=1, id="b", type="function", function={"name": "get_time"}),
        piece(index=1, function={"arguments": ""}),  # says nothing
        # No index: the piece continues the call of the piece before it.
        piece(function={"arguments": "{}"}),
        piece(index=0, id="a", function={**weather, "arguments": ':"Rome"}'}),
        chunk({}, "tool_calls"),
    ]
    async with raw_chat_server(chunks) as server:
        outcome = await collect(sdk_provider("openai", base_url=server.base_url), say_hi, MODEL)

    assert tool_deltas(outcome.events) == [
        ToolCallDelta(0, "a", "get_weather", ""),
        ToolCallDelta(0, None, None, '{"city"'),
        ToolCallDelta(1, "b", "get_time", ""),
        ToolCallDelta(1, None, None, "{}"),
        ToolCallDelta(0, None, None, ':"Rome"}'),
    ]
