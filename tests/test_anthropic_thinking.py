"""Anthropic extended thinking (``Request.reasoning``) through the real ``anthropic`` SDK:
the request it makes, the reasoning and signature events it streams, and thinking sent
back in a later turn."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from llm_dispatch.content import ReasoningPart, TextPart, ToolCallPart, ToolResultPart
from llm_dispatch.errors import BadRequestError
from llm_dispatch.events import ToolCallDelta, Usage
from llm_dispatch.providers.anthropic import DEFAULT_MAX_TOKENS
from llm_dispatch.providers.anthropic_thinking import THINKING_BUDGETS
from llm_dispatch.request import Message, Reasoning
from llm_dispatch.testing import Script
from llm_dispatch.testing.script import ScriptedToolCall, split_words
from llm_dispatch.testing.wire_anthropic import thinking_signature
from llm_dispatch.tools import Tool

# Every test here that builds an anthropic provider runs under each of its stream parsers.
pytestmark = [pytest.mark.usefixtures("clean_provider_env"), pytest.mark.stream_parsers]

MODEL = "claude-test"
CLOCK = Tool(name="get_time")
THOUGHT = "The user wants the time, so I should call the clock."


@pytest.mark.parametrize(
    ("effort", "budget", "max_tokens"),
    # max_tokens must exceed the budget: when the default does not, the answer keeps it.
    [("low", 2048, 4096), ("medium", 8192, 8192 + 4096), ("high", 24576, 24576 + 4096)],
)
async def test_an_effort_is_a_thinking_budget(
    fake_server, sdk_provider, collect, ask, effort, budget, max_tokens
) -> None:
    outcome = await collect(
        sdk_provider("anthropic"), ask(reasoning=Reasoning(effort=effort)), MODEL
    )

    assert outcome.error is None
    rec = fake_server.requests[0]
    assert DEFAULT_MAX_TOKENS == 4096 and THINKING_BUDGETS[effort] == budget
    assert rec.reasoning == {"type": "enabled", "budget_tokens": budget}
    assert rec.body["max_tokens"] == max_tokens


@pytest.mark.parametrize(
    ("reasoning", "max_tokens", "sent_budget", "sent_max"),
    [
        (Reasoning(budget_tokens=3000), 8000, 3000, 8000),
        (Reasoning(budget_tokens=8000), 8000, 8000, 16000),
        (Reasoning(budget_tokens=5000), 1000, 5000, 6000),
        (Reasoning(effort="high", budget_tokens=1500), None, 1500, DEFAULT_MAX_TOKENS),
    ],
    ids=["fits", "equal-raised", "smaller-raised", "budget-over-effort"],
)
async def test_a_budget_and_max_tokens(
    fake_server, sdk_provider, collect, ask, reasoning, max_tokens, sent_budget, sent_max
) -> None:
    request = ask(reasoning=reasoning, max_tokens=max_tokens)

    outcome = await collect(sdk_provider("anthropic"), request, MODEL)

    assert outcome.error is None
    body = fake_server.requests[0].body
    assert body["thinking"] == {"type": "enabled", "budget_tokens": sent_budget}
    assert body["max_tokens"] == sent_max


async def test_no_reasoning_sends_no_thinking(fake_server, sdk_provider, collect, say_hi) -> None:
    await collect(sdk_provider("anthropic"), say_hi, MODEL)

    assert "thinking" not in fake_server.requests[0].body
    assert fake_server.requests[0].reasoning is None


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"temperature": 0.3}, "temperature=0.3"),
        ({"options": {"top_k": 20}}, "top_k"),
        ({"options": {"top_p": 0.5}}, "top_p=0.5"),
        ({"tools": (CLOCK,), "tool_choice": "required"}, "tool_choice='required'"),
        ({"tools": (CLOCK,), "tool_choice": "get_time"}, "tool_choice='get_time'"),
    ],
    ids=["temperature", "top_k", "top_p", "required", "a-tool"],
)
async def test_a_setting_thinking_excludes_is_refused_before_sending(
    fake_server, sdk_provider, collect, ask, fields, named
) -> None:
    request = ask(reasoning=Reasoning(effort="low"), **fields)

    outcome = await collect(sdk_provider("anthropic"), request, MODEL)

    assert isinstance(outcome.error, BadRequestError)
    assert named in str(outcome.error) and "thinking" in str(outcome.error)
    assert fake_server.requests == []


async def test_settings_thinking_takes_are_sent(fake_server, sdk_provider, collect, ask) -> None:
    request = ask(
        reasoning=Reasoning(effort="low"),
        temperature=1.0,
        options={"top_p": 0.95},
        tools=(CLOCK,),
        tool_choice="auto",
    )

    outcome = await collect(sdk_provider("anthropic"), request, MODEL)

    assert outcome.error is None
    body = fake_server.requests[0].body
    assert (body["temperature"], body["top_p"], body["tool_choice"]) == (
        1.0,
        0.95,
        {"type": "auto"},
    )


async def test_a_budget_below_the_minimum_is_refused(fake_server, sdk_provider, collect, ask):
    outcome = await collect(
        sdk_provider("anthropic"), ask(reasoning=Reasoning(budget_tokens=500)), MODEL
    )

    assert isinstance(outcome.error, BadRequestError)
    assert "1024" in str(outcome.error)
    assert fake_server.requests == []


async def test_thinking_streams_as_reasoning_and_a_signature_never_as_text(
    fake_server, sdk_provider, collect, ask
) -> None:
    fake_server.enqueue(Script(reasoning=THOUGHT, chunks=["It is", " noon."]))

    outcome = await collect(
        sdk_provider("anthropic"), ask(reasoning=Reasoning(effort="low")), MODEL
    )

    assert outcome.error is None
    kinds = [
        "reasoning" if e.reasoning else "signature" if e.reasoning_signature else "text"
        for e in outcome.events[:-1]
    ]
    words = split_words(THOUGHT)
    assert kinds == ["reasoning"] * len(words) + ["signature", "text", "text"]
    assert [e.reasoning for e in outcome.events if e.reasoning] == words
    signatures = [e.reasoning_signature for e in outcome.events if e.reasoning_signature]
    assert signatures == [thinking_signature(THOUGHT)]
    assert outcome.texts == ["It is", " noon."]
    assert all(not (e.text and (e.reasoning or e.reasoning_signature)) for e in outcome.events)
    assert outcome.final.finish_reason == "stop"


async def test_usage_counts_thinking_as_output_without_reasoning_tokens(
    fake_server, sdk_provider, collect, ask
) -> None:
    fake_server.enqueue(
        Script(reasoning=THOUGHT, text="Noon.", usage=(40, 30), cache_tokens=(10, 20))
    )

    outcome = await collect(
        sdk_provider("anthropic"), ask(reasoning=Reasoning(effort="low")), MODEL
    )

    assert outcome.final.usage == Usage.of(40, 30, cached_input=20, cache_write=10)
    assert outcome.final.usage.reasoning_tokens == 0


async def test_thinking_goes_back_first_with_its_signature_after_a_tool_call(
    fake_server, sdk_provider, collect, ask
) -> None:
    provider = sdk_provider("anthropic")
    call = ScriptedToolCall("get_time", "{}", id="toolu_n", pieces=1)
    fake_server.enqueue(Script(reasoning=THOUGHT, chunks=["Let me look."], tool_calls=[call]))
    first = ask(reasoning=Reasoning(effort="low"), tools=(CLOCK,))
    turn = await collect(provider, first, MODEL)
    assert turn.final.finish_reason == "tool_calls"
    assert [d for e in turn.events if (d := e.tool_call)] == [
        ToolCallDelta(0, id="toolu_n", name="get_time"),
        ToolCallDelta(0, arguments="{}"),
    ]
    thought = "".join(e.reasoning for e in turn.events)
    (signature,) = [e.reasoning_signature for e in turn.events if e.reasoning_signature]

    # The next turn, as a tool loop builds it from the stream (thinking last in the parts).
    assistant = Message(
        role="assistant",
        content=(
            TextPart(text="".join(turn.texts)),
            ToolCallPart(id="toolu_n", name="get_time"),
            ReasoningPart(text=thought, signature=signature, provider_kind="anthropic"),
        ),
    )
    result = ToolResultPart(tool_call_id="toolu_n", name="get_time", content="12:00")
    later = first.model_copy(
        update={"messages": (*first.messages, assistant, Message(role="tool", content=(result,)))}
    )
    outcome = await collect(provider, later, MODEL)

    assert outcome.error is None
    sent = fake_server.requests[1].body["messages"][1]["content"]
    assert sent == [
        {"type": "thinking", "thinking": THOUGHT, "signature": thinking_signature(THOUGHT)},
        {"type": "text", "text": "Let me look."},
        {"type": "tool_use", "id": "toolu_n", "name": "get_time", "input": {}},
    ]
    assert fake_server.requests[1].parts[1][0] == {"type": "other", "raw": sent[0]}
    assert fake_server.requests[1].messages[2]["role"] == "tool"


@pytest.mark.parametrize(
    ("part", "sent"),
    [
        (ReasoningPart(text="mine", signature="s1", provider_kind=None), True),
        (ReasoningPart(text="gemini's", signature="s2", provider_kind="google"), False),
        (ReasoningPart(text="openai's", provider_kind="openai"), False),
        (ReasoningPart(text="unsigned", provider_kind="anthropic"), False),
    ],
    ids=["no-kind-signed", "google", "openai", "unsigned"],
)
async def test_only_signed_anthropic_reasoning_is_sent_back(
    fake_server, sdk_provider, collect, ask, part, sent
) -> None:
    request = ask(
        Message(role="user", content="hi"),
        Message(role="assistant", content=(TextPart(text="Hello."), part)),
        Message(role="user", content="again"),
    )

    outcome = await collect(sdk_provider("anthropic"), request, MODEL)

    assert outcome.error is None
    content = fake_server.requests[0].body["messages"][1]["content"]
    if sent:
        assert content == [
            {"type": "thinking", "thinking": part.text, "signature": part.signature},
            {"type": "text", "text": "Hello."},
        ]
    else:
        assert content == "Hello."


async def test_thinking_in_a_user_turn_is_refused(fake_server, sdk_provider, collect, ask):
    part = ReasoningPart(text="x", signature="s", provider_kind="anthropic")
    request = ask(Message(role="user", content=(TextPart(text="hi"), part)))

    outcome = await collect(sdk_provider("anthropic"), request, MODEL)

    assert isinstance(outcome.error, BadRequestError)
    assert "user turn" in str(outcome.error)
    assert fake_server.requests == []


async def test_a_continuation_while_thinking_asks_with_the_instruction(
    fake_server, sdk_provider, collect, partial_answer
) -> None:
    request = partial_answer.model_copy(update={"reasoning": Reasoning(effort="low")})

    outcome = await collect(sdk_provider("anthropic"), request, MODEL)

    assert outcome.error is None
    messages = fake_server.requests[0].body["messages"]
    assert messages[-2] == {"role": "assistant", "content": "One, two,"}
    assert messages[-1]["role"] == "user"


async def test_a_configured_prefill_while_thinking_is_refused(
    fake_server, sdk_provider, collect, partial_answer
) -> None:
    request = partial_answer.model_copy(update={"reasoning": Reasoning(effort="low")})

    outcome = await collect(sdk_provider("anthropic", continuation="prefill"), request, MODEL)

    assert isinstance(outcome.error, BadRequestError)
    assert "prefill" in str(outcome.error)
    assert fake_server.requests == []


# -- redacted thinking: a server of its own, since the scripted one never redacts -----------

REDACTED_STREAM = [
    {"type": "message_start", "message": {
        "id": "msg_r", "type": "message", "role": "assistant", "content": [],
        "model": MODEL, "stop_reason": None, "stop_sequence": None,
        "usage": {"input_tokens": 5, "output_tokens": 1},
    }},
    {"type": "content_block_start", "index": 0,
     "content_block": {"type": "redacted_thinking", "data": "EmwKAhgBEgy3va3pzix/LafPsn4a"}},
    {"type": "content_block_stop", "index": 0},
    {"type": "content_block_start", "index": 1, "content_block": {"type": "text", "text": ""}},
    {"type": "content_block_delta", "index": 1, "delta": {"type": "text_delta", "text": "Done."}},
    {"type": "content_block_stop", "index": 1},
    {"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None},
     "usage": {"output_tokens": 9}},
    {"type": "message_stop"},
]  # fmt: skip


@pytest.fixture
async def redacting_server() -> AsyncIterator[str]:
    """A server on 127.0.0.1 that answers every message with :data:`REDACTED_STREAM`."""

    async def answer(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        for event in REDACTED_STREAM:
            await response.write(f"event: {event['type']}\ndata: {json.dumps(event)}\n\n".encode())
        await response.write_eof()
        return response

    app = web.Application()
    app.router.add_post("/v1/messages", answer)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port: Any = runner.addresses[0][1]
    yield f"http://127.0.0.1:{port}"
    await runner.cleanup()


async def test_redacted_thinking_yields_no_event(
    redacting_server, sdk_provider, collect, ask
) -> None:
    provider = sdk_provider("anthropic", base_url=redacting_server)

    outcome = await collect(provider, ask(reasoning=Reasoning(effort="low")), MODEL)

    assert outcome.error is None
    assert outcome.texts == ["Done."]
    assert len(outcome.events) == 2
    assert not any(e.reasoning or e.reasoning_signature for e in outcome.events)
    assert outcome.final.usage == Usage.of(5, 9)
