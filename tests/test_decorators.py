"""Both decorators end to end: real SDKs over real HTTP against the fake provider server."""

from __future__ import annotations

import asyncio
import gc
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import TEST_KEYS, TEST_MODELS

import llm_dispatch
from llm_dispatch import (
    ChunkMetadata,
    ProviderError,
    RequestBindingError,
    StreamInterrupted,
    TaskType,
    llm_stream,
    llm_stream_with_metadata,
)
from llm_dispatch.errors import IncompleteStreamError
from llm_dispatch.testing import FakeProviderServer, Script, capture_events

PROVIDERS = ["openai", "anthropic", "google"]
CHUNKS = ["Hello", ", wor", "ld! ", "Chunk ", "boundaries ", "stay\n", "exactly ", "as sent."]


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_llm_stream_each_provider(
    provider: str, fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    dispatcher = make_dispatcher()
    fake_server.enqueue(Script(chunks=CHUNKS, usage=(12, 8)), provider=provider)

    @llm_stream(task_type=TaskType.TEXT_GENERATION, providers=[provider], dispatcher=dispatcher)
    async def stream_text(prompt: str) -> Any:
        yield "offline stand-in"

    stream = stream_text("Write a long story about space exploration")
    received = [chunk async for chunk in stream]

    assert received == CHUNKS
    assert stream.get_text() == "".join(CHUNKS)
    assert stream.usage is not None
    assert (stream.usage.prompt_tokens, stream.usage.completion_tokens) == (12, 8)
    assert stream.usage.total_tokens == 20 and not stream.usage.estimated
    assert stream.finish_reason == "stop"
    assert (stream.provider, stream.model) == (provider, TEST_MODELS[provider])
    [recorded] = fake_server.requests
    assert recorded.prompt == "Write a long story about space exploration"
    assert recorded.completed and not recorded.disconnected


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_llm_stream_with_metadata_dicts(
    provider: str, fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    dispatcher = make_dispatcher()
    fake_server.enqueue(Script(chunks=CHUNKS, usage=(5, 8), finish_reason="length"))

    @llm_stream_with_metadata(providers=[provider], dispatcher=dispatcher)
    async def stream_with_metadata(prompt: str) -> Any:
        yield "offline stand-in"

    items = [m async for m in stream_with_metadata("Write a story")]

    assert [m["chunk"] for m in items[:-1]] == CHUNKS
    assert [m["chunk_index"] for m in items] == list(range(len(CHUNKS) + 1))
    for item in items:
        # One typed model describes every dict, key for key.
        assert ChunkMetadata(**item).model_dump() == item
        assert item["provider"] == provider and item["model"] == TEST_MODELS[provider]
        assert item["task_type"] == "text_generation"
        assert item["request_id"] == items[0]["request_id"]
        assert item["cached"] is False and item["attempt"] == 1
    assert not any(m["is_final"] for m in items[:-1])
    final = items[-1]
    assert final["is_final"] and final["chunk"] == "" and final["progress"] == 100
    assert final["finish_reason"] == "length"
    assert final["usage"] == {
        "prompt_tokens": 5,
        "completion_tokens": 8,
        "total_tokens": 13,
        "estimated": False,
        "reasoning_tokens": 0,
        "cached_input_tokens": 0,
        "cache_write_tokens": 0,
    }
    elapsed = [m["elapsed_ms"] for m in items]
    assert elapsed == sorted(elapsed)


async def test_openai_compatible_server_as_its_own_provider(
    fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    dispatcher = make_dispatcher(
        providers={
            "vllm": {
                "kind": "openai",
                "base_url": fake_server.openai_base_url,
                "api_key": "EMPTY",
                "models": ["meta-llama/Llama-3.1-8B-Instruct"],
            }
        }
    )
    fake_server.enqueue(Script(chunks=["local ", "model"]))

    @llm_stream(providers=["vllm"], dispatcher=dispatcher)
    async def local(prompt: str) -> Any:
        yield "unused"

    stream = local("hi")
    assert [c async for c in stream] == ["local ", "model"]
    assert stream.provider == "vllm"
    [recorded] = fake_server.requests
    assert recorded.provider == "openai"
    assert recorded.model == "meta-llama/Llama-3.1-8B-Instruct"


async def test_function_provider_streams_the_body(
    fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    dispatcher = make_dispatcher()

    @llm_stream(providers=["function"], dispatcher=dispatcher)
    async def body(prompt: str, n: int = 3) -> Any:
        for i in range(n):
            yield f"{prompt}-{i} "

    @llm_stream_with_metadata(providers=["function"], dispatcher=dispatcher)
    async def dict_body(prompt: str) -> Any:
        # Bodies written for the metadata decorator often yield dicts with a "chunk" key.
        for i in range(2):
            yield {"chunk": f"Chunk {i}: ", "chunk_index": i, "provider": "openai"}

    stream = body("x", n=4)
    assert [c async for c in stream] == ["x-0 ", "x-1 ", "x-2 ", "x-3 "]
    assert stream.provider == "function" and stream.finish_reason == "stop"
    assert stream.usage is not None and stream.usage.estimated
    items = [m async for m in dict_body("y")]
    assert [m["chunk"] for m in items] == ["Chunk 0: ", "Chunk 1: ", ""]
    assert all(m["provider"] == "function" for m in items)
    assert fake_server.requests == []


async def test_body_not_run_when_routing_does_not_list_it(
    fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    ran = False

    @llm_stream(providers=["openai"], dispatcher=make_dispatcher())
    async def stream_text(prompt: str) -> Any:
        nonlocal ran
        ran = True
        yield "body"

    assert "body" not in "".join([c async for c in stream_text("hi")])
    assert ran is False


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_break_closes_the_provider_stream(
    provider: str, fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    dispatcher = make_dispatcher()
    fake_server.enqueue(Script(chunks=[f"c{i} " for i in range(200)], chunk_delay=0.02))

    @llm_stream(providers=[provider], dispatcher=dispatcher)
    async def stream_text(prompt: str) -> Any:
        yield "unused"

    stream = stream_text("a long answer please")
    received = []
    async for chunk in stream:
        received.append(chunk)
        if len(received) == 3:
            break
    [recorded] = fake_server.requests
    await recorded.wait_done(timeout=2.0)
    assert recorded.disconnected
    assert recorded.chunks_sent < 20
    assert received == ["c0 ", "c1 ", "c2 "]
    await asyncio.sleep(0)
    gc.collect()
    leftover = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    assert all("aclose" not in repr(t) for t in leftover)


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_task_cancel_closes_the_provider_stream(
    provider: str, fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    dispatcher = make_dispatcher()
    fake_server.enqueue(Script(chunks=[f"c{i} " for i in range(200)], chunk_delay=0.02))

    @llm_stream(providers=[provider], dispatcher=dispatcher)
    async def stream_text(prompt: str) -> Any:
        yield "unused"

    received: list[str] = []
    three = asyncio.Event()

    async def consume() -> None:
        async for chunk in stream_text("go"):
            received.append(chunk)
            if len(received) == 3:
                three.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(three.wait(), timeout=5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    [recorded] = fake_server.requests
    await recorded.wait_done(timeout=2.0)
    assert recorded.disconnected


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_body_cut_without_closing_event_never_looks_like_success(
    provider: str, fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    dispatcher = make_dispatcher(defaults={"fallback": False})
    chunks = [f"part{i} " for i in range(30)]
    fake_server.enqueue(Script(chunks=chunks, cut_after=10))

    @llm_stream_with_metadata(providers=[provider], dispatcher=dispatcher)
    async def stream_text(prompt: str) -> Any:
        yield "unused"

    items: list[dict[str, Any]] = []
    with pytest.raises(StreamInterrupted) as info:
        async for item in stream_text("go"):
            items.append(item)

    assert [m["chunk"] for m in items] == chunks[:10]
    assert not any(m["is_final"] for m in items)
    assert info.value.partial_text == "".join(chunks[:10])
    assert isinstance(info.value.cause, IncompleteStreamError)
    assert info.value.cause.provider == provider


async def test_prompt_binding_and_request_fields(
    fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    dispatcher = make_dispatcher()

    @llm_stream(providers=["openai"], dispatcher=dispatcher, system="Be brief.", temperature=0.2)
    async def ask(question: str, temperature: float = 0.7, max_tokens: int = 50) -> Any:
        yield "unused"

    await ask("What is 2+2?").collect()
    body = fake_server.requests[-1].body
    assert fake_server.requests[-1].system == "Be brief."
    assert fake_server.requests[-1].prompt == "What is 2+2?"
    assert body["temperature"] == 0.7  # the function's parameter wins over the decorator
    assert body.get("max_tokens", body.get("max_completion_tokens")) == 50

    @llm_stream(providers=["anthropic"], dispatcher=dispatcher)
    async def chat(messages: list[dict[str, str]]) -> Any:
        yield "unused"

    history = [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello."},
        {"role": "user", "content": "Bye"},
    ]
    await chat(history).collect()
    recorded = fake_server.requests[-1]
    assert recorded.system == "You are terse."
    assert [m["role"] for m in recorded.messages] == ["user", "assistant", "user"]

    @llm_stream(providers=["google"], prompt_arg="topic", dispatcher=dispatcher)
    async def essay(topic: str, words: int = 100) -> Any:
        yield "unused"

    await essay("tides").collect()
    # The other argument is not dropped: it follows the prompt as a labelled line.
    assert fake_server.requests[-1].prompt == "tides\n\nwords: 100"


def test_prompt_not_found_is_a_type_error_naming_the_function() -> None:
    # No parameter has a prompt's name, and none is annotated `str`.
    @llm_stream(providers=["openai"])
    async def nameless(topic: Any) -> Any:
        yield "unused"

    with pytest.raises(RequestBindingError, match="nameless") as info:
        nameless("x")
    assert isinstance(info.value, TypeError)
    assert "prompt_arg" in str(info.value)

    with pytest.raises(RequestBindingError, match="prompt_arg='nope'"):

        @llm_stream(prompt_arg="nope")
        async def other(prompt: str) -> Any:
            yield "unused"


def test_decorating_anything_but_an_async_function_fails_at_once() -> None:
    async def coroutine(prompt: str) -> str:
        return prompt

    def plain(prompt: str) -> str:
        return prompt

    with pytest.raises(TypeError, match="decorates `async def` functions"):
        llm_stream_with_metadata(providers=["openai"])(plain)
    with pytest.raises(TypeError, match="unknown argument"):
        llm_stream(cache_size=3)(coroutine)


async def test_a_coroutine_body_streams_its_returned_string_as_one_chunk(
    make_dispatcher: Any,
) -> None:
    @llm_stream(dispatcher=make_dispatcher(), providers=["function"], timeout=60)
    async def echo(prompt: str) -> str:
        return prompt

    stream = echo("say it back")
    assert [c async for c in stream] == ["say it back"]
    assert stream.provider == "function" and stream.done

    @llm_stream_with_metadata(dispatcher=make_dispatcher(), providers=["function"])
    async def wrong(prompt: str) -> Any:
        return 42

    with pytest.raises(ProviderError, match="returned int; return the answer as a str"):
        await wrong("x").collect()


async def test_an_empty_prompt_is_refused_before_anything_is_sent(
    fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    @llm_stream(dispatcher=make_dispatcher(), providers=["openai"])
    async def ask(question: str) -> Any:
        yield "unused"

    for empty in ("", "   \n\t"):
        with pytest.raises(RequestBindingError, match=r"ask\(\): the prompt is empty \(question="):
            ask(empty)

    @llm_stream(dispatcher=make_dispatcher(), providers=["openai"])
    async def chat(messages: list[dict[str, str]]) -> Any:
        yield "unused"

    with pytest.raises(RequestBindingError, match=r"messages\[1\] has empty content"):
        chat([{"role": "user", "content": "hi"}, {"role": "user", "content": " "}])
    assert fake_server.requests == []


# What a plain stream does not need, and `import llm_dispatch` must not import: the SDKs
# (imported when their provider is first prepared), the cache's aiocache and redis (when a
# cache backend or the Redis circuit store is built), rich (when a progress bar or the CLI
# draws; structlog imports it too, so structlog waits for the first event a logger lets
# through), the web example's server and the docs tools.
NOT_ON_IMPORT = (
    "openai",
    "anthropic",
    "google.genai",
    "httpx2",
    "redis",
    "aiocache",
    "rich",
    "fastapi",
    "uvicorn",
    "mkdocs",
    "opentelemetry",
    "prometheus_client",
)
# The import takes about 0.27 s here (docs/benchmarks.md, "Import time"). The bound is five
# times that: loose enough for a machine busy with the rest of the suite (the examples and
# doc blocks run side by side), tight enough to catch an eager import of something heavy.
IMPORT_SECONDS = 1.5


def test_import_loads_nothing_a_plain_stream_does_not_need() -> None:
    code = (
        "import sys, time\n"
        "start = time.perf_counter()\n"
        "import llm_dispatch\n"
        "elapsed = time.perf_counter() - start\n"
        "from llm_dispatch import llm_stream, Dispatcher, TaskType\n"
        f"loaded = [m for m in {NOT_ON_IMPORT!r} if m in sys.modules]\n"
        "print(llm_dispatch.__file__)\n"
        "print(','.join(loaded))\n"
        "print(elapsed)\n"
    )
    root = Path(llm_dispatch.__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(root)}
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        cwd=root,
        env=env,
    )
    module, loaded, elapsed = out.stdout.splitlines()
    assert Path(module).resolve() == root / "llm_dispatch" / "__init__.py"
    assert loaded == ""
    assert float(elapsed) < IMPORT_SECONDS


async def test_logs_tell_the_story_without_the_key(
    fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    dispatcher = make_dispatcher()
    fake_server.enqueue(Script(status=503), Script(chunks=["ok"]), provider="openai")

    @llm_stream(providers=["openai"], dispatcher=dispatcher)
    async def stream_text(prompt: str) -> Any:
        yield "unused"

    with capture_events() as logs:
        await stream_text("hi").collect()
    events = [entry["event"] for entry in logs]
    for name in ("stream.start", "stream.retry", "stream.first_chunk", "stream.end"):
        assert name in events
    end = next(e for e in logs if e["event"] == "stream.end")
    assert end["chunks"] == 1 and end["usage"]["completion_tokens"] == 1
    assert "elapsed_ms" in end and "ttft_ms" in end
    dumped = repr(logs)
    for key in TEST_KEYS.values():
        assert key not in dumped
    assert TEST_KEYS["openai"] not in repr(dispatcher.provider("openai"))
