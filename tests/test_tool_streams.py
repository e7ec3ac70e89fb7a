"""Tool calls through the whole stack: decorated calls over real HTTP, each official SDK
against the fake server. Calls reassembled and checked, their chunk dicts, the tool loop,
failures after a tool-call delta, and the cache replaying a tool-call answer."""

from __future__ import annotations

import json
from typing import Any

import pytest
from conftest import TEST_KEYS, TEST_MODELS

from llm_dispatch import (
    InvalidToolCallError,
    StreamInterrupted,
    ToolLoopError,
    llm_stream,
    llm_stream_with_metadata,
    run_tools,
)
from llm_dispatch.cache import StreamingCache
from llm_dispatch.testing import FakeProviderServer, Script, ScriptedToolCall

pytestmark = [pytest.mark.usefixtures("clean_provider_env"), pytest.mark.stream_parsers]

#: The three kinds, and OpenAI's Responses API as a provider of its own.
PROVIDERS = ["openai", "anthropic", "google", "responses"]
#: The fake server's wire answering each (the Responses API is OpenAI's).
WIRE = {"openai": "openai", "anthropic": "anthropic", "google": "google", "responses": "openai"}
CALLED: list[tuple[str, dict[str, Any]]] = []


def get_weather(city: str, unit: str = "celsius") -> dict[str, Any]:
    """The current weather in a city.

    Args:
        city: The city's name.
        unit: celsius or fahrenheit.
    """
    CALLED.append(("get_weather", {"city": city, "unit": unit}))
    return {"city": city, "sky": "sunny", "temperature": 21}


async def local_time(city: str) -> str:
    """The local time in a city."""
    CALLED.append(("local_time", {"city": city}))
    return "14:05"


def weather_call(city: str = "Paris", **fields: Any) -> ScriptedToolCall:
    return ScriptedToolCall("get_weather", {"city": city}, **fields)


@pytest.fixture(autouse=True)
def _forget_calls() -> None:
    CALLED.clear()


@pytest.fixture
def dispatcher(fake_server: FakeProviderServer, make_dispatcher: Any) -> Any:
    """The three providers, and ``responses``: OpenAI through its Responses API."""
    responses = {
        "kind": "openai",
        "api": "responses",
        "api_key": TEST_KEYS["openai"],
        "base_url": fake_server.base_url_for("openai"),
        "default_model": TEST_MODELS["openai"],
    }
    return make_dispatcher(providers={"responses": responses})


