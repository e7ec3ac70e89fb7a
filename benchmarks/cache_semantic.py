"""The semantic vectorizer's cache: lookup latency, embedding, index build and memory.

    .venv/bin/python benchmarks/cache_semantic.py                      # 1k, 10k, 100k
    .venv/bin/python benchmarks/cache_semantic.py --sizes 1000 --no-redis

Needs the ``semantic`` extra. For each size and backend (memory, and Redis at
``--redis``), a cache with :class:`WordLlamaVectorizer` is filled with distinct prompts in
*one* partition (the worst case for the vector index), then timed over distinct lookups:

- exact: a stored prompt in other letter case, spacing and punctuation;
- similar: a stored prompt with filler added ("Please ..."), a similar hit;
- miss: a prompt never stored (the index is searched, nothing passes).

Also: embedding time per prompt (one at a time, as a lookup does, and in batches of 64);
index build time (the vectors added to a fresh index; for Redis, a new process's first
load of the shared rows); the index's matrices and the process's resident memory; and how
often the index's first result is the true nearest row (exact scan of the partition).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import random
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable

import numpy as np

from llm_dispatch.cache import CachedStream, StreamingCache, WordLlamaVectorizer
from llm_dispatch.cache.memory_store import MemoryStore
from llm_dispatch.cache.redis_store import RedisStore
from llm_dispatch.cache.redis_vectors import RedisVectorMirror
from llm_dispatch.cache.store import now_ms
from llm_dispatch.cache.vector_index import VectorIndex
from llm_dispatch.request import Message, Request

VERBS = ["Explain", "Summarise", "Describe", "Compare", "List", "Translate", "Review", "Plan"]
THINGS = ["the history", "the main risks", "three uses", "the costs", "the best tools",
          "common mistakes", "the basics", "the future"]  # fmt: skip
TOPICS = ["of solar power", "of Python decorators", "of the Roman empire", "of sourdough",
          "of tax law", "of jazz piano", "of container ships", "of sleep", "of chess openings",
          "of volcanoes", "of vaccines", "of remote work", "of coral reefs", "of SQL indexes",
          "of marathon training", "of medieval castles"]  # fmt: skip
AUDIENCES = ["for a child", "for an expert", "for my manager", "in one paragraph",
             "as a poem", "with examples", "step by step", "in plain words"]  # fmt: skip


def prompt(i: int) -> str:
    """A distinct prompt per ``i`` (its number keeps it distinct for the guard too)."""
    return (
        f"{VERBS[i % 8]} {THINGS[(i // 8) % 8]} {TOPICS[(i // 64) % 16]} "
        f"{AUDIENCES[(i // 1024) % 8]}, case {i}"
    )


def request(text: str) -> Request:
    return Request(messages=(Message(role="user", content=text),), temperature=0.2)


ENTRY = CachedStream(
    chunks=tuple(f"token{i} " for i in range(20)),
    provider="openai",
    model="gpt-4o-mini",
    usage={"prompt_tokens": 20, "completion_tokens": 20, "total_tokens": 40},
    finish_reason="stop",
)


def ms(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return statistics.median(ordered) * 1000, p95 * 1000


def rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * 4096 / 1e6


async def timed(runs: int, call: Callable[[int], Awaitable[object]]) -> list[float]:
    gc.collect()
    samples: list[float] = []
    for i in range(runs):
        start = time.perf_counter()
        await call(i)
        samples.append(time.perf_counter() - start)
    return samples


def embedding_times(vectorizer: WordLlamaVectorizer) -> tuple[float, float]:
    """Milliseconds per prompt: alone (as a lookup), and in batches of 64."""
    texts = [prompt(i) for i in range(2_000)]
    start = time.perf_counter()
    for text in texts[:500]:
        vectorizer.embed([text])
    alone = (time.perf_counter() - start) / 500 * 1000
    start = time.perf_counter()
    for i in range(0, len(texts), 64):
        vectorizer.embed(texts[i : i + 64])
    batched = (time.perf_counter() - start) / len(texts) * 1000
    return alone, batched


def agreement(index: VectorIndex, vectorizer: WordLlamaVectorizer, partition: str) -> float:
    """Share of "Please ..." queries whose index top result is the exact scan's top row."""
    block = index._partitions[partition]
    matrix = block.vectors[: block.count]
    queries = vectorizer.embed([f"Please {prompt(i * 7919 % block.count)}" for i in range(200)])
    same = 0
    for query in queries:
        best = block.rows[int(np.argmax(matrix @ query))].entry_id
        found = index.search(partition, query, k=1, min_score=-1.0, now_ms=now_ms())
        same += bool(found) and found[0].row.entry_id == best
    return same / len(queries)


