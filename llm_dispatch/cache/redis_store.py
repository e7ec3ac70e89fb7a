"""Entries, similarity index and LRU order in Redis, shared by every process.

Keys, all under ``{namespace}:``:

- ``e:{entry_id}`` — the entry, JSON text, written through aiocache with the TTL;
- ``b:{partition}:{signature}`` — a hash, one field per entry of the bucket, whose value is
  a JSON row: normalised prompt ``n``, vectorizer ``z``, vector ``v`` (base64 float32, only
  for pluggable vectorizers), expiry ``x`` (epoch ms);
- ``lru`` — a sorted set of members ``{partition}:{signature}:{entry_id}`` scored by last
  access (epoch ms): its lowest members are evicted beyond ``max_cache_size``;
- ``exp`` — a sorted set of the same members scored by expiry, swept on every store so that
  expired entries leave the index and the LRU count;
- with a dense vectorizer, ``vx``, ``vlog`` and ``vseq``: the vector index's rows and change
  log, written by the same Lua call (:mod:`.redis_vectors`).

Because the index lives in Redis, an entry stored by one process is visible to the next
lookup of any other: there is no local copy to keep in sync. A lookup is one round trip
(entry, LRU touch and bucket in one pipeline); a similar hit adds one.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from .backends import dumps_text
from .keys import CacheKey
from .similarity import decode_vector
from .store import Fetched, IndexRow, PutResult, entry_filter

if TYPE_CHECKING:
    from aiocache.base import BaseCache

    from .redis_vectors import RedisVectorMirror
    from .vector_index import Nearest

__all__ = ["RedisStore"]

# Store one entry's index row and LRU position atomically, sweep expired members, and pick
# the least recently used members beyond the bound. Entry keys and bucket fields of the
# members it returns are deleted by the caller (their key names are derived client-side).
_STORE_SCRIPT = """
local lru, exp, bucket = KEYS[1], KEYS[2], KEYS[3]
local member, now, ttl = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local max_entries, field, row, sweep = tonumber(ARGV[4]), ARGV[5], ARGV[6], tonumber(ARGV[7])
local existed = redis.call('EXISTS', bucket)
local bucket_ttl = redis.call('PTTL', bucket)
redis.call('HSET', bucket, field, row)
if ttl > 0 then
  redis.call('ZADD', exp, now + ttl, member)
  if existed == 0 or (bucket_ttl >= 0 and bucket_ttl < ttl) then
    redis.call('PEXPIRE', bucket, ttl)
  end
else
  redis.call('ZREM', exp, member)
  redis.call('PERSIST', bucket)
end
redis.call('ZADD', lru, now, member)
local expired = redis.call('ZRANGEBYSCORE', exp, '-inf', now, 'LIMIT', 0, sweep)
for _, m in ipairs(expired) do
  redis.call('ZREM', exp, m)
  redis.call('ZREM', lru, m)
