"""The semantic vectorizer's cache: lookup latency, embedding, index build and memory.

    .venv/bin/python benchmarks/cache_semantic.py       # memory 1k-100k, Redis 1k-10k
    .venv/bin/python benchmarks/cache_semantic.py --sizes 100000 --no-redis
    .venv/bin/python benchmarks/cache_semantic.py --sizes --redis-sizes 100000

Needs the ``semantic`` extra; the first line runs about four minutes. For each size and
backend (memory, and Redis at ``--redis``), a cache with :class:`WordLlamaVectorizer` is
filled with distinct prompts in *one* partition (the worst case for the vector index), then
timed over distinct lookups:

- exact: a stored prompt in other letter case, spacing and punctuation;
- similar: a stored prompt with filler added ("Please ..."), a similar hit;
- miss: a prompt never stored (the index is searched, nothing passes).

Each lookup kind is reported as wall time (median / p95) and as CPU time of the process
(mean): on a shared, loaded machine wall time mostly measures the wait for a core, CPU
time what a lookup costs. ``search`` is the vector index's search alone (median, the
"similar" queries already embedded).

The cache is filled through its public API: prompts are embedded a batch at a time
(``await vectorizer(batch)``, which the vectorizer remembers) and the batch is then stored
with concurrent ``cache.store`` calls (Redis round trips overlap), so 100,000 entries fill
in about a minute rather than embedding and waiting for one prompt at a time.

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
from llm_dispatch.cache.nearest import NEAREST_K
from llm_dispatch.cache.redis_store import RedisStore
from llm_dispatch.cache.redis_vectors import RedisVectorMirror
from llm_dispatch.cache.semantic import MEMO_SIZE
from llm_dispatch.cache.store import now_ms
from llm_dispatch.cache.vector_index import VectorIndex
from llm_dispatch.request import Message, Request

THRESHOLD = 0.8
#: Stores in flight at once while filling (within the Redis client's connection pool).
CONCURRENT_STORES = 8
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


async def fill(cache: StreamingCache, vectorizer: WordLlamaVectorizer, size: int) -> None:
    """Store ``prompt(0) ... prompt(size - 1)``: each batch embedded at once, then stored
    with :data:`CONCURRENT_STORES` concurrent ``cache.store`` calls at a time."""
    for first in range(0, size, MEMO_SIZE):
        texts = [prompt(i) for i in range(first, min(size, first + MEMO_SIZE))]
        await vectorizer(texts)
        for at in range(0, len(texts), CONCURRENT_STORES):
            group = texts[at : at + CONCURRENT_STORES]
            stored = await asyncio.gather(
                *(cache.store(request(text), ENTRY, route="bench") for text in group)
            )
            assert all(stored), "a store failed (see the warning above)"


async def timed(runs: int, call: Callable[[int], Awaitable[object]]) -> tuple[list[float], float]:
    """Wall seconds of each call, and the process's mean CPU seconds a call."""
    gc.collect()
    samples: list[float] = []
    cpu = time.process_time()
    for i in range(runs):
        start = time.perf_counter()
        await call(i)
        samples.append(time.perf_counter() - start)
    return samples, (time.process_time() - cpu) / runs


def search_ms(index: VectorIndex, partition: str, queries: np.ndarray) -> float:
    """Median milliseconds of the index's search alone (k and threshold as a lookup)."""
    samples = []
    for query in queries:
        start = time.perf_counter()
        index.search(partition, query, k=NEAREST_K, min_score=THRESHOLD, now_ms=now_ms())
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1000


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
            similarity_threshold=THRESHOLD,
        )

    cache = make()
    result: dict[str, object] = {"backend": "memory" if backend == "memory" else "redis"}
    try:
        rss_before = rss_mb()
        started = time.perf_counter()
        await fill(cache, vectorizer, size)
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
        queries = vectorizer.embed([f"Please {prompt(i)}" for i in picks[:500]])
        result["search"] = search_ms(index, partition, queries)

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
            samples, cpu = await timed(runs, call)
            result[name] = (*ms(samples), cpu * 1000)
    finally:
        await cache.clear()
        await cache.aclose()
    return result


def table(results: list[tuple[int, dict[str, object]]]) -> str:
    lines = [
        "| backend | entries | exact median / p95 (CPU) | similar median / p95 (CPU) "
        "| miss median / p95 (CPU) | search | fill | index build | index matrices "
        "| RSS growth | top-1 = exact scan |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for size, r in results:
        cells = [
            f"{r[k][0]:.2f} / {r[k][1]:.2f} ms ({r[k][2]:.2f})"  # type: ignore[index]
            for k in ("exact", "similar", "miss")
        ]
        lines.append(
            f"| {r['backend']} | {size:,} | {' | '.join(cells)} | {r['search']:.2f} ms "
            f"| {r['fill_s']:.0f} s | {r['build_s']:.2f} s | {r['index_mb']:.1f} MB "
            f"| {r['rss_mb']:.0f} MB | {r['agreement']:.0%} |"
        )
    return "\n".join(lines)


async def measure_semantic(
    sizes: list[int], redis_sizes: list[int], runs: int, redis: str | None
) -> None:
    """Print the model's load and embedding times, then the table for each size in memory
    and, with ``redis``, each of ``redis_sizes`` on that server."""
    vectorizer = WordLlamaVectorizer()
    started = time.perf_counter()
    vectorizer.load()
    print(f"model load: {time.perf_counter() - started:.2f} s")
    alone, batched = embedding_times(vectorizer)
    print(f"embedding: {alone:.3f} ms a prompt alone, {batched:.3f} ms in batches of 64")

    plan = [("memory", size) for size in sizes]
    if redis:
        plan += [(redis, size) for size in redis_sizes]
    results: list[tuple[int, dict[str, object]]] = []
    for backend, size in plan:
        r = await bench(backend, size, runs, vectorizer)
        print(f"{r['backend']} {size:,}: filled in {r['fill_s']:.1f} s", flush=True)
        results.append((size, r))
    print()
    print(table(results))


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[1_000, 10_000, 100_000])
    parser.add_argument(
        "--redis-sizes",
        type=int,
        nargs="+",
        default=[1_000, 10_000],
        help="sizes on Redis (100,000 takes about four minutes more to fill)",
    )
    parser.add_argument("--runs", type=int, default=1_000)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--no-redis", action="store_true", help="memory backend only")
    args = parser.parse_args()
    redis = None if args.no_redis else args.redis
    await measure_semantic(args.sizes, args.redis_sizes, args.runs, redis)


if __name__ == "__main__":
    asyncio.run(main())
