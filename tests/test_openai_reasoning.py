"""Reasoning and usage through OpenAIProvider and the official ``openai`` SDK, over real
HTTP: ``reasoning_effort`` sent, reasoning deltas of compatible servers read apart from the
text, reasoning and cached token counts."""

from __future__ import annotations

import pytest
from openai_raw import chunk, raw_chat_server

from llm_dispatch.errors import BadRequestError
from llm_dispatch.events import ProviderEvent, Usage
from llm_dispatch.request import Reasoning
from llm_dispatch.testing import Script
from llm_dispatch.testing.script import ScriptedToolCall, split_words

# Every test here that builds an openai provider runs under each of its stream parsers.
pytestmark = [pytest.mark.usefixtures("clean_provider_env"), pytest.mark.stream_parsers]

MODEL = "gpt-test"
THINKING = "The user greets me, so I greet them back."


def reasoning_of(events: list[ProviderEvent]) -> list[str]:
    return [e.reasoning for e in events if e.reasoning]


# -- reasoning out ----------------------------------------------------------------------------


async def test_reasoning_deltas_never_reach_the_text(
    fake_server, sdk_provider, collect, say_hi
) -> None:
    fake_server.enqueue(Script(reasoning=THINKING, chunks=["Hi", " there"]))

    outcome = await collect(sdk_provider("openai"), say_hi, MODEL)

    assert outcome.error is None
    assert reasoning_of(outcome.events) == split_words(THINKING)
    assert outcome.texts == ["Hi", " there"]
    # Each event carries one thing: reasoning events have no text, text events no reasoning.
    assert all(not (e.text and e.reasoning) for e in outcome.events)
    kinds = ["reasoning" if e.reasoning else "text" for e in outcome.events[:-1]]
    assert kinds == ["reasoning"] * len(split_words(THINKING)) + ["text", "text"]
    assert outcome.final.finish_reason == "stop"


async def test_reasoning_then_a_tool_call(fake_server, sdk_provider, collect, say_hi) -> None:
    call = ScriptedToolCall("get_time", "{}", pieces=1)
    fake_server.enqueue(Script(reasoning="Need the clock.", tool_calls=[call]))

    outcome = await collect(sdk_provider("openai"), say_hi, MODEL)

    assert "".join(reasoning_of(outcome.events)) == "Need the clock."
    assert outcome.texts == []
    assert [e.tool_call.name for e in outcome.events if e.tool_call] == ["get_time"]


@pytest.mark.parametrize("field", ["reasoning_content", "reasoning"])
async def test_each_reasoning_field_compatible_servers_send_is_read(
    sdk_provider, collect, say_hi, field
) -> None:
    chunks = [
        chunk({"role": "assistant", "content": None, field: "Think"}),
        chunk({"content": None, field: "ing."}),
        chunk({"content": "Done", field: None}),
        chunk({}, "stop"),
    ]
    async with raw_chat_server(chunks) as server:
        outcome = await collect(sdk_provider("openai", base_url=server.base_url), say_hi, MODEL)

    assert outcome.error is None
    assert reasoning_of(outcome.events) == ["Think", "ing."]
    assert outcome.texts == ["Done"]


async def test_a_server_sending_both_fields_gives_the_reasoning_once(
    sdk_provider, collect, say_hi
) -> None:
    chunks = [
        chunk({"reasoning_content": "Hmm", "reasoning": "Hmm"}),
        chunk({"content": "Ok"}, "stop"),
    ]
    async with raw_chat_server(chunks) as server:
        outcome = await collect(sdk_provider("openai", base_url=server.base_url), say_hi, MODEL)

    assert reasoning_of(outcome.events) == ["Hmm"]
    assert outcome.texts == ["Ok"]


# -- reasoning in -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reasoning", "effort"),
    [
        (Reasoning(effort="low"), "low"),
        (Reasoning(effort="medium"), "medium"),
        (Reasoning(effort="high"), "high"),
        (Reasoning(budget_tokens=1), "low"),
        (Reasoning(budget_tokens=4096), "low"),
        (Reasoning(budget_tokens=4097), "medium"),
        (Reasoning(budget_tokens=16384), "medium"),
        (Reasoning(budget_tokens=16385), "high"),
        # With both, the effort is what chat completions take.
        (Reasoning(effort="low", budget_tokens=30000), "low"),
    ],
)
async def test_reasoning_is_sent_as_reasoning_effort(
    fake_server, sdk_provider, collect, ask, reasoning, effort
) -> None:
    outcome = await collect(sdk_provider("openai"), ask(reasoning=reasoning), MODEL)

    assert outcome.error is None
    assert fake_server.requests[0].body["reasoning_effort"] == effort
    assert fake_server.requests[0].reasoning == effort


async def test_no_reasoning_sends_no_effort(fake_server, sdk_provider, collect, say_hi) -> None:
    await collect(sdk_provider("openai"), say_hi, MODEL)

    assert "reasoning_effort" not in fake_server.requests[0].body
    assert fake_server.requests[0].reasoning is None


async def test_a_contradicting_reasoning_effort_option_is_refused(
    fake_server, sdk_provider, collect, ask
) -> None:
    request = ask(reasoning=Reasoning(budget_tokens=2000), options={"reasoning_effort": "high"})

    outcome = await collect(sdk_provider("openai"), request, MODEL)

    assert isinstance(outcome.error, BadRequestError)
    assert "'high'" in outcome.error.message and "'low'" in outcome.error.message
    assert fake_server.requests == []


@pytest.mark.parametrize(
    ("reasoning", "option"),
    [(Reasoning(effort="medium"), "medium"), (None, "minimal")],
    ids=["agreeing", "option-alone"],
)
async def test_an_agreeing_or_lone_option_is_sent(
    fake_server, sdk_provider, collect, ask, reasoning, option
) -> None:
    request = ask(reasoning=reasoning, options={"reasoning_effort": option})

    outcome = await collect(sdk_provider("openai"), request, MODEL)

    assert outcome.error is None
    assert fake_server.requests[0].body["reasoning_effort"] == option


# -- usage ------------------------------------------------------------------------------------


async def test_reasoning_and_cached_tokens_are_reported(
    fake_server, sdk_provider, collect, say_hi
) -> None:
    fake_server.enqueue(
        Script(
            reasoning=THINKING,
            reasoning_tokens=12,
            chunks=["Hi"],
            usage=(40, 20),
            cache_tokens=(0, 32),
        )
    )

    outcome = await collect(sdk_provider("openai"), say_hi, MODEL)

    assert outcome.final == ProviderEvent(
        usage=Usage.of(40, 20, reasoning=12, cached_input=32), finish_reason="stop"
    )


async def test_reasoning_tokens_default_to_one_per_reasoning_word(
    fake_server, sdk_provider, collect, say_hi
) -> None:
    fake_server.enqueue(Script(reasoning=THINKING, chunks=["Hi", "!"]))

    outcome = await collect(sdk_provider("openai"), say_hi, MODEL)

    usage = outcome.final.usage
    words = len(split_words(THINKING))
    assert usage is not None
    assert (usage.reasoning_tokens, usage.completion_tokens) == (words, words + 2)
    assert usage.cached_input_tokens == 0
