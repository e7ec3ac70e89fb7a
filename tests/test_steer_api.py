"""The Steer LLM SDK names (seed 003) on real provider streams: SteerLLMClient, every
StreamingOptions field doing what its name says, create_event_processor's options, and a
model name no configured provider serves refused before anything is sent."""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import ValidationError

import llm_dispatch
from llm_dispatch import (
    AllProvidersFailed,
    Client,
    InvalidJSONError,
    NoProviderAvailable,
    SteerLLMClient,
    StreamInterrupted,
    StreamTimeout,
    llm_stream,
)
from llm_dispatch.errors import ProviderConnectionError
from llm_dispatch.streaming import (
    JSON_MODE_OPTIONS,
    EventTransformer,
    StreamDeltaEvent,
    StreamingOptions,
    create_event_processor,
)
from llm_dispatch.testing import FakeProviderServer, Script
from llm_dispatch.tokens import CHARS_PER_TOKEN, cached_encoding_path

CHUNKS = ["Once ", "upon ", "a ", "time."]
TEXT = "".join(CHUNKS)


def test_steer_client_is_the_client() -> None:
    assert SteerLLMClient is Client
    assert "SteerLLMClient" in llm_dispatch.__all__


# -- timeouts ---------------------------------------------------------------------------------


@pytest.fixture
def unresponsive_port() -> Iterator[int]:
    """A port on 127.0.0.1 whose listener's accept queue is full: connecting never completes."""
    with contextlib.ExitStack() as stack:
        listener = stack.enter_context(socket.socket())
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        for _ in range(3):
            filler = stack.enter_context(socket.socket())
            filler.setblocking(False)
            filler.connect_ex(listener.getsockname())
        yield listener.getsockname()[1]


@pytest.fixture
def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def provider_at(port: int, **extra: Any) -> dict[str, Any]:
    return {
        "kind": "openai",
        "api_key": "sk-test-0123456789",
        "base_url": f"http://127.0.0.1:{port}/v1",
        "default_model": "m",
        **extra,
    }


async def test_connection_timeout_is_the_connect_deadline(
    make_dispatcher: Any, unresponsive_port: int
) -> None:
    # The provider's own configured connect deadline (5 s) is replaced for this call.
    dispatcher = make_dispatcher(
        providers={"slow": provider_at(unresponsive_port, timeouts={"connect": 5})}
    )
    client = Client(dispatcher=dispatcher)
    options = StreamingOptions(connection_timeout=0.2, retry_on_connection_error=False)
    started = time.monotonic()
    with pytest.raises(StreamTimeout) as info:
        await asyncio.wait_for(
            client.stream_with_usage("hi", provider="slow", streaming_options=options), 10
        )
    assert time.monotonic() - started < 3
    assert (info.value.limit, info.value.seconds) == ("connect", 0.2)
    assert [a.kind for a in info.value.attempts] == ["timeout"]  # not retried


