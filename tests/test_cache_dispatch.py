"""The similar-prompt cache through the decorators: real provider streams recorded, replayed
through the stages, shared by concurrent identical calls, and shared across processes."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from conftest import fake_providers
from media_samples import png

from llm_dispatch import Dispatcher, Stage, StreamInterrupted, llm_stream, llm_stream_with_metadata
from llm_dispatch.cache import StreamingCache
from llm_dispatch.embedding import UnicodeMetadata, VerifyStatus
from llm_dispatch.events import CacheHitEvent
from llm_dispatch.testing import FakeProviderServer, Script

CHUNKS = ["Python ", "code\n", "reads ", "like ", "prose."]


class Hits(Stage):
    def __init__(self) -> None:
        self.events: list[CacheHitEvent] = []

    async def on_event(self, ctx: Any, event: Any) -> None:
        if isinstance(event, CacheHitEvent):
            self.events.append(event)


def cached(dispatcher: Any, cache: Any, *, metadata: bool = False, **options: Any) -> Any:
    decorator = llm_stream_with_metadata if metadata else llm_stream

    @decorator(dispatcher=dispatcher, cache=cache, **options)
    async def answer(
        prompt: str, system: str | None = None, temperature: float | None = None
    ) -> Any:
        yield "unused"

    return answer


async def test_exact_hit_replays_chunks_through_the_stages(
    fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    cache = StreamingCache()
    hits = Hits()
    answer = cached(make_dispatcher(), cache, metadata=True, providers=["openai"], stages=(hits,))
    fake_server.enqueue(Script(chunks=CHUNKS, usage=(9, 5)))

    live = [m async for m in answer("Write a haiku about Python")]
    replayed = [m async for m in answer("Write a haiku about Python")]

    assert len(fake_server.requests) == 1
    assert [m["chunk"] for m in replayed] == [m["chunk"] for m in live] == [*CHUNKS, ""]
    assert not any(m["cached"] for m in live) and all(m["cached"] for m in replayed)
    assert replayed[0]["request_id"] != live[0]["request_id"]
    assert (replayed[0]["provider"], replayed[0]["model"]) == ("openai", "gpt-4o-mini")
    final = replayed[-1]
    assert final["usage"]["total_tokens"] == 14 and final["cost_usd"] == 0.0
    [hit] = hits.events
    assert hit.exact and hit.similarity == 1.0
    stats = cache.stats()
    assert (stats.hits, stats.misses, stats.stores) == (1, 1, 1)


async def test_a_replay_does_not_feed_the_providers_latency(
    fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    dispatcher = make_dispatcher()
    answer = cached(dispatcher, StreamingCache(), providers=["openai"])
    fake_server.enqueue(Script(chunks=CHUNKS, first_delay=0.05))
    await answer("q").collect()
    measured = dict(dispatcher.router.state.ttft)
    assert set(measured) == {"openai/gpt-4o-mini"}
    replayed = await answer("q").collect()
    assert replayed.context.cached
    assert dispatcher.router.state.ttft == measured  # the hit's ~0 ms is not a measurement


async def test_media_arguments_and_options_are_part_of_the_key(
    fake_server: FakeProviderServer, make_dispatcher: Any, tmp_path: Path
) -> None:
    cache = StreamingCache()

    @llm_stream(dispatcher=make_dispatcher(), cache=cache, providers=["openai"])
    async def look(
        prompt: str,
        images: list[Any],
        language: str = "English",
        options: dict[str, Any] | None = None,
    ) -> Any:
        yield "unused"

    cat, dog = png(shade=10), png(shade=200)
    (tmp_path / "cat.png").write_bytes(cat)
    await look("Describe this image", [cat]).collect()
    await look("Describe this image", [dog]).collect()  # another image: never the cat's answer
    assert len(fake_server.requests) == 2
    replay = await look("Describe this image", [tmp_path / "cat.png"]).collect()
    assert replay.context.cached and len(fake_server.requests) == 2  # same bytes, from a path
    await look("Describe this image", [cat], language="French").collect()
    await look("Describe this image", [cat], options={"seed": 7}).collect()
    assert len(fake_server.requests) == 4  # another argument, other options: asked again
    await cache.flush()
    assert "cat" not in repr(cache) and cache.stats().stores == 4


async def test_similar_prompt_hits_and_a_meaning_flip_misses(
    fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    answer = cached(
        make_dispatcher(), StreamingCache(similarity_threshold=0.9), providers=["anthropic"]
    )
    fake_server.enqueue(Script(chunks=CHUNKS), provider="anthropic")
    fake_server.enqueue(Script(chunks=["Rust ", "is ", "strict."]), provider="anthropic")

    assert "".join([c async for c in answer("Write a haiku about Python")]) == "".join(CHUNKS)
    assert "".join([c async for c in answer("  write a haiku about python!")]) == "".join(CHUNKS)
    assert "".join([c async for c in answer("Write a haiku about Rust")]) == "Rust is strict."
    assert len(fake_server.requests) == 2


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ({"system": "Answer in English."}, {"system": "Answer in French."}),
        ({"temperature": 0.0}, {"temperature": 0.9}),
    ],
)
async def test_partition_keeps_different_requests_apart(
    first: dict[str, Any],
    second: dict[str, Any],
    fake_server: FakeProviderServer,
    make_dispatcher: Any,
) -> None:
    answer = cached(make_dispatcher(), StreamingCache(), providers=["google"])
    await answer("Explain tides", **first).collect()
    await answer("Explain tides", **second).collect()
    await answer("Explain tides", **first).collect()
    assert len(fake_server.requests) == 2


async def test_scope_and_provider_choice_are_part_of_the_partition(
    fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    dispatcher = make_dispatcher()
    cache = StreamingCache()
    tenant = {"name": "a"}
    by_tenant = cached(dispatcher, cache, providers=["openai"], cache_scope=lambda: tenant["name"])
    await by_tenant("Summarise my invoices").collect()
    tenant["name"] = "b"
    await by_tenant("Summarise my invoices").collect()
    tenant["name"] = "a"
    await by_tenant("Summarise my invoices").collect()
    assert len(fake_server.requests) == 2

    other_provider = cached(dispatcher, cache, providers=["anthropic"], cache_scope="a")
    await other_provider("Summarise my invoices").collect()
    assert len(fake_server.requests) == 3


async def test_failed_and_interrupted_streams_are_never_stored(
    fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    cache = StreamingCache()
    answer = cached(make_dispatcher(), cache, providers=["openai"])
    fake_server.enqueue(Script(chunks=CHUNKS, drop_after=2))
    with pytest.raises(StreamInterrupted):
        await answer("q").collect()
    fake_server.enqueue(Script(chunks=CHUNKS, cut_after=4))
    with pytest.raises(StreamInterrupted):
        await answer("q").collect()
    await cache.flush()
    assert cache.stats().stores == 0
    complete = await answer("q").collect()  # nothing stored: asks the provider again
    await cache.flush()
    assert len(fake_server.requests) == 3 and cache.stats().stores == 1
    assert (await answer("q").collect()).get_text() == complete.get_text()
    assert len(fake_server.requests) == 3


async def test_per_call_bypass(fake_server: FakeProviderServer, make_dispatcher: Any) -> None:
    dispatcher = Dispatcher(
        {"providers": fake_providers(fake_server), "cache": {"max_cache_size": 10}}
    )
    try:
        answer = cached(dispatcher, None, providers=["openai"])  # the configuration's cache
        await answer("q").collect()
        await answer("q").collect()
        await answer.with_options(cache=False)("q").collect()
        assert len(fake_server.requests) == 2
        assert dispatcher.cache is not None and dispatcher.cache.stats().bypasses == 1
    finally:
        await dispatcher.aclose()


async def test_replay_is_signed_afresh(
    fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    key = "k" * 24
    answer = cached(
        make_dispatcher(), StreamingCache(), providers=["openai"], embed_metadata={"hmac_key": key}
    )
    fake_server.enqueue(Script(chunks=CHUNKS))
    live = "".join([c async for c in answer("q")])
    replay = "".join([c async for c in answer("q")])
    assert len(fake_server.requests) == 1
    assert live != replay
    for text, was_cached in ((live, False), (replay, True)):
        result = UnicodeMetadata.verify(text, hmac_secret_key=key)
        assert result.status is VerifyStatus.VALID
        assert result.metadata is not None and result.metadata["cached"] is was_cached
        assert UnicodeMetadata.strip_metadata(text) == "".join(CHUNKS)


async def test_recorded_timing_is_replayed(
    fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    answer = cached(
        make_dispatcher(), StreamingCache(replay_timing="recorded"), providers=["openai"]
    )
    fake_server.enqueue(Script(chunks=CHUNKS, chunk_delay=0.05))
    await answer("q").collect()
    started = time.monotonic()
    await answer("q").collect()
    assert 0.15 <= time.monotonic() - started < 1.0
    assert len(fake_server.requests) == 1


async def test_single_flight_shares_one_provider_stream(
    fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    answer = cached(make_dispatcher(), StreamingCache(), providers=["anthropic"])
    chunks = [f"t{i} " for i in range(30)]
    fake_server.enqueue(Script(chunks=chunks, chunk_delay=0.01), provider="anthropic")

    async def consume(cancel_after: int | None = None) -> str:
        out: list[str] = []
        async for chunk in answer("one shared answer"):
            out.append(chunk)
            if cancel_after is not None and len(out) == cancel_after:
                break
        return "".join(out)

    results = await asyncio.gather(consume(cancel_after=3), *(consume() for _ in range(20)))
    assert results[0] == "".join(chunks[:3])
    assert set(results[1:]) == {"".join(chunks)}
    assert len(fake_server.requests) == 1
    assert fake_server.requests[0].completed and not fake_server.requests[0].disconnected


async def test_single_flight_charges_the_shared_stream_once(
    fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    priced = fake_providers(fake_server)["openai"]
    priced["prices"] = {"gpt-4o-mini": {"input": 0.15, "output": 0.60}}
    dispatcher = make_dispatcher(providers={"openai": priced})
    answer = cached(dispatcher, StreamingCache(), providers=["openai"])
    fake_server.enqueue(Script(chunks=CHUNKS, chunk_delay=0.01, usage=(1000, 500)))
    streams = [answer("the same question") for _ in range(5)]
    done = await asyncio.gather(*(s.collect() for s in streams))
    assert len(fake_server.requests) == 1
    costs = sorted(s.cost_usd for s in done)
    # gpt-4o-mini: $0.15 / $0.60 per 1M tokens -> 1000 in + 500 out = $0.00045, paid once.
    assert costs[:4] == [0.0] * 4 and costs[4] == pytest.approx(0.00045)
    assert all(s.usage.total_tokens == 1500 for s in done)


@pytest.mark.redis
async def test_redis_cache_is_shared_between_processes(
    fake_server: FakeProviderServer, make_dispatcher: Any, tmp_path: Any
) -> None:
    namespace = f"test-dispatch-{uuid.uuid4().hex}"
    script = tmp_path / "store.py"
    script.write_text(
        textwrap.dedent(f"""
        import asyncio
        from llm_dispatch import Dispatcher, llm_stream
        from llm_dispatch.cache import StreamingCache

        async def main():
            dispatcher = Dispatcher({{"providers": {{"openai": {{
                "kind": "openai", "api_key": "sk-test-0123456789", "default_model": "gpt-4o-mini",
                "base_url": "{fake_server.openai_base_url}"}}}}}})
            cache = StreamingCache(backend="redis://127.0.0.1:6379/0", namespace="{namespace}")

            @llm_stream(providers=["openai"], dispatcher=dispatcher, cache=cache)
            async def answer(prompt: str):
                yield "unused"

            print("".join([c async for c in answer("Shared across processes")]))
            await cache.aclose()
            await dispatcher.aclose()

        asyncio.run(main())
    """)
    )
    fake_server.enqueue(Script(chunks=CHUNKS))
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(script), stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    assert proc.returncode == 0, err.decode()[-2000:]
    assert out.decode().strip().endswith("prose.")
    assert len(fake_server.requests) == 1

    cache = StreamingCache(backend="redis://127.0.0.1:6379/0", namespace=namespace)
    try:
        answer = cached(make_dispatcher(), cache, providers=["openai"])
        text = "".join([c async for c in answer("shared across processes")])
        assert text == "".join(CHUNKS)
        assert len(fake_server.requests) == 1  # served from the other process's entry
    finally:
        await cache.clear()
        await cache.aclose()
