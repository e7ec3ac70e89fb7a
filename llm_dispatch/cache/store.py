"""What the cache needs from a storage backend, and the index row it keeps per entry.

Two implementations: :mod:`.memory_store` (one process) and :mod:`.redis_store` (shared by
every process using the server). Both keep, besides the entries themselves:

- the *similarity index*: per bucket (partition + guard signature, see :mod:`.guard`) the
  rows of its entries — id, normalised prompt, vector (for pluggable vectorizers), expiry;
- the *LRU order* of all entries, which bounds the cache at ``max_cache_size``.
"""

from __future__ import annotations

import json
import time
from array import array
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from .keys import CacheKey

__all__ = ["EntryStore", "Fetched", "IndexRow", "PutResult", "entry_filter", "now_ms"]

_last_ms = 0


def now_ms() -> int:
    """Wall-clock milliseconds, strictly increasing within this process.

    The Redis LRU orders entries by this value: two touches in the same millisecond would
    tie, and Redis would break the tie by name, evicting the wrong entry. Bumping a tie by
    one millisecond keeps the order exact (the clock runs ahead by at most a few ms in a burst).
    """
    global _last_ms
    _last_ms = max(int(time.time() * 1000), _last_ms + 1)
    return _last_ms


@dataclass(slots=True)
class IndexRow:
    """One entry as the similarity index sees it."""

    entry_id: str
    normalized: str
    vectorizer: str
    vector: array[float] | None = None
    #: Epoch milliseconds after which the entry is gone; None: no TTL.
    expires_at_ms: int | None = None
    # Kept in memory only, to answer invalidate(route=..., scope=...) without a scan.
    route: str = ""
    scope: str | None = None
    bucket: str = ""

    def expired(self, now_ms: int) -> bool:
        return self.expires_at_ms is not None and self.expires_at_ms <= now_ms

    def to_json(self, encoded_vector: str | None) -> str:
        """The row as stored in a Redis bucket hash (route and scope live in the entry)."""
        doc: dict[str, Any] = {"n": self.normalized, "z": self.vectorizer}
        if encoded_vector is not None:
            doc["v"] = encoded_vector
        if self.expires_at_ms is not None:
            doc["x"] = self.expires_at_ms
        return json.dumps(doc, ensure_ascii=False, separators=(",", ":"))


@dataclass(slots=True)
class Fetched:
    """Result of the first lookup step: the exact entry, or the bucket's other rows."""

    entry_json: str | None
    candidates: list[IndexRow] = field(default_factory=list)


@dataclass(slots=True)
class PutResult:
    evicted: int = 0
    expired: int = 0


def entry_filter(
    route: str | None, scope: str | None, any_scope: bool
) -> Callable[[str, str | None], bool]:
    """A predicate on (route, scope) for bulk invalidation."""

    def matches(entry_route: str, entry_scope: str | None) -> bool:
        if route is not None and entry_route != route:
            return False
        return any_scope or entry_scope == scope

    return matches


class EntryStore(Protocol):
    """Storage of entries, their similarity index and their LRU order."""

    async def fetch(self, key: CacheKey, now_ms: int) -> Fetched:
        """The exact entry (touching its LRU position), else the bucket's other rows."""
        ...

    async def get(self, key: CacheKey, entry_id: str, now_ms: int) -> str | None:
        """One entry of ``key``'s bucket (touching its LRU position), or None if gone."""
        ...

    async def put(
        self, key: CacheKey, entry_json: str, row: IndexRow, encoded_vector: str | None,
        ttl: float | None, now_ms: int,
    ) -> PutResult:  # fmt: skip
        """Write an entry and its row; evict the least recently used beyond the bound."""
        ...

    async def prune(self, key: CacheKey, entry_ids: list[str]) -> None:
        """Forget rows of ``key``'s bucket whose entries are gone (expired or evicted)."""
        ...

    async def delete(self, key: CacheKey) -> int:
        """Remove the entry of ``key`` and every entry of its bucket; the number removed."""
        ...

    async def delete_where(self, route: str | None, scope: str | None, any_scope: bool) -> int:
        """Remove every entry of a route and/or scope; the number removed."""
        ...

    async def clear(self) -> None: ...

    async def size(self, now_ms: int) -> int:
        """Entries currently held (expired ones not yet pruned may be counted in Redis)."""
        ...
