"""Entries in an aiocache ``SimpleMemoryCache``; index and LRU order in this process.

The entry values are JSON text in aiocache (which also expires them after the TTL); the
similarity index is a dict of buckets, and the LRU order an ``OrderedDict`` whose oldest
item is evicted first. Lookups cost a few dict operations whatever the number of entries.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import TYPE_CHECKING

from .backends import dumps_text, loads_text
from .keys import CacheKey
from .store import Fetched, IndexRow, PutResult, entry_filter

if TYPE_CHECKING:
    from aiocache.base import BaseCache

    from .vector_index import Nearest, VectorIndex

__all__ = ["MemoryStore"]


class MemoryStore:
    """:class:`~.store.EntryStore` for one process."""

    def __init__(
        self, cache: BaseCache, namespace: str, max_entries: int, *, vector_index: bool = False
    ) -> None:
        self._cache = cache
        self._prefix = f"{namespace}:e:"
        self._max = max_entries
        self._lru: OrderedDict[str, IndexRow] = OrderedDict()
        self._buckets: dict[str, dict[str, IndexRow]] = {}
        #: With ``vector_index``: the rows' vectors by partition (numpy), kept in step
        #: with the rows (every removal goes through ``_forget``).
        self.vectors: VectorIndex | None = None
        if vector_index:
            from .vector_index import VectorIndex

            self.vectors = VectorIndex()
        #: Rows found expired and removed since the cache last read this counter.
        self.expired = 0

    def _entry_key(self, entry_id: str) -> str:
        return self._prefix + entry_id

    async def _read(self, entry_id: str) -> str | None:
        value = await self._cache.get(self._entry_key(entry_id), loads_fn=loads_text, namespace="")
        return value if isinstance(value, str) else None

    def _forget(self, entry_id: str) -> IndexRow | None:
        if self.vectors is not None:
            self.vectors.remove(entry_id)
        row = self._lru.pop(entry_id, None)
        if row is not None:
            bucket = self._buckets.get(row.bucket)
            if bucket is not None:
                bucket.pop(entry_id, None)
                if not bucket:
                    del self._buckets[row.bucket]
        return row

    async def _remove(self, entry_id: str) -> IndexRow | None:
        row = self._forget(entry_id)
        await self._cache.delete(self._entry_key(entry_id), namespace="")
        return row

    async def fetch(self, key: CacheKey, now_ms: int) -> Fetched:
        row = self._lru.get(key.entry_id)
        if row is not None and row.expired(now_ms):
            await self._remove(key.entry_id)
            self.expired += 1
            row = None
        value = await self._read(key.entry_id)
        if value is not None:
            if row is not None:
                self._lru.move_to_end(key.entry_id)
            return Fetched(value)
        if row is not None:  # aiocache expired it before we noticed
            self._forget(key.entry_id)
            self.expired += 1
        bucket = self._buckets.get(key.bucket)
        if not bucket:
            return Fetched(None)
        return Fetched(None, [r for r in bucket.values() if r.entry_id != key.entry_id])

    async def get(self, key: CacheKey, entry_id: str, now_ms: int) -> str | None:
        row = self._lru.get(entry_id)
        if row is None or row.expired(now_ms):
            return None
        value = await self._read(entry_id)
        if value is not None:
            self._lru.move_to_end(entry_id)
        return value

    async def put(
        self,
        key: CacheKey,
        entry_json: str,
        row: IndexRow,
        encoded_vector: str | None,
        ttl: float | None,
        now_ms: int,
    ) -> PutResult:
        await self._cache.set(
            self._entry_key(key.entry_id), entry_json, ttl=ttl, dumps_fn=dumps_text, namespace=""
        )
        self._forget(key.entry_id)
        row.bucket = key.bucket
        self._lru[key.entry_id] = row
        self._buckets.setdefault(key.bucket, {})[key.entry_id] = row
        if self.vectors is not None and row.vector is not None:
            self.vectors.add(key.partition, row, row.vector)
        result = PutResult()
        while len(self._lru) > self._max:
            oldest_id = next(iter(self._lru))
            oldest = await self._remove(oldest_id)
            if oldest is not None and oldest.expired(now_ms):
                result.expired += 1
            else:
                result.evicted += 1
        return result

    async def prune(self, key: CacheKey, entry_ids: list[str]) -> None:
        for entry_id in entry_ids:
            await self._remove(entry_id)

    async def delete(self, key: CacheKey) -> int:
        doomed = {key.entry_id, *self._buckets.get(key.bucket, {})}
        removed = 0
        for entry_id in doomed:
            removed += await self._read(entry_id) is not None
            await self._remove(entry_id)
        return removed

    async def delete_where(self, route: str | None, scope: str | None, any_scope: bool) -> int:
        matches = entry_filter(route, scope, any_scope)
        doomed = [eid for eid, row in self._lru.items() if matches(row.route, row.scope)]
        for entry_id in doomed:
            await self._remove(entry_id)
        return len(doomed)

    async def clear(self) -> None:
        for entry_id in list(self._lru):
            await self._remove(entry_id)
        self._lru.clear()
        self._buckets.clear()
        if self.vectors is not None:
            self.vectors.clear()

    async def nearest(
        self, key: CacheKey, query: list[float], *, k: int, min_score: float, now_ms: int
    ) -> list[Nearest]:
        """The vector index's nearest rows of ``key``'s partition (none without one)."""
        if self.vectors is None:
            return []
        return self.vectors.search(key.partition, query, k=k, min_score=min_score, now_ms=now_ms)

    async def size(self, now_ms: int) -> int:
        for entry_id in [eid for eid, row in self._lru.items() if row.expired(now_ms)]:
            await self._remove(entry_id)
            self.expired += 1
        return len(self._lru)
