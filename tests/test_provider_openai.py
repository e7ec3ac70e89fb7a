"""OpenAIProvider against the fake server, through the real ``openai`` SDK."""

from __future__ import annotations

import pytest

from llm_dispatch.events import ProviderEvent
from llm_dispatch.providers.base import ProviderSettings
from llm_dispatch.providers.continuation import CONTINUE_INSTRUCTION
from llm_dispatch.providers.openai import _create_kwargs
from llm_dispatch.testing import Script

# Every test here that builds an openai provider runs under each of its stream parsers.
pytestmark = [pytest.mark.usefixtures("clean_provider_env"), pytest.mark.stream_parsers]

MODEL = "gpt-test"


async def test_missing_usage_still_completes(fake_server, sdk_provider, collect, say_hi) -> None:
    fake_server.enqueue(Script(chunks=["a", "b"], send_usage=False))

    outcome = await collect(sdk_provider("openai"), say_hi, MODEL)

    assert outcome.error is None
    assert outcome.final == ProviderEvent(usage=None, finish_reason="stop")


async def test_request_fields_reach_the_wire(fake_server, sdk_provider, collect, ask) -> None:
    request = ask(
        system="You are terse.",
        temperature=0.3,
        max_tokens=77,
        stop=("END",),
        response_format={"type": "json_object"},
    )

    outcome = await collect(sdk_provider("openai"), request, MODEL)

    assert outcome.error is None
    recorded = fake_server.requests[0]
    body = recorded.body
    assert body["model"] == MODEL
    assert body["messages"] == [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "say hi"},
    ]
    assert body["temperature"] == 0.3
    assert body["max_tokens"] == 77
    assert "max_completion_tokens" not in body
    assert body["stop"] == ["END"]
    assert body["response_format"] == {"type": "json_object"}
    assert body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}
    assert recorded.json_mode


async def test_unset_fields_are_not_sent(fake_server, sdk_provider, collect, say_hi) -> None:
    await collect(sdk_provider("openai"), say_hi, MODEL)

    body = fake_server.requests[0].body
    for key in ("temperature", "max_tokens", "stop", "response_format"):
        assert key not in body


@pytest.mark.parametrize("mode", [None, "instruction", "prefill", "continue_final_message"])
async def test_a_continuation_is_sent_as_its_mode_says(
    mode: str | None, fake_server, sdk_provider, collect, partial_answer
) -> None:
    await collect(sdk_provider("openai", continuation=mode), partial_answer, MODEL)

    body = fake_server.requests[0].body
    partial = {"role": "assistant", "content": "One, two,"}
    if mode in (None, "instruction"):
        assert body["messages"][-2:] == [partial, {"role": "user", "content": CONTINUE_INSTRUCTION}]
    else:
        assert body["messages"][-1] == partial
    flags = {k: body[k] for k in ("continue_final_message", "add_generation_prompt") if k in body}
    if mode == "continue_final_message":
        assert flags == {"continue_final_message": True, "add_generation_prompt": False}
    else:
        assert flags == {}


def test_official_api_gets_max_completion_tokens(ask) -> None:
    settings = ProviderSettings(name="openai", kind="openai")
    kwargs = _create_kwargs(ask(max_tokens=50), MODEL, settings, official_api=True)

    assert kwargs["max_completion_tokens"] == 50
    assert "max_tokens" not in kwargs
