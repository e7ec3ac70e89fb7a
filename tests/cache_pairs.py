"""The labelled prompt pairs of ``tests/data/cache_pairs.yaml``, run through the cache.

:func:`evaluate` stores the first prompt of every pair in a :class:`StreamingCache` (each
pair under a route of its own, so pairs never meet), looks the second one up, and counts
the hits: on paraphrases a hit is right, on near misses it is wrong. Used by
``tests/test_cache_recall.py`` and ``benchmarks/cache_recall.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from llm_dispatch.cache import CachedStream, StreamingCache, Vectorizer
from llm_dispatch.request import Message, Request

PAIRS_FILE = Path(__file__).parent / "data" / "cache_pairs.yaml"


@dataclass(frozen=True, slots=True)
class Pair:
    kind: str
    first: str
    second: str
    trap: str = ""  # near misses: what differs


@dataclass(slots=True)
class Outcome:
    """Hits of one run; ``hit_paraphrases`` are right answers, ``hit_near_misses`` wrong."""

    threshold: float
    paraphrases: int
    near_misses: int
    hit_paraphrases: list[Pair] = field(default_factory=list)
    hit_near_misses: list[Pair] = field(default_factory=list)

    @property
    def recall(self) -> float:
        return len(self.hit_paraphrases) / self.paraphrases

    @property
    def precision(self) -> float:
        hits = len(self.hit_paraphrases) + len(self.hit_near_misses)
        return len(self.hit_paraphrases) / hits if hits else 1.0


def load_pairs(path: Path = PAIRS_FILE) -> tuple[list[Pair], list[Pair]]:
    """``(paraphrases, near_misses)`` of the labelled set."""
    data: dict[str, list[dict[str, Any]]] = yaml.safe_load(path.read_text(encoding="utf-8"))
    paraphrases = [Pair(**item) for item in data["paraphrases"]]
    near_misses = [Pair(**item) for item in data["near_misses"]]
    return paraphrases, near_misses


def _request(prompt: str) -> Request:
    return Request(messages=(Message(role="user", content=prompt),))


def _answer(pair: Pair) -> CachedStream:
    return CachedStream(
        chunks=(f"answer to {pair.first}",),
        provider="openai",
        model="gpt-4o-mini",
        usage={"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
        finish_reason="stop",
    )


async def hits(
    pairs: list[Pair], *, threshold: float, vectorizer: Vectorizer | None = None,
    reverse: bool = False,
) -> list[Pair]:  # fmt: skip
    """The pairs whose second prompt (first, with ``reverse``) hits the other's answer."""
    cache = StreamingCache(
        similarity_threshold=threshold, max_cache_size=len(pairs) + 1, vectorizer=vectorizer
    )
    found: list[Pair] = []
    try:
        for i, pair in enumerate(pairs):
            stored, asked = (pair.second, pair.first) if reverse else (pair.first, pair.second)
            await cache.store(_request(stored), _answer(pair), route=f"pair-{i}")
            hit = await cache.lookup(_request(asked), route=f"pair-{i}")
            if hit is not None:
                assert hit.entry.text == f"answer to {pair.first}"
                found.append(pair)
    finally:
        await cache.aclose()
    return found


async def evaluate(threshold: float, vectorizer: Vectorizer | None = None) -> Outcome:
    """Run every labelled pair through a cache at ``threshold``."""
    paraphrases, near_misses = load_pairs()
    return Outcome(
        threshold=threshold,
        paraphrases=len(paraphrases),
        near_misses=len(near_misses),
        hit_paraphrases=await hits(paraphrases, threshold=threshold, vectorizer=vectorizer),
        hit_near_misses=await hits(near_misses, threshold=threshold, vectorizer=vectorizer),
    )
