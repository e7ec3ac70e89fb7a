"""Anthropic tools, tool calls and tool results through the real ``anthropic`` SDK and the
fake server."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import pytest

from llm_dispatch.content import TextPart, ToolCallPart, ToolResultPart
from llm_dispatch.errors import BadRequestError, ProviderError
from llm_dispatch.events import ProviderEvent, ToolCallDelta, Usage
from llm_dispatch.request import Message
from llm_dispatch.testing import FakeProviderServer, Script, parts
from llm_dispatch.testing.script import ScriptedToolCall
from llm_dispatch.tools import Tool

# Every test here that builds an anthropic provider runs under each of its stream parsers.
pytestmark = [pytest.mark.usefixtures("clean_provider_env"), pytest.mark.stream_parsers]

MODEL = "claude-test"
WEATHER_SCHEMA = {
    "type": "object",
    "properties": {"city": {"type": "string"}, "unit": {"type": "string"}},
    "required": ["city"],
}
WEATHER = Tool(name="get_weather", description="The weather in a city.", parameters=WEATHER_SCHEMA)
CLOCK = Tool(name="get_time")  # no description, no parameters


def tool_use(call_id: str, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    return {"type": "tool_use", "id": call_id, "name": name, "input": arguments}


def tool_result(call_id: str, content: str, *, is_error: bool) -> dict[str, Any]:
    return {"type": "tool_result", "tool_use_id": call_id, "content": content, "is_error": is_error}


def deltas(events: list[ProviderEvent]) -> list[ToolCallDelta]:
    return [e.tool_call for e in events if e.tool_call is not None]


def arguments(events: list[ProviderEvent], call: int) -> str:
    return "".join(d.arguments for d in deltas(events) if d.index == call)


@pytest.mark.parametrize(
    ("choice", "sent"),
    [
        ("auto", {"type": "auto"}),
        ("none", {"type": "none"}),
        ("required", {"type": "any"}),
        ("get_time", {"type": "tool", "name": "get_time"}),
    ],
)
async def test_tools_and_each_tool_choice_reach_the_wire(
    fake_server, sdk_provider, collect, ask, choice, sent
) -> None:
    request = ask(tools=(WEATHER, CLOCK), tool_choice=choice)

    outcome = await collect(sdk_provider("anthropic"), request, MODEL)

    assert outcome.error is None
    rec = fake_server.requests[0]
    assert rec.body["tools"] == [
        {
            "name": "get_weather",
            "description": "The weather in a city.",
            "input_schema": WEATHER_SCHEMA,
        },
        {"name": "get_time", "input_schema": {"type": "object", "properties": {}}},
    ]
    assert rec.body["tool_choice"] == sent
    assert rec.tool_choice == sent
    assert rec.tools == [
        {"name": t.name, "description": t.description, "parameters": t.parameters}
        for t in (WEATHER, CLOCK)
    ]


async def test_no_tool_choice_and_none_without_tools_send_nothing(
    fake_server, sdk_provider, collect, ask
) -> None:
    provider = sdk_provider("anthropic")
    await collect(provider, ask(tools=(WEATHER,)), MODEL)
    await collect(provider, ask(tool_choice="none"), MODEL)

    with_tools, without = (r.body for r in fake_server.requests)
    assert "tool_choice" not in with_tools and len(with_tools["tools"]) == 1
    assert "tool_choice" not in without and "tools" not in without


async def test_one_tool_call_is_reassembled_from_its_pieces(
    fake_server, sdk_provider, collect, ask
) -> None:
    call_args = {"city": "Paris", "unit": "celsius"}
    fake_server.enqueue(
        Script(tool_calls=[ScriptedToolCall("get_weather", call_args, id="toolu_01", pieces=3)])
    )

    outcome = await collect(sdk_provider("anthropic"), ask(tools=(WEATHER,)), MODEL)

    assert outcome.error is None
    assert outcome.texts == []
    first, *pieces = deltas(outcome.events)
    assert first == ToolCallDelta(0, id="toolu_01", name="get_weather")
    assert len(pieces) == 3
    assert all(d.index == 0 and d.id is None and d.name is None for d in pieces)
    assert json.loads(arguments(outcome.events, 0)) == call_args
    assert outcome.final.finish_reason == "tool_calls"
    assert outcome.final.tool_call is None and outcome.final.text == ""


async def test_two_parallel_calls_after_text_stay_apart(
    fake_server, sdk_provider, collect, ask
) -> None:
    calls = [
        ScriptedToolCall("get_weather", '{"city":"Oslo"}', id="toolu_a", pieces=2),
        ScriptedToolCall("get_time", "{}", id="toolu_b", pieces=1),
    ]
    fake_server.enqueue(Script(chunks=["Let me", " check."], tool_calls=calls))

    outcome = await collect(sdk_provider("anthropic"), ask(tools=(WEATHER, CLOCK)), MODEL)

    assert outcome.error is None
    # The text block is block 0, so the calls are blocks 1 and 2: the indexes are the calls'.
    assert [e.text or e.tool_call for e in outcome.events[:-1]] == [
        "Let me",
        " check.",
        ToolCallDelta(0, id="toolu_a", name="get_weather"),
        ToolCallDelta(0, arguments='{"city":'),
        ToolCallDelta(0, arguments='"Oslo"}'),
        ToolCallDelta(1, id="toolu_b", name="get_time"),
        ToolCallDelta(1, arguments="{}"),
    ]
    assert outcome.final.finish_reason == "tool_calls"


async def test_interleaved_blocks_are_told_apart_by_block_index(
    fake_server, sdk_provider, collect, ask
) -> None:
    calls = [
        ScriptedToolCall("get_weather", '{"city":"Rome"}', id="toolu_a", pieces=2),
        ScriptedToolCall("get_weather", '{"city":"Lima"}', id="toolu_b", pieces=2),
    ]
    fake_server.enqueue(Script(text="Two cities.", tool_calls=calls, interleave_tool_calls=True))

    outcome = await collect(sdk_provider("anthropic"), ask(tools=(WEATHER,)), MODEL)

    assert outcome.error is None
    assert [d.index for d in deltas(outcome.events)] == [0, 0, 1, 1, 0, 1]
    assert json.loads(arguments(outcome.events, 0)) == {"city": "Rome"}
    assert json.loads(arguments(outcome.events, 1)) == {"city": "Lima"}


async def test_the_wire_puts_each_call_in_a_block_after_the_text(
    fake_server: FakeProviderServer,
) -> None:
    call = ScriptedToolCall("get_time", "{}", id="toolu_t", pieces=1)
    fake_server.enqueue(Script(chunks=["Hm."], tool_calls=[call]))
    body = {"model": "m", "max_tokens": 9, "messages": [{"role": "user", "content": "hi"}]}
    url = f"{fake_server.anthropic_base_url}/v1/messages"
    async with aiohttp.ClientSession() as session, session.post(url, json=body) as response:
        raw = (await response.read()).decode()
    events = [json.loads(line[6:]) for line in raw.splitlines() if line.startswith("data: ")]
    blocks = [
        (e["type"], e["index"], e.get("content_block", e.get("delta", {})).get("type"))
        for e in events
        if e["type"].startswith("content_block")
    ]

    assert blocks == [
        ("content_block_start", 0, "text"),
        ("content_block_delta", 0, "text_delta"),
        ("content_block_stop", 0, None),
        ("content_block_start", 1, "tool_use"),
        ("content_block_delta", 1, "input_json_delta"),
        ("content_block_stop", 1, None),
    ]
    assert events[-2]["delta"]["stop_reason"] == "tool_use"


async def test_a_call_without_arguments_has_empty_object_arguments(
    fake_server, sdk_provider, collect, ask
) -> None:
    # A tool without parameters: the API streams one input_json_delta with "".
    fake_server.enqueue(Script(tool_calls=[ScriptedToolCall("get_time", "", id="toolu_c")]))

    outcome = await collect(sdk_provider("anthropic"), ask(tools=(CLOCK,)), MODEL)

    assert outcome.error is None
    assert deltas(outcome.events) == [
        ToolCallDelta(0, id="toolu_c", name="get_time"),
        ToolCallDelta(0, arguments="{}"),
    ]


async def test_tool_results_round_trip_merged_with_the_next_user_turn(
    fake_server, sdk_provider, collect, ask
) -> None:
    request = ask(
        Message(role="user", content="Weather in Paris and the time?"),
        Message(
            role="assistant",
            content=(
                TextPart(text="Checking."),
                ToolCallPart(id="toolu_1", name="get_weather", arguments={"city": "Paris"}),
                ToolCallPart(id="toolu_2", name="get_time"),
            ),
        ),
        Message(
            role="tool",
            content=(
                ToolResultPart(tool_call_id="toolu_1", name="get_weather", content="18C, sunny"),
                ToolResultPart(
                    tool_call_id="toolu_2", name="get_time", content="clock down", is_error=True
                ),
            ),
        ),
        Message(role="user", content="Thanks. And tomorrow?"),
        tools=(WEATHER, CLOCK),
    )

    outcome = await collect(sdk_provider("anthropic"), request, MODEL)

    assert outcome.error is None
    rec = fake_server.requests[0]
    assert rec.body["messages"] == [
        {"role": "user", "content": "Weather in Paris and the time?"},
        {
            "role": "assistant",
            "content": [
                {"type": "text", "text": "Checking."},
                tool_use("toolu_1", "get_weather", {"city": "Paris"}),
                tool_use("toolu_2", "get_time", {}),
            ],
        },
        {
            "role": "user",
            "content": [
                tool_result("toolu_1", "18C, sunny", is_error=False),
                tool_result("toolu_2", "clock down", is_error=True),
                {"type": "text", "text": "Thanks. And tomorrow?"},
            ],
        },
    ]
    assert [m["role"] for m in rec.messages] == ["user", "assistant", "user"]
    assert rec.parts[1][1:] == [
        parts.tool_call("toolu_1", "get_weather", {"city": "Paris"}),
        parts.tool_call("toolu_2", "get_time", {}),
    ]
    assert rec.parts[2] == [
        parts.tool_result("toolu_1", None, "18C, sunny", is_error=False),
        parts.tool_result("toolu_2", None, "clock down", is_error=True),
        parts.text("Thanks. And tomorrow?"),
    ]
    assert rec.prompt == "Thanks. And tomorrow?"


async def test_consecutive_tool_turns_are_one_user_message_recorded_as_tool(
    fake_server, sdk_provider, collect, ask
) -> None:
    def result(call_id: str) -> Message:
        part = ToolResultPart(tool_call_id=call_id, name="get_time", content="noon")
        return Message(role="tool", content=(part,))

    request = ask(
        Message(role="user", content="Time twice?"),
        Message(
            role="assistant",
            content=(
                ToolCallPart(id="t1", name="get_time"),
                ToolCallPart(id="t2", name="get_time"),
            ),
        ),
        result("t1"),
        result("t2"),
        tools=(CLOCK,),
    )

    await collect(sdk_provider("anthropic"), request, MODEL)

    rec = fake_server.requests[0]
    assert len(rec.body["messages"]) == 3
    assert [p["tool_call_id"] for p in rec.parts[2]] == ["t1", "t2"]
    assert rec.messages[2] == {"role": "tool", "content": ""}


async def test_cache_control_reaches_the_wire(fake_server, sdk_provider, collect, ask) -> None:
    request = ask(system="Long instructions.", options={"cache_control": {"type": "ephemeral"}})

    outcome = await collect(sdk_provider("anthropic"), request, MODEL)

    assert outcome.error is None
    body = fake_server.requests[0].body
    assert body["cache_control"] == {"type": "ephemeral"}
    assert body["system"] == "Long instructions."


async def test_a_cache_control_that_is_no_mapping_is_refused(
    fake_server, sdk_provider, collect, ask
) -> None:
    outcome = await collect(
        sdk_provider("anthropic"), ask(options={"cache_control": "ephemeral"}), MODEL
    )

    assert isinstance(outcome.error, BadRequestError)
    assert "cache_control" in str(outcome.error)
    assert fake_server.requests == []


async def test_usage_reports_cache_reads_and_writes(
    fake_server, sdk_provider, collect, ask
) -> None:
    fake_server.enqueue(Script(text="Cached.", usage=(100, 5), cache_tokens=(30, 60)))

    outcome = await collect(sdk_provider("anthropic"), ask(), MODEL)

    assert outcome.final.usage == Usage.of(100, 5, cached_input=60, cache_write=30)
    assert outcome.final.usage.reasoning_tokens == 0


async def test_a_drop_after_a_tool_call_piece_is_a_provider_error(
    fake_server, sdk_provider, collect, ask
) -> None:
    call = ScriptedToolCall("get_weather", {"city": "Paris"}, id="toolu_d", pieces=3)
    fake_server.enqueue(Script(tool_calls=[call], drop_after=1))

    outcome = await collect(sdk_provider("anthropic"), ask(tools=(WEATHER,)), MODEL)

    assert isinstance(outcome.error, ProviderError)
    assert outcome.error.kind.value in ("connection", "incomplete")
    assert deltas(outcome.events)[:2] == [
        ToolCallDelta(0, id="toolu_d", name="get_weather"),
        ToolCallDelta(0, arguments='{"city'),
    ]
    assert all(e.finish_reason is None for e in outcome.events)
