"""Redis paused, then down, under load: 100 streams at a time with the similarity cache and
the circuit store on a redis-server of the test's own (tests/private_redis.py). Every answer
arrives whole, none runs into a deadline, the trouble is counted and warned about once."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from typing import Any

import pytest
from private_redis import PrivateRedis

from llm_dispatch import llm_stream
from llm_dispatch.cache import StreamingCache
from llm_dispatch.testing import FakeProviderServer, Script, capture_events

pytestmark = pytest.mark.heavy

CHUNKS = [f"part{i} " for i in range(20)]
WAVE = 100
KINDS = ["openai", "anthropic", "google"]


@pytest.mark.timeout(300)
async def test_the_cache_and_circuit_store_paused_then_down_under_load(
    private_redis: PrivateRedis, fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    fake_server.default = Script(chunks=CHUNKS, chunk_delay=0.01)
    cache = StreamingCache(backend=private_redis.url, backend_timeout=0.5)
    circuit = {"store": private_redis.url, "store_timeout": 0.3}
    dispatcher = make_dispatcher(defaults={"circuit": circuit, "timeouts": {"total": 30}})
    await dispatcher.warm_up()
    asks = []
    for kind in KINDS:

        @llm_stream(dispatcher=dispatcher, providers=[kind], cache=cache, timeout=30)
        async def ask(prompt: str) -> Any:
            yield "unused"

        asks.append(ask)

    async def wave(name: str) -> tuple[list[str], float]:
        async def one(i: int) -> str:
            async with asyncio.timeout(60):
                stream = asks[i % len(asks)](f"{name} question number {i} about topic {i * 7}")
                return "".join([c async for c in stream])

        started = time.monotonic()
        texts = await asyncio.gather(*(one(i) for i in range(WAVE)))
        return texts, time.monotonic() - started

    with capture_events() as events:
        # Paused while the first wave looks up, streams and stores.
        pause = asyncio.create_task(private_redis.pause(2000))
        paused, paused_wall = await wave("paused")
        await pause
        await cache.flush()
        await private_redis.stop()
        down, down_wall = await wave("down")
        await cache.flush()

    whole = "".join(CHUNKS)
    assert paused == [whole] * WAVE and down == [whole] * WAVE
    assert len(fake_server.requests) == 2 * WAVE  # every one answered live
    stats = cache.stats()
    assert stats.errors > 0 and stats.hits == 0
    warned = Counter(
        (e["event"], e.get("operation")) for e in events if e["log_level"] == "warning"
    )
    # One warning per kind of trouble (each at most once a minute), not one per call.
    assert warned and all(n == 1 for n in warned.values()), warned
    assert ("cache_backend_error", "lookup") in warned
    assert ("circuit.store_unavailable", None) in warned
    print(
        f"\nredis: {WAVE} streams with Redis paused in {paused_wall:.1f} s, {WAVE} with it "
        f"down in {down_wall:.1f} s; cache errors {stats.errors}; warnings {dict(warned)}"
    )
    await cache.aclose()
