"""GoogleProvider against the fake server, through the real ``google-genai`` SDK (under each
stream parser)."""

from __future__ import annotations

import pytest
from google_raw import raw_gemini_server, sse_body

from llm_dispatch.errors import ContentFilterError
from llm_dispatch.providers.continuation import CONTINUE_INSTRUCTION

pytestmark = [pytest.mark.usefixtures("clean_provider_env"), pytest.mark.stream_parsers]

MODEL = "gemini-test"


async def test_request_fields_reach_the_wire(
    fake_server, sdk_provider, collect, ask, person_schema
) -> None:
    request = ask(
        system="You are terse.",
        temperature=0.3,
        max_tokens=77,
        stop=("END",),
        response_format={
            "type": "json_schema",
            "json_schema": {"name": "p", "schema": person_schema},
        },
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
    assert config["responseJsonSchema"] == person_schema
    assert recorded.json_mode


async def test_plain_json_mode_sets_only_the_mime_type(
    fake_server, sdk_provider, collect, ask
) -> None:
    await collect(sdk_provider("google"), ask(response_format={"type": "json_object"}), MODEL)

    config = fake_server.requests[0].body["generationConfig"]
    assert config["responseMimeType"] == "application/json"
    assert "responseJsonSchema" not in config


async def test_trailing_assistant_message_is_a_model_turn_then_the_instruction(
    fake_server, sdk_provider, collect, partial_answer
) -> None:
    await collect(sdk_provider("google"), partial_answer, MODEL)

    assert fake_server.requests[0].body["contents"][-2:] == [
        {"role": "model", "parts": [{"text": "One, two,"}]},
        {"role": "user", "parts": [{"text": CONTINUE_INSTRUCTION}]},
    ]


async def test_blocked_prompt_is_a_content_filter_error(sdk_provider, collect, say_hi) -> None:
    # The fake server cannot script prompt feedback: a server that sends what Gemini does.
    chunk = {
        "promptFeedback": {"blockReason": "SAFETY", "blockReasonMessage": "not allowed"},
        "usageMetadata": {"promptTokenCount": 3},
    }
    async with raw_gemini_server(sse_body(chunk)) as server:
        outcome = await collect(sdk_provider("google", base_url=server.base_url), say_hi, MODEL)

    assert outcome.events == []
    assert isinstance(outcome.error, ContentFilterError)
    assert outcome.error.message == "prompt blocked (SAFETY): not allowed"