def asker(dispatcher: Any, provider: str, *, metadata: bool = False, **options: Any) -> Any:
    decorator = llm_stream_with_metadata if metadata else llm_stream

    @decorator(
        dispatcher=dispatcher, providers=[provider], tools=[get_weather, local_time], **options
    )
    async def ask(prompt: str) -> Any:
        yield "offline stand-in"

    return ask


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_one_tool_call_streams_as_started_arguments_done(
    provider: str, fake_server: FakeProviderServer, dispatcher: Any
) -> None:
    fake_server.enqueue(Script(tool_calls=[weather_call(pieces=3)]), provider=WIRE[provider])
    ask = asker(dispatcher, provider, metadata=True)

    stream = ask("What is the weather in Paris?")
    items = [m async for m in stream]

    calls = [m["tool_call"] for m in items if m["kind"] == "tool_call"]
    phases = [c["phase"] for c in calls]
    assert phases[0] == "started" and phases[-1] == "done"
    assert set(phases[1:-1]) <= {"arguments"}
    text = "".join(c["arguments_delta"] for c in calls)
    assert json.loads(text) == {"city": "Paris"}
    assert all(m["chunk"] == "" for m in items if m["kind"] != "text")
    [call] = stream.tool_calls
    assert (call.index, call.name) == (0, "get_weather")
    # Checked against the tool's schema: the default unit is filled in.
    assert call.arguments == {"city": "Paris", "unit": "celsius"}
    assert calls[-1]["arguments"] == call.arguments and calls[-1]["id"] == call.id
    assert items[-1]["is_final"] and items[-1]["finish_reason"] == "tool_calls"
    assert stream.get_text() == ""
    assert CALLED == []  # nothing is run without the tool loop


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_two_parallel_calls_stay_apart(
    provider: str, fake_server: FakeProviderServer, dispatcher: Any
) -> None:
    calls = [weather_call("Paris"), ScriptedToolCall("local_time", {"city": "Tokyo"})]
    fake_server.enqueue(
        Script(text="Checking both.", tool_calls=calls, interleave_tool_calls=True),
        provider=WIRE[provider],
    )
    ask = asker(dispatcher, provider)

    stream = ask("Weather in Paris and the time in Tokyo?")
    text = "".join([c async for c in stream])

    assert text == "Checking both."  # @llm_stream yields text only
    first, second = stream.tool_calls
    assert (first.name, first.arguments["city"]) == ("get_weather", "Paris")
    assert (second.name, second.arguments) == ("local_time", {"city": "Tokyo"})
    assert first.id != second.id


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_the_tool_loop_runs_the_tools_and_asks_again(
    provider: str, fake_server: FakeProviderServer, dispatcher: Any
) -> None:
    both = [weather_call("Paris"), ScriptedToolCall("local_time", {"city": "Paris"})]
    fake_server.enqueue(Script(tool_calls=both), provider=WIRE[provider])
    fake_server.enqueue(Script(text="It is sunny and 21 degrees."), provider=WIRE[provider])
    ask = asker(dispatcher, provider)

    loop = run_tools(ask("Weather and time in Paris?"), max_steps=3)
    text = "".join([chunk async for chunk in loop])

    assert text == "It is sunny and 21 degrees."
    assert CALLED == [
        ("get_weather", {"city": "Paris", "unit": "celsius"}),
        ("local_time", {"city": "Paris"}),
    ]
    assert len(loop.steps) == 2 and loop.result.tool_calls == ()
    _, second = fake_server.requests
    # The second request holds the assistant's calls, then both results, in order.
    calls = [p for parts in second.parts for p in parts if p["type"] == "tool_call"]
    results = [p for parts in second.parts for p in parts if p["type"] == "tool_result"]
    assert [c["name"] for c in calls] == ["get_weather", "local_time"]
    assert json.loads(results[0]["content"]) == {"city": "Paris", "sky": "sunny", "temperature": 21}
    assert results[1]["content"] == "14:05"
    assert [r["tool_call_id"] for r in results] == [c["id"] for c in calls]


@pytest.mark.parametrize("choice", ["required", "local_time"])
async def test_a_forced_tool_choice_forces_the_first_answer_only(
    choice: str, fake_server: FakeProviderServer, dispatcher: Any
) -> None:
    fake_server.enqueue(Script(tool_calls=[ScriptedToolCall("local_time", {"city": "Oslo"})]))
    fake_server.enqueue(Script(text="It is 14:05 in Oslo."))
    ask = asker(dispatcher, "openai", tool_choice=choice)

    loop = await run_tools(ask("Time in Oslo?"), max_steps=2).collect()

    assert loop.result.get_text() == "It is 14:05 in Oslo."
    first, second = fake_server.requests
    assert first.tool_choice is not None and second.tool_choice == "auto"


