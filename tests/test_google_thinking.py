"""Gemini thinking through the real ``google-genai`` SDK, over HTTP to the fake server: the
thinking config, thought parts as reasoning (never text), thought signatures, reasoning sent
back, and the usage counts of thoughts and cached content."""

from __future__ import annotations

from typing import Any

import pytest

from llm_dispatch.content import ReasoningPart, TextPart
from llm_dispatch.events import Usage
from llm_dispatch.providers.google_reading import usage_of
from llm_dispatch.request import Message, Reasoning
from llm_dispatch.testing import Script

pytestmark = [pytest.mark.usefixtures("clean_provider_env"), pytest.mark.stream_parsers]

MODEL = "gemini-test"


def plain(config: Any) -> dict[str, Any]:
    """A config the SDK sent, with its keys in snake case (it sends either)."""
    snake = {"includeThoughts": "include_thoughts", "thinkingBudget": "thinking_budget"}
    return {snake.get(k, k): v for k, v in config.items()}


@pytest.mark.parametrize(
    ("reasoning", "budget"),
    [
        (Reasoning(budget_tokens=1500), 1500),
        (Reasoning(effort="low"), 2048),
        (Reasoning(effort="medium"), 8192),
        (Reasoning(effort="high"), 24576),
        (Reasoning(effort="low", budget_tokens=3000), 3000),
    ],
    ids=["budget", "low", "medium", "high", "budget-wins"],
)
async def test_reasoning_is_a_thinking_budget_with_thoughts_included(
    fake_server, sdk_provider, collect, ask, reasoning, budget
) -> None:
    outcome = await collect(sdk_provider("google"), ask(reasoning=reasoning), MODEL)

    assert outcome.error is None
    assert plain(fake_server.requests[0].reasoning) == {
        "thinking_budget": budget,
        "include_thoughts": True,
    }


async def test_no_reasoning_sends_no_thinking_config(
    fake_server, sdk_provider, collect, ask
) -> None:
    await collect(sdk_provider("google"), ask(), MODEL)

    assert fake_server.requests[0].reasoning is None
    assert "thinkingConfig" not in fake_server.requests[0].body.get("generationConfig", {})


async def test_thought_parts_are_reasoning_never_text(
    fake_server, sdk_provider, collect, ask
) -> None:
    fake_server.enqueue(Script(reasoning="First I weigh the options.", text="Take the train."))

    outcome = await collect(sdk_provider("google"), ask(reasoning=Reasoning(effort="low")), MODEL)

    assert outcome.error is None
    assert "".join(e.reasoning for e in outcome.events) == "First I weigh the options."
    assert "".join(outcome.texts) == "Take the train."
    assert all(not (e.text and e.reasoning) for e in outcome.events)
    # Reasoning comes first, then the text.
    kinds = [
        "reasoning" if e.reasoning else "text" for e in outcome.events if e.reasoning or e.text
    ]
    assert kinds == ["reasoning"] * 5 + ["text"] * 3
    assert outcome.final.finish_reason == "stop"


async def test_usage_counts_thoughts_as_output_and_cached_content_as_input(
    fake_server, sdk_provider, collect, ask
) -> None:
    fake_server.enqueue(
        Script(
            reasoning="a b c",
            reasoning_tokens=5,
            text="Done.",
            usage=(20, 12),
            cache_tokens=(0, 6),
        )
    )

    outcome = await collect(sdk_provider("google"), ask(), MODEL)

    # The wire counts 7 candidate tokens and 5 thought tokens apart, and 6 cached of 20.
    assert outcome.final.usage == Usage.of(20, 12, reasoning=5, cached_input=6)


def test_usage_adds_tool_use_prompts_to_the_prompt() -> None:
    counts = {
        "prompt_token_count": 30,
        "tool_use_prompt_token_count": 4,
        "cached_content_token_count": 10,
        "candidates_token_count": 7,
        "thoughts_token_count": 3,
    }

    assert usage_of(counts) == Usage.of(34, 10, reasoning=3, cached_input=10)
    assert usage_of({}) is None


async def test_a_signature_on_a_part_without_a_call_is_a_reasoning_signature(
    fake_server, sdk_provider, collect, ask
) -> None:
    # The sparse shape sends a part holding only a thought signature before the finish.
    fake_server.enqueue(Script(chunks=["Hi", "!"], shape={"sparse"}))

    outcome = await collect(sdk_provider("google"), ask(), MODEL)

    assert outcome.error is None
    signatures = [e.reasoning_signature for e in outcome.events if e.reasoning_signature]
    assert signatures == ["ZmFrZS1zaWduYXR1cmU="]
    assert outcome.texts == ["Hi", "!"]


async def test_gemini_reasoning_goes_back_as_a_thought_part_and_other_kinds_do_not(
    fake_server, sdk_provider, collect, ask
) -> None:
    turn = Message(
        role="assistant",
        content=(
            ReasoningPart(text="Mine.", signature="c2lnbmVk", provider_kind="google"),
            ReasoningPart(text="Claude's.", signature="abc", provider_kind="anthropic"),
            TextPart(text="Answer."),
        ),
    )
    foreign_only = Message(
        role="assistant", content=(ReasoningPart(text="Elsewhere.", provider_kind="openai"),)
    )
    request = ask(
        Message(role="user", content="Q1"),
        turn,
        Message(role="user", content="Q2"),
        foreign_only,
        Message(role="user", content="Q3"),
    )

    outcome = await collect(sdk_provider("google"), request, MODEL)

    assert outcome.error is None
    contents = fake_server.requests[0].body["contents"]
    assert contents[1] == {
        "role": "model",
        "parts": [
            {"text": "Mine.", "thought": True, "thoughtSignature": "c2lnbmVk"},
            {"text": "Answer."},
        ],
    }
    # A turn of another kind's reasoning only has nothing to send.
    assert [c["role"] for c in contents] == ["user", "model", "user", "user"]
    # A thought part sent back is not text of the turn.
    assert fake_server.requests[0].messages[1] == {"role": "assistant", "content": "Answer."}