async def bench(
    backend: str, size: int, runs: int, vectorizer: WordLlamaVectorizer
) -> dict[str, object]:
    namespace = f"bench-sem-{uuid.uuid4().hex[:8]}"

    def make() -> StreamingCache:
        return StreamingCache(
            backend=backend,
            max_cache_size=size + 10,
            namespace=namespace,
            vectorizer=vectorizer,
            similarity_threshold=0.8,
        )

    cache = make()
    result: dict[str, object] = {"backend": "memory" if backend == "memory" else "redis"}
    try:
        rss_before = rss_mb()
        started = time.perf_counter()
        for i in range(size):
            await cache.store(request(prompt(i)), ENTRY, route="bench")
        result["fill_s"] = time.perf_counter() - started
        store = cache._ensure_store()
        if isinstance(store, MemoryStore):
            assert store.vectors is not None
            index = store.vectors
        else:
            assert isinstance(store, RedisStore) and store.vectors is not None
            await store.vectors.sync()
            index = store.vectors.index
        result["rss_mb"] = rss_mb() - rss_before
        result["index_mb"] = index.nbytes() / 1e6
        partition = next(iter(index._partitions))
        # Build: the same vectors added to a fresh index (memory); a new process's first
        # load of the shared rows (Redis).
        if isinstance(store, MemoryStore):
            block = index._partitions[partition]
            rows, vectors = list(block.rows), block.vectors[: block.count].copy()
            fresh = VectorIndex()
            started = time.perf_counter()
            for row, vector in zip(rows, vectors, strict=True):
                fresh.add(partition, row, vector)
            result["build_s"] = time.perf_counter() - started
        else:
            mirror = RedisVectorMirror(store._client, namespace)
            started = time.perf_counter()
            await mirror.sync()
            result["build_s"] = time.perf_counter() - started
            assert len(mirror.index) == size
        result["agreement"] = agreement(index, vectorizer, partition)

        rng = random.Random(size)
        picks = [rng.randrange(size) for _ in range(runs)]

        async def exact(i: int) -> None:
            text = prompt(picks[i])
            variant = "  " + (text[0].lower() + text[1:]).replace(" ", "  ") + "!"
            hit = await cache.lookup(request(variant), route="bench")
            assert hit is not None and hit.exact

        async def similar(i: int) -> None:
            hit = await cache.lookup(request("Please " + prompt(picks[i])), route="bench")
            assert hit is not None and not hit.exact

        async def miss(i: int) -> None:
            hit = await cache.lookup(request(prompt(size + 1_000_000 + i)), route="bench")
            assert hit is None

        for name, call in (("exact", exact), ("similar", similar), ("miss", miss)):
            result[name] = ms(await timed(runs, call))
    finally:
        await cache.clear()
        await cache.aclose()
    return result


def table(results: list[tuple[int, dict[str, object]]]) -> str:
    lines = [
        "| backend | entries | exact median / p95 | similar median / p95 | miss median / p95 "
        "| index build | index matrices | RSS growth | top-1 = exact scan |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for size, r in results:
        cells = [f"{r[k][0]:.3f} / {r[k][1]:.3f} ms" for k in ("exact", "similar", "miss")]  # type: ignore[index]
        lines.append(
            f"| {r['backend']} | {size:,} | {' | '.join(cells)} | {r['build_s']:.2f} s "
            f"| {r['index_mb']:.1f} MB | {r['rss_mb']:.0f} MB | {r['agreement']:.0%} |"
        )
    return "\n".join(lines)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--runs", type=int, default=1_000)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--no-redis", action="store_true", help="memory backend only")
    args = parser.parse_args()

    vectorizer = WordLlamaVectorizer()
    started = time.perf_counter()
    vectorizer.load()
    print(f"model load: {time.perf_counter() - started:.2f} s")
    alone, batched = embedding_times(vectorizer)
    print(f"embedding: {alone:.3f} ms a prompt alone, {batched:.3f} ms in batches of 64")

    backends = ["memory"] if args.no_redis else ["memory", args.redis]
    results: list[tuple[int, dict[str, object]]] = []
    for backend in backends:
        for size in args.sizes:
            r = await bench(backend, size, args.runs, vectorizer)
            print(f"{r['backend']} {size:,}: filled in {r['fill_s']:.1f} s", flush=True)
            results.append((size, r))
    print()
    print(table(results))


if __name__ == "__main__":
    asyncio.run(main())