end
local evicted = {}
local over = redis.call('ZCARD', lru) - max_entries
if over > 0 then
  for _, m in ipairs(redis.call('ZRANGE', lru, 0, over)) do
    if #evicted < over and m ~= member then
      evicted[#evicted + 1] = m
      redis.call('ZREM', lru, m)
      redis.call('ZREM', exp, m)
    end
  end
end
-- The vector index (only when ARGV[8] holds the row): the row, the rows of the members
-- gone, and one change record for both (see redis_vectors.py).
if ARGV[8] ~= '' then
  local rows, log, seq_key = KEYS[4], KEYS[5], KEYS[6]
  redis.call('HSET', rows, field, ARGV[8])
  local gone = {}
  for _, list in ipairs({expired, evicted}) do
    for _, m in ipairs(list) do
      local id = string.match(m, '([^:]+)$')
      if redis.call('HDEL', rows, id) == 1 then gone[#gone + 1] = id end
    end
  end
  local record = {'XADD', log, 'MAXLEN', '~', ARGV[9], '*', 's', redis.call('INCR', seq_key),
                  'a', field, 'r', ARGV[8]}
  if #gone > 0 then
    record[#record + 1] = 'd'
    record[#record + 1] = table.concat(gone, ' ')
  end
  redis.call(unpack(record))
end
return {expired, evicted}
"""

# Expired members removed per store: enough to keep up with any store rate, bounded so
# that a store never stalls the server.
_SWEEP_LIMIT = 100
_SCAN_BATCH = 500


def _text(value: bytes | str | None) -> str | None:
    return value.decode("utf-8") if isinstance(value, bytes) else value


class RedisStore:
    """:class:`~.store.EntryStore` on a Redis server."""

    def __init__(
        self,
        cache: BaseCache,
        client: Any,
        namespace: str,
        max_entries: int,
        *,
        vector_index: bool = False,
    ) -> None:
        self._cache = cache
        self._client = client
        self._ns = namespace
        self._max = max_entries
        self._lru_key = f"{namespace}:lru"
        self._exp_key = f"{namespace}:exp"
        self._script = client.register_script(_STORE_SCRIPT)
        #: With ``vector_index``: vectors shared through Redis, mirrored here (numpy).
        self.vectors: RedisVectorMirror | None = None
        if vector_index:
            from .redis_vectors import RedisVectorMirror

            self.vectors = RedisVectorMirror(client, namespace)

    # -- key names -----------------------------------------------------------------------

    def _entry_name(self, entry_id: str) -> str:
        """Name given to aiocache (which may prefix it through a key_builder)."""
        return f"{self._ns}:e:{entry_id}"

    def _entry_key(self, entry_id: str) -> str:
        """The actual Redis key aiocache writes the entry under."""
        return str(self._cache.build_key(self._entry_name(entry_id), namespace=""))

    def _bucket_key(self, bucket: str) -> str:
        return f"{self._ns}:b:{bucket}"

    @staticmethod
    def _member(bucket: str, entry_id: str) -> str:
        return f"{bucket}:{entry_id}"

    def _split_member(self, member: str) -> tuple[str, str]:
        """``(bucket, entry_id)`` of an LRU member."""
        bucket, _, entry_id = member.rpartition(":")
        return bucket, entry_id

    # -- lookups -------------------------------------------------------------------------

    async def fetch(self, key: CacheKey, now_ms: int) -> Fetched:
        pipe = self._client.pipeline(transaction=False)
        pipe.get(self._entry_key(key.entry_id))
        # XX: only refresh a member that exists, so a miss leaves no trace.
        pipe.zadd(self._lru_key, {key.member: now_ms}, xx=True)
        pipe.hgetall(self._bucket_key(key.bucket))
        raw, _, rows = await pipe.execute()
        if raw is not None:
            return Fetched(_text(raw))
        candidates: list[IndexRow] = []
        for field, value in (rows or {}).items():
            entry_id = _text(field) or ""
            if entry_id == key.entry_id:
                continue
            row = self._parse_row(entry_id, _text(value) or "")
            if row is not None:
                candidates.append(row)
        return Fetched(None, candidates)

    @staticmethod
    def _parse_row(entry_id: str, text: str) -> IndexRow | None:
        try:
            doc = json.loads(text)
            vector = decode_vector(doc["v"]) if doc.get("v") else None
            return IndexRow(
                entry_id=entry_id,
                normalized=str(doc["n"]),
                vectorizer=str(doc.get("z", "")),
                vector=vector,
                expires_at_ms=int(doc["x"]) if doc.get("x") else None,
            )
        except (ValueError, KeyError, TypeError):
            return None  # a row written by an incompatible version: ignore it

    async def get(self, key: CacheKey, entry_id: str, now_ms: int) -> str | None:
        pipe = self._client.pipeline(transaction=False)
        pipe.get(self._entry_key(entry_id))
        pipe.zadd(self._lru_key, {self._member(key.bucket, entry_id): now_ms}, xx=True)
        raw, _ = await pipe.execute()
        return _text(raw)

    # -- writes --------------------------------------------------------------------------

    async def put(
        self,
        key: CacheKey,
        entry_json: str,
        row: IndexRow,
        encoded_vector: str | None,
        ttl: float | None,
        now_ms: int,
    ) -> PutResult:
        # The entry first: a lookup that sees the row then always finds the entry, and
        # never prunes a row whose entry is still being written.
        await self._cache.set(
            self._entry_name(key.entry_id),
            entry_json,
            ttl=ttl,
            dumps_fn=dumps_text,
            namespace="",
        )
        ttl_ms = int(ttl * 1000) if ttl else 0
        keys = [self._lru_key, self._exp_key, self._bucket_key(key.bucket)]
        vector_row, log_length = "", 0
        if self.vectors is not None:
            from .redis_vectors import LOG_LENGTH, index_row_json

            keys += self.vectors.keys
            if encoded_vector is not None:
                row.bucket = key.bucket
                vector_row = index_row_json(key.partition, row, encoded_vector)
                log_length = LOG_LENGTH
        expired, evicted = await self._script(
            keys=keys,
            args=[
                key.member,
                now_ms,
                ttl_ms,
                self._max,
                key.entry_id,
                row.to_json(encoded_vector),
                _SWEEP_LIMIT,
                vector_row,
                log_length,
            ],
        )
        gone = [_text(m) or "" for m in (*expired, *evicted)]
        if gone:
            await self._drop_members(gone, index_done=True)
        return PutResult(evicted=len(evicted), expired=len(expired))

    async def _drop_members(self, members: list[str], *, index_done: bool = False) -> None:
        """Delete the entries and bucket rows of LRU members (and the members themselves)."""
        pipe = self._client.pipeline(transaction=False)
        for member in members:
            bucket, entry_id = self._split_member(member)
            pipe.unlink(self._entry_key(entry_id))
            pipe.hdel(self._bucket_key(bucket), entry_id)
            if not index_done:
                pipe.zrem(self._lru_key, member)
                pipe.zrem(self._exp_key, member)
        if self.vectors is not None and not index_done:
            await self.vectors.log_drop(pipe, [self._split_member(m)[1] for m in members])
        await pipe.execute()

    async def prune(self, key: CacheKey, entry_ids: list[str]) -> None:
        await self._drop_members([self._member(key.bucket, e) for e in entry_ids])

    async def delete(self, key: CacheKey) -> int:
        fields = await self._client.hkeys(self._bucket_key(key.bucket))
        entry_ids = {key.entry_id, *(_text(f) or "" for f in fields)}
        existing = await self._client.exists(*(self._entry_key(e) for e in entry_ids))
        await self._drop_members([self._member(key.bucket, e) for e in entry_ids])
        return int(existing)

    async def delete_where(self, route: str | None, scope: str | None, any_scope: bool) -> int:
        """Scan every entry of the namespace (an administrative, O(n) operation)."""
        matches = entry_filter(route, scope, any_scope)
        pattern = self._entry_key("*")
        doomed: list[str] = []
        batch: list[bytes] = []

        async def flush() -> None:
            values = await self._client.mget(batch)
            for name, value in zip(batch, values, strict=True):
                if value is None:
                    continue
                try:
                    doc = json.loads(value)
                except ValueError:
                    continue
                if matches(str(doc.get("route", "")), doc.get("scope")):
                    bucket = f"{doc.get('partition', '')}:{doc.get('signature', '')}"
                    entry_id = (_text(name) or "").rpartition(":")[2]
                    doomed.append(self._member(bucket, entry_id))
            batch.clear()

        async for name in self._client.scan_iter(match=pattern, count=_SCAN_BATCH):
            batch.append(name)
            if len(batch) >= _SCAN_BATCH:
                await flush()
        if batch:
            await flush()
        if doomed:
            await self._drop_members(doomed)
        return len(doomed)

    async def clear(self) -> None:
        """Delete every key of the namespace (entries, buckets, LRU and expiry sets)."""
        batch: list[bytes] = []
        async for name in self._client.scan_iter(match=f"{self._ns}:*", count=_SCAN_BATCH):
            batch.append(name)
            if len(batch) >= _SCAN_BATCH:
                await self._client.unlink(*batch)
                batch.clear()
        if batch:
            await self._client.unlink(*batch)

    async def size(self, now_ms: int) -> int:
        return int(await self._client.zcard(self._lru_key))

    async def nearest(
        self, key: CacheKey, query: list[float], *, k: int, min_score: float, now_ms: int
    ) -> list[Nearest]:
        """The vector index's nearest rows of ``key``'s partition (none without one)."""
        if self.vectors is None:
            return []
        return await self.vectors.search(
            key.partition, query, k=k, min_score=min_score, now_ms=now_ms
        )