async def test_a_tool_that_raises_is_an_error_result_and_the_loop_bounds_its_steps(
    fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    def broken(city: str) -> str:
        """Always fails."""
        raise RuntimeError(f"no data for {city}")

    @llm_stream(dispatcher=make_dispatcher(), providers=["anthropic"], tools=[broken])
    async def ask(prompt: str) -> Any:
        yield "offline stand-in"

    looping = Script(tool_calls=[ScriptedToolCall("broken", {"city": "Oslo"})])
    fake_server.enqueue(looping, provider="anthropic", times=2)

    loop = run_tools(ask("Weather in Oslo?"), max_steps=2)
    with pytest.raises(ToolLoopError, match="still calls tools after 2 answers") as caught:
        async for _ in loop:
            pass

    assert len(caught.value.steps) == 2
    results = [
        p for parts in fake_server.requests[1].parts for p in parts if p["type"] == "tool_result"
    ]
    assert results[0]["content"] == "RuntimeError: no data for Oslo"
    assert results[0]["is_error"] is True


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_arguments_that_do_not_fit_the_tool_fail_the_stream(
    provider: str, fake_server: FakeProviderServer, dispatcher: Any
) -> None:
    fake_server.enqueue(
        Script(tool_calls=[ScriptedToolCall("get_weather", {"town": "Paris"})]),
        provider=WIRE[provider],
    )
    ask = asker(dispatcher, provider)

    with pytest.raises(InvalidToolCallError) as caught:
        await ask("Weather?").collect()

    assert caught.value.name == "get_weather"
    assert "city" in caught.value.problem
    assert json.loads(caught.value.arguments_text) == {"town": "Paris"}


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_a_failure_after_a_tool_call_delta_raises_with_the_partial_call(
    provider: str, fake_server: FakeProviderServer, dispatcher: Any
) -> None:
    # Cut after the text, the first call and a piece of the second (Gemini sends a call
    # whole, on its last piece: there only the first call arrived).
    calls = [weather_call(pieces=1), ScriptedToolCall("local_time", {"city": "Paris"}, pieces=3)]
    fake_server.enqueue(
        Script(text="Let me check.", tool_calls=calls, drop_after=5), provider=WIRE[provider]
    )
    other = "openai" if provider != "openai" else "google"
    ask = asker(dispatcher, provider, metadata=True, mid_stream="continue")

    with pytest.raises(StreamInterrupted) as caught:
        async for _ in ask.with_options(providers=[provider, other])("Weather?"):
            pass

    error = caught.value
    assert error.partial_text == "Let me check."
    first, *rest = error.partial_tool_calls
    assert first["name"] == "get_weather"
    assert json.loads(first["arguments_text"]) == {"city": "Paris"}
    if provider != "google":
        [second] = rest
        assert second["name"] == "local_time" and second["arguments_text"]
        assert not second["arguments_text"].endswith("}")  # cut short
    assert [r.provider for r in fake_server.requests] == [WIRE[provider]]  # not continued


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_the_cache_replays_a_tool_call_answer(
    provider: str, fake_server: FakeProviderServer, dispatcher: Any
) -> None:
    fake_server.enqueue(Script(tool_calls=[weather_call("Rome")]), provider=WIRE[provider])
    ask = asker(dispatcher, provider, metadata=True, cache=StreamingCache())

    live = ask("What is the weather in Rome?")
    live_items = [m async for m in live]
    await live._options.cache.flush()
    replay = ask("What is the weather in Rome?")
    replay_items = [m async for m in replay]

    assert len(fake_server.requests) == 1 and replay.context.cached
    assert replay.tool_calls == live.tool_calls
    kinds = [(m["kind"], (m["tool_call"] or {}).get("phase")) for m in replay_items]
    assert kinds == [(m["kind"], (m["tool_call"] or {}).get("phase")) for m in live_items]


async def test_an_answer_whose_tool_call_does_not_fit_is_never_stored(
    fake_server: FakeProviderServer, dispatcher: Any
) -> None:
    wrong = Script(tool_calls=[ScriptedToolCall("get_weather", {"town": "Rome"})])
    fake_server.enqueue(wrong, provider="openai")
    fake_server.enqueue(Script(tool_calls=[weather_call("Rome")]), provider="openai")
    cache = StreamingCache()
    ask = asker(dispatcher, "openai", cache=cache)

    with pytest.raises(InvalidToolCallError):
        await ask("What is the weather in Rome?").collect()
    await cache.flush()
    second = await ask("What is the weather in Rome?").collect()

    assert len(fake_server.requests) == 2 and not second.context.cached
    assert [c.arguments["city"] for c in second.tool_calls] == ["Rome"]
    await cache.flush()
    assert cache.stats().stores == 1


async def test_tools_partition_the_cache(
    fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    cache = StreamingCache()
    dispatcher = make_dispatcher()

    @llm_stream(dispatcher=dispatcher, providers=["openai"], cache=cache)
    async def ask(
        prompt: str, tools: list[Any] | None = None, tool_choice: str | None = None
    ) -> Any:
        yield "offline stand-in"

    await ask("Weather in Rome?").collect()
    await cache.flush()
    await ask("Weather in Rome?", tools=[get_weather]).collect()
    await cache.flush()
    await ask("Weather in Rome?", tools=[get_weather], tool_choice="required").collect()
    await cache.flush()
    await ask("Weather in Rome?", tools=[get_weather]).collect()
    assert len(fake_server.requests) == 3


async def test_the_embedding_stage_signs_the_text_only(
    fake_server: FakeProviderServer, dispatcher: Any
) -> None:
    from llm_dispatch.embedding.verify import verify

    key = "tool-stream-signing-key-0123"
    fake_server.enqueue(Script(tool_calls=[weather_call()]), provider="openai")
    fake_server.enqueue(
        Script(text="Looking it up.", tool_calls=[weather_call()]), provider="openai"
    )
    ask = asker(dispatcher, "openai", embed_metadata={"hmac_key": key})

    calls_only = await ask("Weather?").collect()
    with_text = await ask("Weather?").collect()

    assert calls_only.get_text() == "" and calls_only.tool_calls  # nothing to sign
    assert with_text.tool_calls and with_text.get_text() != "Looking it up."
    result = verify(with_text.get_text(), key)
    assert result.valid


async def test_after_a_continuation_only_the_answering_attempts_reasoning_is_sent_back(
    fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    from llm_dispatch.testing.wire_anthropic import thinking_signature

    # A first Anthropic provider's thinking is cut off after two words, before its
    # signature; the second thinks anew, signs its thinking and calls the tool.
    fake_server.enqueue(Script(reasoning="one two three", text="never", drop_after=2))
    thought = "Paris needs the weather tool."
    fake_server.enqueue(Script(reasoning=thought, tool_calls=[weather_call("Paris")]))
    fake_server.enqueue(Script(text="Sunny."))
    first = {
        "kind": "anthropic",
        "api_key": TEST_KEYS["anthropic"],
        "base_url": fake_server.base_url_for("anthropic"),
        "default_model": TEST_MODELS["anthropic"],
    }

    @llm_stream(
        dispatcher=make_dispatcher(providers={"first": first}),
        providers=["first", "anthropic"],
        tools=[get_weather],
        mid_stream="continue",
    )
    async def ask(prompt: str) -> Any:
        yield "offline stand-in"

    loop = await run_tools(ask("Weather in Paris?"), max_steps=2).collect()

    assert loop.steps[0].reasoning == "one two" + thought  # what the consumer saw
    assert loop.result.get_text() == "Sunny."
    sent = [p["raw"] for parts in fake_server.requests[-1].parts for p in parts if "raw" in p]
    [block] = [b for b in sent if b.get("type") == "thinking"]
    assert block["thinking"] == thought
    assert block["signature"] == thinking_signature(thought)


async def test_both_callback_styles_see_each_tool_call_step(
    fake_server: FakeProviderServer, dispatcher: Any
) -> None:
    from llm_dispatch import EventCallbacks, StreamingCallbacks
    from llm_dispatch.streaming import StreamToolCallEvent

    calls = [weather_call("Paris", pieces=2), ScriptedToolCall("local_time", {"city": "Oslo"})]
    fake_server.enqueue(Script(tool_calls=calls), provider="openai", times=2)
    typed: list[StreamToolCallEvent] = []
    dicts: list[dict[str, Any]] = []

    await asker(dispatcher, "openai", callbacks=EventCallbacks(on_tool_call=typed.append))(
        "Weather in Paris, time in Oslo?"
    ).collect()
    await asker(dispatcher, "openai", callbacks=StreamingCallbacks(on_tool_call=dicts.append))(
        "Weather in Paris, time in Oslo?"
    ).collect()

    assert all(isinstance(e, StreamToolCallEvent) for e in typed)
    steps = [(e.phase, e.name) for e in typed]
    assert steps[0] == ("started", "get_weather") and steps[-2:] == [
        ("done", "get_weather"),
        ("done", "local_time"),
    ]
    assert (
        "".join(e.arguments_delta for e in typed if e.index == 0) == typed[-2].call.arguments_text
    )
    assert typed[-1].call is not None and typed[-1].call.arguments == {"city": "Oslo"}
    assert [(d["tool_call"]["phase"], d["tool_call"]["name"]) for d in dicts] == steps
    assert all(d["kind"] == "tool_call" and d["chunk"] == "" for d in dicts)
