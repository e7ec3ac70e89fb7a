"""Cache benchmark: lookup latency by cache size, and the cost of replaying a long stream.

    .venv/bin/python benchmarks/cache.py                  # memory: 1k, 10k, 100k entries
    .venv/bin/python benchmarks/cache.py --sizes 1000 --redis redis://127.0.0.1:6379/0
    .venv/bin/python benchmarks/cache.py --vectorizer semantic   # the semantic extra

For each size, the cache is filled with distinct prompts in *one* partition (the worst case
for the similarity index), then timed over distinct queries:

- exact: a stored prompt in other letter case, spacing and punctuation;
- similar: a stored prompt with filler added ("Please ..."), served as a similar hit;
- miss: a prompt of the same shape that was never stored.

Then a 2,000-chunk stream is stored and timed: lookup to first replayed event (hit TTFT at
the cache level) and lookup plus replay of every chunk. Last, the same through
``@llm_stream(cache=...)``: from the call to the first chunk the consumer receives (hit TTFT
as an application sees it: lookup, planning, stages) and the whole 2,000-chunk replay.
Targets: lookup <= 5 ms at 100k entries, hit TTFT <= 1 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

from llm_dispatch.cache import CachedStream, StreamingCache
from llm_dispatch.request import Message, Request

TOPICS = ["Python", "Rust", "Go", "the ocean", "autumn", "databases", "coffee", "Paris"]
FORMS = ["haiku", "limerick", "sonnet", "short story", "summary", "FAQ", "tweet", "essay"]
STYLES = ["funny", "sad", "formal", "casual", "technical", "poetic", "brief", "detailed"]


def prompt(i: int) -> str:
    """A distinct prompt per ``i``; the number keeps it distinct for the guard too."""
    return (
        f"Write a {STYLES[i % 8]} {FORMS[(i // 8) % 8]} about {TOPICS[(i // 64) % 8]} "
        f"for reader number {i}"
    )


def request(text: str) -> Request:
    return Request(messages=(Message(role="user", content=text),), temperature=0.2)


def entry(chunks: int = 20) -> CachedStream:
    return CachedStream(
        chunks=tuple(f"token{i} " for i in range(chunks)),
        provider="openai",
        model="gpt-4o-mini",
        usage={"prompt_tokens": 20, "completion_tokens": chunks, "total_tokens": 20 + chunks},
        finish_reason="stop",
    )


@dataclass(frozen=True)
class Timing:
    """Median and 95th percentile of a series, in milliseconds."""

    median_ms: float
    p95_ms: float

    def __str__(self) -> str:
        return f"median {self.median_ms:7.3f} ms   p95 {self.p95_ms:7.3f} ms"


@dataclass
class CacheRun:
    """One backend's figures: lookups by number of entries and kind (exact, similar, miss),
    and the replay of a 2,000-chunk answer, at the cache level and through the decorator."""

    backend: str
    lookups: dict[int, dict[str, Timing]] = field(default_factory=dict)
    replay: dict[str, Timing] = field(default_factory=dict)


def summary(samples: list[float]) -> Timing:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return Timing(statistics.median(ordered) * 1000, p95 * 1000)


async def timed(runs: int, call: Callable[[int], Awaitable[object]]) -> list[float]:
    # Start each series without the garbage of the previous one (filling 100k entries leaves
    # plenty), so that one full collection does not land in the figures of the next.
    gc.collect()
    samples: list[float] = []
    for i in range(runs):
        start = time.perf_counter()
        await call(i)
        samples.append(time.perf_counter() - start)
    return samples


async def bench_size(backend: str, size: int, runs: int) -> dict[str, Timing]:
    cache = StreamingCache(
        backend=backend, max_cache_size=size + 10, namespace=f"bench-{uuid.uuid4().hex[:8]}"
    )
    try:
        started = time.perf_counter()
        stored = entry()
        for i in range(size):
            await cache.store(request(prompt(i)), stored, route="bench")
        fill = time.perf_counter() - started
        print(f"\n{backend} backend, {size:,} entries (filled in {fill:.1f} s)")

        step = max(1, size // runs)
        picks = [(i * step) % size for i in range(runs)]

        async def exact(i: int) -> None:
            variant = "  " + prompt(picks[i]).replace("Write", "write").replace(" ", "  ") + "?"
            hit = await cache.lookup(request(variant), route="bench")
            assert hit is not None and hit.exact

        async def similar(i: int) -> None:
            hit = await cache.lookup(request("Please " + prompt(picks[i])), route="bench")
            assert hit is not None and not hit.exact

        async def miss(i: int) -> None:
            hit = await cache.lookup(request(prompt(size + i)), route="bench")
            assert hit is None

        found: dict[str, Timing] = {}
        for name, call in (("exact", exact), ("similar", similar), ("miss", miss)):
            found[name] = summary(await timed(runs, call))
            print(f"  lookup {name:8} {found[name]}")
    finally:
        await cache.clear()
        await cache.aclose()
    return found


async def bench_replay(backend: str, runs: int) -> tuple[Timing, Timing]:
    cache = StreamingCache(backend=backend, namespace=f"bench-{uuid.uuid4().hex[:8]}")
    try:
        long_request = request("Write a very long story about the sea")
        await cache.store(long_request, entry(2000), route="bench")
        first: list[float] = []
        whole: list[float] = []
        gc.collect()
        for _ in range(runs):
            start = time.perf_counter()
            hit = await cache.lookup(long_request, route="bench")
            assert hit is not None
            count = 0
            async for _event in hit.events():
                if count == 0:
                    first.append(time.perf_counter() - start)
                count += 1
            whole.append(time.perf_counter() - start)
            assert count == 2001
        print(f"\n{backend} backend, one 2,000-chunk stream")
        print(f"  hit TTFT        {summary(first)}   (lookup to first replayed chunk)")
        print(f"  full replay     {summary(whole)}   (lookup + 2,000 chunks + usage event)")
    finally:
        await cache.clear()
        await cache.aclose()
    return summary(first), summary(whole)


async def bench_decorator(backend: str, runs: int) -> tuple[Timing, Timing]:
    """Hit TTFT and replay through the decorator (stages, chunk delivery included)."""
    from llm_dispatch import Dispatcher, llm_stream

    cache = StreamingCache(backend=backend, namespace=f"bench-{uuid.uuid4().hex[:8]}")
    # Every call must hit the cache; a miss would go to this closed port, never elsewhere.
    dispatcher = Dispatcher(
        {
            "providers": {
                "openai": {
                    "kind": "openai",
                    "api_key": "unused",
                    "default_model": "m",
                    "base_url": "http://127.0.0.1:9/v1",
                }
            },
            "defaults": {"retry": {"max_retries": 0}},
        }
    )

    @llm_stream(providers=["openai"], model="m", dispatcher=dispatcher, cache=cache)
    async def answer(prompt: str, temperature: float = 0.2) -> AsyncIterator[str]:
        yield "unused"

    try:
        text = "Write a very long story about the sea"
        await cache.store(request(text), entry(2000), route="providers=openai;model=m")
        first: list[float] = []
        whole: list[float] = []
        gc.collect()
        for _ in range(runs):
            start = time.perf_counter()
            count = 0
            async for _chunk in answer(text):
                if count == 0:
                    first.append(time.perf_counter() - start)
                count += 1
            whole.append(time.perf_counter() - start)
            assert count == 2000
        print(f"\n{backend} backend, @llm_stream(cache=...) hit on a 2,000-chunk answer")
        print(f"  hit TTFT        {summary(first)}   (call to first chunk received)")
        print(f"  full replay     {summary(whole)}   (call to last chunk)")
    finally:
        await cache.clear()
        await cache.aclose()
        await dispatcher.aclose()
    return summary(first), summary(whole)


async def measure_cache(
    backends: list[str], sizes: list[int], runs: int, replay_runs: int = 200
) -> list[CacheRun]:
    """Print every figure and return them, backend by backend."""
    found: list[CacheRun] = []
    for backend in backends:
        run = CacheRun(backend)
        for size in sizes:
            run.lookups[size] = await bench_size(backend, size, runs)
        run.replay["cache first"], run.replay["cache whole"] = await bench_replay(
            backend, replay_runs
        )
        run.replay["decorator first"], run.replay["decorator whole"] = await bench_decorator(
            backend, replay_runs
        )
        found.append(run)
    return found


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument(
        "--runs", type=int, help="lookups timed per kind: 2,000; 1,000 with --vectorizer semantic"
    )
    parser.add_argument("--redis", metavar="URL", help="also run on this Redis server")
    parser.add_argument(
        "--vectorizer",
        choices=["default", "semantic"],
        default="default",
        help="semantic: the semantic extra's vectorizer and vector index, with embedding "
        "time, index build and memory (see cache_semantic.py)",
    )
    args = parser.parse_args()

    if args.vectorizer == "semantic":
        from cache_semantic import measure_semantic

        await measure_semantic(args.sizes, args.sizes, args.runs or 1_000, args.redis)
        return
    runs = args.runs or 2_000
    backends = ["memory"] + ([args.redis] if args.redis else [])
    await measure_cache(backends, args.sizes, runs)


if __name__ == "__main__":
    asyncio.run(main())
