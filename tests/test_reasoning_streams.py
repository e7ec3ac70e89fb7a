"""Reasoning and the new usage counts through the whole stack, over real HTTP: reasoning
kept out of the text on every provider, its own chunk dicts and callbacks, progress that
says the model is reasoning, and cost with cached input."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import TEST_KEYS, TEST_MODELS

from llm_dispatch import (
    EventCallbacks,
    StreamingCallbacks,
    llm_stream,
    llm_stream_with_metadata,
)
from llm_dispatch.progress.gauge import ProgressStatus
from llm_dispatch.testing import FakeProviderServer, Script

pytestmark = [pytest.mark.usefixtures("clean_provider_env"), pytest.mark.stream_parsers]

PROVIDERS = ["openai", "anthropic", "google", "responses"]
WIRE = {"openai": "openai", "anthropic": "anthropic", "google": "google", "responses": "openai"}
THOUGHT = "The user wants a colour. Blue is common."
ANSWER = "Blue."


@pytest.fixture
def dispatcher(fake_server: FakeProviderServer, make_dispatcher: Any) -> Any:
    responses = {
        "kind": "openai",
        "api": "responses",
        "api_key": TEST_KEYS["openai"],
        "base_url": fake_server.base_url_for("openai"),
        "default_model": TEST_MODELS["openai"],
    }
    return make_dispatcher(providers={"responses": responses})


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_reasoning_is_its_own_channel(
    provider: str, fake_server: FakeProviderServer, dispatcher: Any
) -> None:
    fake_server.enqueue(Script(text=ANSWER, reasoning=THOUGHT), provider=WIRE[provider])
    heard: list[str] = []

    @llm_stream_with_metadata(
        dispatcher=dispatcher,
        providers=[provider],
        reasoning="medium",
        callbacks=StreamingCallbacks(on_reasoning=lambda text, meta: heard.append(text)),
    )
    async def ask(prompt: str) -> Any:
        yield "offline stand-in"

    stream = ask("Pick a colour")
    items = [m async for m in stream]

    reasoning = [m for m in items if m["kind"] == "reasoning"]
    texts = [m for m in items if m["kind"] == "text" and not m["is_final"]]
    assert "".join(m["reasoning"] for m in reasoning).strip() == THOUGHT
    assert all(m["chunk"] == "" for m in reasoning)
    assert "".join(m["chunk"] for m in texts) == ANSWER
    assert items.index(reasoning[-1]) < items.index(texts[0])  # it comes first
    assert stream.get_text() == ANSWER and THOUGHT not in stream.get_text()
    assert stream.reasoning.strip() == THOUGHT
    assert "".join(heard).strip() == THOUGHT
    # Progress counts text chunks, not the reasoning dicts.
    assert stream.progress is not None and stream.progress.chunk_count == len(texts)
    # The request asked for reasoning in the provider's own form.
    assert fake_server.requests[0].reasoning


@pytest.mark.parametrize("provider", ["openai", "anthropic", "google"])
async def test_llm_stream_yields_the_answer_only_and_progress_says_reasoning(
    provider: str, fake_server: FakeProviderServer, dispatcher: Any
) -> None:
    fake_server.enqueue(Script(text=ANSWER, reasoning=THOUGHT), provider=WIRE[provider])
    statuses: list[ProgressStatus] = []
    reasoning_events: list[str] = []

    @llm_stream(
        dispatcher=dispatcher,
        providers=[provider],
        callbacks=EventCallbacks(on_reasoning=lambda e: reasoning_events.append(e.text)),
    )
    async def ask(prompt: str) -> Any:
        yield "offline stand-in"

    stream = ask("Pick a colour")
    chunks: list[str] = []
    async for chunk in stream:
        if not chunks:
            assert stream.progress is not None
            statuses.append(stream.progress.status)
        chunks.append(chunk)

    assert "".join(chunks) == ANSWER
    assert "".join(reasoning_events).strip() == THOUGHT
    snapshot = stream.progress
    assert snapshot is not None and snapshot.reasoning_tokens > 0


@pytest.mark.parametrize(
    ("provider", "expected"),
    [
        # (prompt, completion, reasoning, cached input, cache write) as each kind reports them
        ("openai", (100, 30, 12, 40, 0)),
        ("anthropic", (100, 30, 0, 40, 10)),
        ("google", (100, 30, 12, 40, 0)),
        ("responses", (100, 30, 12, 40, 10)),
    ],
)
async def test_usage_counts_reasoning_and_cached_input_and_cost_prices_them(
    provider: str,
    expected: tuple[int, ...],
    fake_server: FakeProviderServer,
    make_dispatcher: Any,
) -> None:
    prices = {"input": 1.0, "output": 4.0, "cached_input": 0.1, "cache_write": 1.25}
    kind = WIRE[provider]
    settings: dict[str, Any] = {
        "kind": kind,
        "api_key": TEST_KEYS[kind],
        "base_url": fake_server.base_url_for(kind),
        "default_model": TEST_MODELS[kind],
        "prices": {TEST_MODELS[kind]: prices},
    }
    if provider == "responses":
        settings["api"] = "responses"
    dispatcher = make_dispatcher(providers={provider: settings})
    fake_server.enqueue(
        Script(
            text=ANSWER,
            reasoning=THOUGHT,
            reasoning_tokens=12,
            usage=(100, 30),
            cache_tokens=(10, 40),
        ),
        provider=kind,
    )

    @llm_stream(dispatcher=dispatcher, providers=[provider])
    async def ask(prompt: str) -> Any:
        yield "offline stand-in"

    stream = await ask("Pick a colour").collect()

    usage = stream.usage
    assert usage is not None
    got = (
        usage.prompt_tokens,
        usage.completion_tokens,
        usage.reasoning_tokens,
        usage.cached_input_tokens,
        usage.cache_write_tokens,
    )
    assert got == expected
    prompt, completion, _, cached, written = expected
    plain = prompt - cached - written
    cost = (plain * 1.0 + cached * 0.1 + written * 1.25 + completion * 4.0) / 1e6
    assert stream.cost_usd == pytest.approx(cost)