async def test_read_timeout_bounds_the_first_token_and_each_gap(
    fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    client = Client(dispatcher=make_dispatcher())
    options = StreamingOptions(read_timeout=0.3)
    fake_server.enqueue(Script(chunks=CHUNKS, chunk_delay=1.0))
    chunks: list[str] = []
    with pytest.raises(StreamInterrupted) as info:
        async with asyncio.timeout(10):
            async for chunk in client.stream("hi", provider="openai", streaming_options=options):
                chunks.append(chunk)
    cause = info.value.__cause__
    assert isinstance(cause, StreamTimeout) and (cause.limit, cause.seconds) == ("idle", 0.3)
    assert chunks == CHUNKS[:1]

    # The first token (not retried: max_retries=0).
    fake_server.enqueue(Script(chunks=CHUNKS, first_delay=1.0))
    with pytest.raises(StreamTimeout) as first:
        await asyncio.wait_for(
            client.stream_with_usage(
                "hi", provider="openai", max_retries=0, streaming_options=options
            ),
            10,
        )
    assert (first.value.limit, first.value.seconds) == ("first_token", 0.3)

    # Without the option, the same slow answer streams to its end.
    fake_server.enqueue(Script(chunks=CHUNKS, chunk_delay=0.4))
    response = await asyncio.wait_for(client.stream_with_usage("hi", provider="openai"), 10)
    assert response.get_text() == TEXT


@pytest.mark.parametrize(("retry", "tries"), [(True, 3), (False, 1)])
async def test_retry_on_connection_error(
    retry: bool, tries: int, make_dispatcher: Any, closed_port: int
) -> None:
    client = Client(dispatcher=make_dispatcher(providers={"gone": provider_at(closed_port)}))
    options = StreamingOptions(retry_on_connection_error=retry)
    with pytest.raises((AllProvidersFailed, ProviderConnectionError)) as info:
        await asyncio.wait_for(
            client.stream_with_usage("hi", provider="gone", streaming_options=options), 10
        )
    attempts = info.value.attempts
    assert [a.kind for a in attempts] == ["connection"] * tries


async def test_other_failures_are_still_retried_without_connection_retries(
    fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    client = Client(dispatcher=make_dispatcher())
    fake_server.enqueue(Script(status=503), times=2)
    fake_server.enqueue(Script(chunks=CHUNKS))
    options = StreamingOptions(retry_on_connection_error=False)
    response = await client.stream_with_usage("hi", provider="openai", streaming_options=options)
    assert response.get_text() == TEXT and len(fake_server.requests) == 3


# -- usage ------------------------------------------------------------------------------------


async def test_usage_aggregation_on_and_off(
    fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    client = Client(dispatcher=make_dispatcher())
    seen: list[str] = []

    async def on_usage(event: Any) -> None:
        seen.append(f"usage {event.usage.total_tokens}")

    async def on_complete(event: Any) -> None:
        seen.append(f"complete {event.result.usage}")

    fake_server.enqueue(Script(chunks=CHUNKS, usage=(12, 17)))
    on = await client.stream_with_usage("hi", on_usage=on_usage, on_complete=on_complete)
    assert on.usage is not None and on.usage.total_tokens == 29
    assert on.token_counter == "provider"
    assert seen == ["usage 29", "complete prompt_tokens=12 completion_tokens=17 total_tokens=29"
                    " estimated=False reasoning_tokens=0 cached_input_tokens=0"
                    " cache_write_tokens=0"]  # fmt: skip

    seen.clear()
    fake_server.enqueue(Script(chunks=CHUNKS, send_usage=False))
    off = await client.stream_with_usage(
        "hi",
        on_usage=on_usage,
        on_complete=on_complete,
        streaming_options=StreamingOptions(enable_usage_aggregation=False),
    )
    assert off.get_text() == TEXT
    assert off.usage is None and off.cost_usd is None and off.token_counter is None
    assert seen == ["complete None"]
    # Nothing was counted: the ledger holds the attempt with no estimated tokens.
    [entry] = off.attempts
    assert entry.usage.total_tokens == 0 and not entry.usage.estimated


async def test_character_aggregation_counts_characters(
    fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    client = Client(dispatcher=make_dispatcher())
    fake_server.enqueue(Script(chunks=CHUNKS, send_usage=False))
    options = StreamingOptions(aggregator_type="character")
    response = await client.stream_with_usage("hi", streaming_options=options)
    usage = response.usage
    assert usage is not None and usage.estimated
    assert usage.completion_tokens == -(-len(TEXT) // CHARS_PER_TOKEN)
    assert response.token_counter == "characters"
    # prefer_tiktoken=False with the default aggregator is the same choice.
    assert StreamingOptions(prefer_tiktoken=False).token_counter == "character"


def _tiktoken_cached() -> bool:
    if importlib.util.find_spec("tiktoken") is None:
        return False
    return any(cached_encoding_path(n) for n in ("o200k_base", "cl100k_base"))


@pytest.mark.skipif(
    not _tiktoken_cached(),
    reason="tiktoken is not installed, or has no encoding in its local cache (never downloaded)",
)
async def test_tiktoken_aggregation_counts_with_tiktoken(
    fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    client = Client(dispatcher=make_dispatcher())
    fake_server.enqueue(Script(chunks=CHUNKS, send_usage=False))
    options = StreamingOptions(prefer_tiktoken=True, aggregator_type="tiktoken")
    response = await client.stream_with_usage("hi", streaming_options=options)
    assert response.token_counter is not None
    assert response.token_counter.startswith("tiktoken/")


async def test_tiktoken_asked_for_but_unavailable_says_characters(
    fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    if _tiktoken_cached():
        pytest.skip("tiktoken is available here: the fallback cannot be seen")
    client = Client(dispatcher=make_dispatcher())
    fake_server.enqueue(Script(chunks=CHUNKS, send_usage=False))
    options = StreamingOptions(aggregator_type="tiktoken")
    response = await client.stream_with_usage("hi", streaming_options=options)
    assert response.token_counter == "characters"


def test_streaming_options_refuse_what_they_cannot_do() -> None:
    with pytest.raises(ValidationError, match="aggregator_type"):
        StreamingOptions(aggregator_type="words")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="enable_usage_aggregation=False"):
        StreamingOptions(enable_usage_aggregation=False, aggregator_type="character")
    with pytest.raises(ValidationError, match="prefer_tiktoken=False"):
        StreamingOptions(prefer_tiktoken=False, aggregator_type="tiktoken")
    with pytest.raises(ValidationError, match="json_mode"):
        StreamingOptions(json_mode=True, enable_json_stream_handler=False)
    with pytest.raises(ValidationError, match="connection_timeout"):
        StreamingOptions(connection_timeout=0)
    with pytest.raises(ValidationError, match="buffer_size"):
        StreamingOptions(buffer_size=10)  # type: ignore[call-arg]
    assert JSON_MODE_OPTIONS.enable_json_stream_handler
    assert StreamingOptions(json_mode=True).enable_json_stream_handler


# -- JSON -------------------------------------------------------------------------------------


async def test_json_stream_handler_follows_and_checks_the_answer(
    fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    client = Client(dispatcher=make_dispatcher())
    options = StreamingOptions(enable_json_stream_handler=True)
    fake_server.enqueue(Script(chunks=['{"name": "Jo', 'hn", "age"', ": 30}"]))
    stream = client.stream(
        "user", response_format={"type": "json_object"}, streaming_options=options
    )
    partials = []
    async with asyncio.timeout(10):
        async for _ in stream:
            partials.append(stream.partial_json)
    assert partials == [{"name": "Jo"}, {"name": "John"}, {"name": "John", "age": 30}]
    assert stream.get_json() == {"name": "John", "age": 30}

    fake_server.enqueue(Script(chunks=["not ", "json"]))
    with pytest.raises(InvalidJSONError) as info:
        await client.stream_with_usage("user", streaming_options=options)
    assert info.value.text == "not json"

    # Off, the same answer streams to its end and nothing follows it as JSON.
    fake_server.enqueue(Script(chunks=["not ", "json"]))
    plain = await client.stream_with_usage("user")
    assert plain.done and plain.partial_json is None


# -- event processing -------------------------------------------------------------------------


class Recorder(EventTransformer):
    def __init__(self) -> None:
        self.events: list[Any] = []

    def transform(self, event: Any) -> Any:
        self.events.append(event)
        if isinstance(event, StreamDeltaEvent):
            event.delta.value = event.delta.value.upper()
        return event


async def test_create_event_processor_options(
    fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    client = Client(dispatcher=make_dispatcher())
    processor = create_event_processor(
        add_correlation=True,
        add_timestamp=True,
        add_metrics=True,
        event_types=["delta", "usage"],
        background=False,
    )
    recorder = Recorder()
    processor.add_transformer(recorder)
    fake_server.enqueue(Script(chunks=CHUNKS, usage=(3, 4)))
    before = time.time()
    response = await client.stream_with_usage(
        "hi", streaming_options=StreamingOptions(event_processor=processor)
    )
    assert response.get_text() == TEXT.upper()
    assert [e.type for e in recorder.events] == ["delta"] * 4 + ["usage"]
    assert all(e.correlation_id == response.request_id for e in recorder.events)
    assert all(e.timestamp is not None and e.timestamp >= before for e in recorder.events)
    metrics = processor.metrics
    assert metrics is not None
    assert metrics.streams == 1 and metrics.events == {"delta": 4, "usage": 1}
    assert metrics.text_chars == len(TEXT)
    assert metrics.time_to_first_delta_ms is not None and metrics.duration_ms is not None

    # The defaults: text chunks only, nothing added, no metrics.
    plain, seen = create_event_processor(), Recorder()
    plain.add_transformer(seen)
    fake_server.enqueue(Script(chunks=CHUNKS))
    await client.stream_with_usage("hi", streaming_options=StreamingOptions(event_processor=plain))
    assert [e.type for e in seen.events] == ["delta"] * 4
    assert seen.events[0].correlation_id is None and seen.events[0].timestamp is None
    assert plain.metrics is None


async def test_an_event_processor_sees_start_complete_and_error(
    fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    client = Client(dispatcher=make_dispatcher())
    recorder = Recorder()
    processor = create_event_processor(event_types=["start", "complete", "error"])
    processor.add_transformer(recorder)
    options = StreamingOptions(event_processor=processor)
    fake_server.enqueue(Script(chunks=CHUNKS))
    await client.stream_with_usage("hi", provider="openai", streaming_options=options)
    fake_server.enqueue(Script(status=400, error_message="no"))
    with pytest.raises(Exception, match="no"):
        await client.stream_with_usage("hi", provider="openai", streaming_options=options)
    assert [e.type for e in recorder.events] == ["start", "complete", "start", "error"]
    assert recorder.events[1].result.text == TEXT  # delta events were not selected
    assert recorder.events[3].error_type == "BadRequestError"


def test_create_event_processor_refuses_what_it_cannot_do() -> None:
    with pytest.raises(ValueError, match="background=True"):
        create_event_processor(background=True)
    with pytest.raises(ValueError, match="unknown event type"):
        create_event_processor(event_types=["delta", "chunk"])
    with pytest.raises(TypeError, match="EventTransformer"):
        create_event_processor().add_transformer(print)  # type: ignore[arg-type]


# -- model names ------------------------------------------------------------------------------


async def test_a_model_no_provider_serves_is_refused_before_sending(
    fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    client = Client(dispatcher=make_dispatcher())
    with pytest.raises(NoProviderAvailable, match="grok-2") as info:
        await client.stream_with_usage("hi", model="grok-2")
    assert "providers=['<name>']" in str(info.value)
    with pytest.raises(NoProviderAvailable):
        client.stream("hi", model="grok-2")
    assert fake_server.requests == []

    # Naming the provider sends it there, as for any OpenAI-compatible server's models.
    fake_server.enqueue(Script(chunks=CHUNKS))
    response = await client.stream_with_usage("hi", model="grok-2", providers=["openai"])
    assert response.get_text() == TEXT
    assert (fake_server.requests[0].provider, fake_server.requests[0].model) == (
        "openai",
        "grok-2",
    )


@pytest.mark.parametrize("listed_as", ["models", "default_model", "prices"])
async def test_a_provider_that_names_the_model_serves_it(
    listed_as: str, fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    entry: dict[str, Any] = {
        "kind": "openai",
        "api_key": "xai-test-0123456789",
        "base_url": fake_server.base_url_for("openai"),
        "default_model": "grok-2-mini",
    }
    if listed_as == "models":
        entry["models"] = ["grok-2", "grok-2-mini"]
    elif listed_as == "default_model":
        entry["default_model"] = "grok-2"
    else:
        entry["prices"] = {"grok-2": {"input": 2.0, "output": 10.0}}
    client = Client(dispatcher=make_dispatcher(providers={"xai": entry}))
    fake_server.enqueue(Script(chunks=CHUNKS, usage=(1_000_000, 100_000)))
    response = await client.stream_with_usage("hi", model="grok-2")
    assert (response.provider, response.model) == ("xai", "grok-2")
    if listed_as == "prices":
        assert response.cost_usd == pytest.approx(3.0)


@pytest.mark.parametrize(
    ("model", "provider"),
    [("gpt-4", "openai"), ("claude-3-opus", "anthropic"), ("gemini-1.5-pro", "google")],
)
async def test_seed_model_names_reach_their_kind(
    model: str, provider: str, fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    client = Client(dispatcher=make_dispatcher())
    fake_server.enqueue(Script(chunks=CHUNKS))
    response = await client.stream_with_usage("hi", model=model)
    assert (response.provider, response.model) == (provider, model)


async def test_a_decorated_functions_connect_deadline_applies_too(
    make_dispatcher: Any, unresponsive_port: int
) -> None:
    from llm_dispatch import llm_stream

    @llm_stream(
        dispatcher=make_dispatcher(providers={"slow": provider_at(unresponsive_port)}),
        providers=["slow"],
        policy={"timeouts": {"connect": 0.2}, "retry": {"max_retries": 0}},
    )
    async def answer(prompt: str) -> Any:
        yield "unused"

    with pytest.raises(StreamTimeout) as info:
        await asyncio.wait_for(answer("hi").collect(), 10)
    assert (info.value.limit, info.value.seconds) == ("connect", 0.2)


async def test_a_decorated_call_follows_the_same_model_rule(
    fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    dispatcher = make_dispatcher()

    @llm_stream(dispatcher=dispatcher, model="grok-2")
    async def unserved(prompt: str) -> Any:
        yield "offline stand-in"

    @llm_stream(dispatcher=dispatcher, model="claude-haiku-4-5")
    async def claude(prompt: str) -> Any:
        yield "offline stand-in"

    with pytest.raises(NoProviderAvailable, match="grok-2"):
        await asyncio.wait_for(unserved("hi").collect(), 30)
    assert fake_server.requests == []

    # The route's first provider is OpenAI; the Claude model goes to Anthropic.
    fake_server.enqueue(Script(chunks=CHUNKS), provider="anthropic")
    stream = await asyncio.wait_for(claude("hi").collect(), 30)
    assert (stream.provider, stream.model) == ("anthropic", "claude-haiku-4-5")
    assert [(r.provider, r.model) for r in fake_server.requests] == [
        ("anthropic", "claude-haiku-4-5")
    ]
