"""The client API on real provider streams: stream(), stream_with_usage() with typed
event callbacks, model routing, and the batch helper's concurrency limit."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from llm_dispatch import (
    AllProvidersFailed,
    BatchChunk,
    Client,
    DispatchStream,
    ProgressTracker,
    Stage,
    StreamHandler,
    TaskRequest,
)
from llm_dispatch.errors import BadRequestError
from llm_dispatch.testing import FakeProviderServer, Script

CHUNKS = ["Once ", "upon ", "a ", "time."]


class Concurrency(Stage):
    """Counts the streams running at once, as the dispatcher sees them."""

    def __init__(self) -> None:
        self.active = 0
        self.peak = 0

    async def on_start(self, ctx: Any) -> None:
        self.active += 1
        self.peak = max(self.peak, self.active)

    async def on_end(self, ctx: Any) -> str:
        self.active -= 1
        return ""

    async def on_error(self, ctx: Any, exc: BaseException) -> None:
        self.active -= 1


async def test_stream_yields_text_and_keeps_the_result(
    fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    client = Client(dispatcher=make_dispatcher())
    fake_server.enqueue(Script(chunks=CHUNKS, usage=(5, 4)))
    stream = client.stream("Tell me a story", model="gpt-4o-mini")
    chunks = [c async for c in stream]
    assert chunks == CHUNKS
    assert isinstance(stream, DispatchStream)
    assert stream.get_text() == "".join(CHUNKS)
    assert stream.usage is not None and stream.usage.total_tokens == 9
    assert stream.provider == "openai" and stream.finish_reason == "stop"
    # The duration is the stream's, not the time since it started.
    duration = stream.duration_ms
    await asyncio.sleep(0.05)
    assert duration > 0 and stream.duration_ms == duration


@pytest.mark.parametrize(
    ("model", "provider"),
    [("gpt-4o", "openai"), ("claude-custom-model", "anthropic"), ("gemini-2.5-pro", "google")],
)
async def test_a_model_name_reaches_its_provider_with_the_others_as_fallback(
    model: str, provider: str, fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    client = Client(dispatcher=make_dispatcher())
    fake_server.enqueue(Script(status=400, error_message="unknown model"), model=model)
    # A bad request is not retried nor passed on: the call fails at the model's provider.
    with pytest.raises(BadRequestError):
        await client.stream_with_usage("hi", model=model)
    [recorded] = fake_server.requests
    assert (recorded.provider, recorded.model) == (provider, model)

    fake_server.enqueue(Script(status=503), model=model, times=3)
    fake_server.enqueue(Script(chunks=["fallback answer"]))
    response = await client.stream_with_usage("hi", model=model)
    assert response.get_text() == "fallback answer"
    assert response.provider != provider
    assert [a.provider for a in response.attempts][:3] == [provider] * 3


async def test_messages_system_and_request_fields_reach_the_provider(
    fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    client = Client(dispatcher=make_dispatcher())
    await client.stream_with_usage(
        messages=[
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Hello"},
            {"role": "assistant", "content": "Hi!"},
        ],
        prompt="And now?",
        provider="anthropic",
        max_tokens=77,
        temperature=0.2,
        stop="END",
    )
    [recorded] = fake_server.requests
    assert recorded.system == "Be brief."
    assert [m["content"] for m in recorded.messages] == ["Hello", "Hi!", "And now?"]
    assert recorded.body["max_tokens"] == 77 and recorded.body["stop_sequences"] == ["END"]


async def test_stream_with_usage_and_seed_003_event_callbacks(
    fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    client = Client(dispatcher=make_dispatcher())
    log: list[tuple[Any, ...]] = []

    async def on_start(event: Any) -> None:
        log.append(("start", event.model, event.provider))

    async def on_delta(event: Any) -> None:
        log.append(("delta", event.chunk_index, event.delta.get_text()))

    async def on_usage(event: Any) -> None:
        log.append(("usage", event.usage.model_dump()))

    async def on_complete(event: Any) -> None:
        log.append(("complete", event.metadata.get("duration_ms") > 0))

    async def on_error(event: Any) -> None:
        log.append(("error", event.error_type))

    fake_server.enqueue(Script(chunks=CHUNKS, usage=(12, 17)))
    response = await client.stream_with_usage(
        "Explain quantum computing",
        model="gemini-2.5-flash",
        on_start=on_start,
        on_delta=on_delta,
        on_usage=on_usage,
        on_complete=on_complete,
        on_error=on_error,
    )
    assert log == [
        ("start", "gemini-2.5-flash", "google"),
        *[("delta", i, c) for i, c in enumerate(CHUNKS)],
        (
            "usage",
            {
                "prompt_tokens": 12,
                "completion_tokens": 17,
                "total_tokens": 29,
                "estimated": False,
                "reasoning_tokens": 0,
                "cached_input_tokens": 0,
                "cache_write_tokens": 0,
            },
        ),
        ("complete", True),
    ]
    assert response.get_text() == "".join(CHUNKS)
    assert response.usage is not None and response.usage.total_tokens == 29


async def test_client_wide_callbacks_tracker_and_stages_apply_to_every_call(
    fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    tokens: list[str] = []
    tracker = ProgressTracker()
    counter = Concurrency()
    client = Client(
        dispatcher=make_dispatcher(),
        callbacks=StreamHandler(on_token=tokens.append),
        progress_tracker=tracker,
        stages=[counter],
    )
    fake_server.enqueue(Script(chunks=CHUNKS))
    await client.stream_with_usage("one", provider="openai")
    assert tokens == CHUNKS and tracker.get_progress() == 100.0 and counter.peak == 1


async def test_a_client_with_its_own_configuration_closes_it(
    fake_server: FakeProviderServer, clean_provider_env: None
) -> None:
    from conftest import fake_providers

    async with Client({"providers": fake_providers(fake_server)}) as client:
        response = await client.stream_with_usage("hi", provider="google")
        assert response.done
        dispatcher = client.dispatcher
        assert dispatcher is not None and dispatcher._providers
    assert not dispatcher._providers  # closed on exit


@pytest.mark.parametrize("concurrency", [1, 3])
async def test_batch_stream_respects_its_concurrency_limit(
    concurrency: int, fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    counter = Concurrency()
    client = Client(dispatcher=make_dispatcher(), stages=[counter])
    fake_server.default = Script(chunks=["a ", "b ", "c"], chunk_delay=0.02)
    prompts = [f"prompt {i}" for i in range(7)]

    items = [item async for item in client.batch_stream(prompts, concurrency=concurrency)]

    assert counter.peak == concurrency
    finished = [i for i in items if i.done]
    assert sorted(i.index for i in finished) == list(range(7))
    assert all(i.error is None and i.result is not None for i in finished)
    for index in range(7):
        text = "".join(i.chunk for i in items if i.index == index)
        assert text == "a b c"
    assert sorted(r.prompt for r in fake_server.requests) == sorted(prompts)
    if concurrency > 1:
        # Chunks of different requests interleave: they did stream at the same time.
        order = [i.index for i in items if not i.done]
        assert order != sorted(order)


async def test_batch_keeps_going_past_a_failed_request(
    fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    client = Client(dispatcher=make_dispatcher())
    requests = [
        TaskRequest(prompt="fine", provider="openai"),
        {"prompt": "refused", "provider": "anthropic"},
        "also fine",
        TaskRequest(provider="google"),  # no prompt: cannot even be built
    ]
    fake_server.enqueue(Script(status=400, error_message="no"), provider="anthropic")

    results = await client.batch(requests, concurrency=2, return_exceptions=True)
    assert isinstance(results[0], DispatchStream) and results[0].done
    assert isinstance(results[1], BadRequestError)
    assert isinstance(results[2], DispatchStream) and results[2].done
    assert isinstance(results[3], TypeError) and "prompt" in str(results[3])

    fake_server.enqueue(Script(status=400, error_message="no"), provider="anthropic")
    with pytest.raises(BadRequestError):
        await client.batch(requests, concurrency=2)


async def test_leaving_a_batch_early_stops_every_stream(
    fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    client = Client(dispatcher=make_dispatcher())
    fake_server.default = Script(chunks=[f"c{i} " for i in range(400)], chunk_delay=0.005)
    batch = client.batch_stream(["a", "b", "c", "d"], concurrency=2)
    seen: list[BatchChunk] = []
    async for item in batch:
        seen.append(item)
        # Let the streams fill the batch's queue: the workers are blocked on it when the
        # consumer leaves, and must still stop.
        await asyncio.sleep(0.3)
        break
    await asyncio.wait_for(batch.aclose(), 5)
    assert len(fake_server.requests) == 2
    for recorded in fake_server.requests:
        await recorded.wait_done(timeout=2)
        assert recorded.disconnected
    await asyncio.sleep(0.1)
    assert len(fake_server.requests) == 2  # nothing started after the consumer left


def test_client_arguments_are_checked() -> None:
    with pytest.raises(TypeError, match="config= or dispatcher="):
        Client({}, dispatcher=object())  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="callbacks"):
        Client(callbacks=42)


async def test_policy_arguments_apply_to_one_call(
    fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    client = Client(dispatcher=make_dispatcher())
    fake_server.default = Script(status=500)
    with pytest.raises(AllProvidersFailed):
        await client.stream_with_usage("hi", provider="openai", max_retries=0)
    assert len(fake_server.requests) == 1
    with pytest.raises(AllProvidersFailed):
        await client.stream_with_usage(
            "hi", provider="openai", policy={"retry": {"max_retries": 1}}
        )
    assert len(fake_server.requests) == 3
