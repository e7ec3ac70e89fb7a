"""Recall of the similar lookup: which paraphrases hit, which near misses do not.

    .venv/bin/python benchmarks/cache_recall_semantic.py
    .venv/bin/python benchmarks/cache_recall_semantic.py --pairs other.json --vectorizer hashing

``--pairs`` is a JSON file ``{"paraphrases": [[stored, asked], ...], "near_misses":
[[stored, asked], ...]}`` (default: the interim set in ``tests/data/semantic_pairs.json``).
For each threshold (0.70 … 0.95) every stored prompt goes into a cache of its own
partition (one route a pair), and the asked prompt is looked up. Two figures a row:

- *served*: lookups the cache answered (guard and threshold): paraphrases should, near
  misses must not;
- *score ≥ t*: pairs whose cosine alone reaches the threshold, i.e. what the vectorizer
  would serve without the guard.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import uuid
from pathlib import Path

from llm_dispatch.cache import CachedStream, HashingVectorizer, StreamingCache, Vectorizer
from llm_dispatch.request import Message, Request

DEFAULT_PAIRS = Path(__file__).resolve().parents[1] / "tests" / "data" / "semantic_pairs.json"
THRESHOLDS = (0.70, 0.75, 0.80, 0.85, 0.90, 0.95)


def request(text: str) -> Request:
    return Request(messages=(Message(role="user", content=text),))


def cosine(a: list[float], b: list[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    norm = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return dot / norm if norm else 0.0


async def served(pairs: list[list[str]], vectorizer: Vectorizer, threshold: float) -> int:
    """How many asked prompts the cache answers with their pair's stored one."""
    cache = StreamingCache(
        similarity_threshold=threshold,
        max_cache_size=len(pairs) + 1,
        vectorizer=vectorizer,
        namespace=f"recall-{uuid.uuid4().hex[:8]}",
    )
    answer = CachedStream(chunks=("answer",), provider="p", model="m", finish_reason="stop")
    hits = 0
    for i, (stored, asked) in enumerate(pairs):
        await cache.store(request(stored), answer, route=f"pair-{i}")
        hits += await cache.lookup(request(asked), route=f"pair-{i}") is not None
    await cache.aclose()
    return hits


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pairs", type=Path, default=DEFAULT_PAIRS)
    parser.add_argument("--vectorizer", choices=["semantic", "hashing"], default="semantic")
    args = parser.parse_args()
    data = json.loads(args.pairs.read_text(encoding="utf-8"))
    paraphrases: list[list[str]] = data["paraphrases"]
    near: list[list[str]] = data["near_misses"]

    vectorizer: Vectorizer
    if args.vectorizer == "semantic":
        from llm_dispatch.cache import WordLlamaVectorizer

        vectorizer = WordLlamaVectorizer()
    else:
        vectorizer = HashingVectorizer()
    scores = {}
    for name, pairs in (("paraphrases", paraphrases), ("near_misses", near)):
        flat = [text for pair in pairs for text in pair]
        vectors = await vectorizer(flat)
        scores[name] = [cosine(vectors[2 * i], vectors[2 * i + 1]) for i in range(len(pairs))]

    print(f"{args.vectorizer} vectorizer, {len(paraphrases)} paraphrases, {len(near)} near misses")
    print("| threshold | paraphrases served | near misses served | paraphrases score ≥ t "
          "| near misses score ≥ t |")  # fmt: skip
    print("| --- | --- | --- | --- | --- |")
    for t in THRESHOLDS:
        hit_p = await served(paraphrases, vectorizer, t)
        hit_n = await served(near, vectorizer, t)
        raw_p = sum(s >= t for s in scores["paraphrases"])
        raw_n = sum(s >= t for s in scores["near_misses"])
        print(
            f"| {t:.2f} | {hit_p}/{len(paraphrases)} | {hit_n}/{len(near)} "
            f"| {raw_p}/{len(paraphrases)} | {raw_n}/{len(near)} |"
        )


if __name__ == "__main__":
    asyncio.run(main())
