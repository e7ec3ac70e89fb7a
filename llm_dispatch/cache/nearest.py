"""The vector index's part in a similar lookup: candidates beyond the guard bucket.

A vectorizer whose class sets ``dense = True`` and ``judges_meaning = True``
(:class:`.semantic.WordLlamaVectorizer`) produces dense embeddings that tell meaning: the
guard then lets content words differ (its meaning level, :mod:`.meaning_guard`), so the
prompts it could accept are no longer all in one bucket. The cache's store keeps a vector
index (:mod:`.vector_index`; shared through Redis by :mod:`.redis_vectors`), and a lookup
that found no exact entry adds the :data:`NEAREST_K` nearest stored prompts of the
partition scoring at least the threshold to the bucket's rows. Every candidate then goes
through the same guard and threshold (:func:`.matching.rank`).

So at the meaning level a lookup considers the bucket and the ``NEAREST_K`` best-scoring
prompts of the partition: a prompt the guard would accept is missed only when
``NEAREST_K`` others of the partition score higher against the query and are all
rejected by the guard.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

from .store import IndexRow, now_ms

if TYPE_CHECKING:
    from .keys import CacheKey
    from .similarity import Vectorizer
    from .vector_index import Nearest

__all__ = ["NEAREST_K", "SupportsNearest", "uses_vector_index", "with_nearest"]

#: Nearest rows a lookup takes from the index.
NEAREST_K = 8


@runtime_checkable
class SupportsNearest(Protocol):
    """A store that may keep a vector index."""

    async def nearest(
        self, key: CacheKey, query: list[float], *, k: int, min_score: float, now_ms: int
    ) -> list[Nearest]: ...


def uses_vector_index(vectorizer: object) -> bool:
    """Whether the cache keeps a vector index for ``vectorizer``: when its class sets
    ``dense = True`` (embeddings worth indexing) and ``judges_meaning = True`` (the guard's
    meaning level, whose candidates the index finds: :mod:`.meaning_guard`)."""
    cls = type(vectorizer)
    return getattr(cls, "dense", False) is True and getattr(cls, "judges_meaning", False) is True


async def with_nearest(
    store: object,
    key: CacheKey,
    candidates: list[IndexRow],
    *,
    vectorizer: Vectorizer,
    threshold: float,
) -> tuple[list[IndexRow], dict[str, float]]:
    """``candidates`` (the bucket's rows) and, for a dense vectorizer on a store with a
    vector index, the nearest rows of the partition that are not among them yet; and the
    scores the index computed, by entry id (so that they need not be computed again)."""
    if not uses_vector_index(vectorizer) or not isinstance(store, SupportsNearest):
        return candidates, {}
    (query,) = await vectorizer([key.prompt])
    found = await store.nearest(key, query, k=NEAREST_K, min_score=threshold, now_ms=now_ms())
    scores = {n.row.entry_id: n.score for n in found}
    seen = {row.entry_id for row in candidates}
    seen.add(key.entry_id)
    return candidates + [n.row for n in found if n.row.entry_id not in seen], scores
