"""``StreamingCache``: the similarity cache of complete provider streams.

A lookup goes, in order:

1. **Exact**: the request's partition and normalised prompt name one entry directly
   (``entry_id``): one dict lookup, or one Redis round trip.
2. **Similar**: otherwise, the entries of the prompt's *bucket* — same partition, same
   decisive tokens in the same order (:mod:`.guard`) — are scored with the vectorizer, and
   the best one at or above ``similarity_threshold`` is served. Any prompt the guard would
   accept is in that bucket, so nothing else needs scoring, whatever the cache size.

Every hit is checked once more against the stored entry (partition, normalised prompt or
signature) before it is returned, so even a hash collision cannot serve a wrong answer.
A backend failure never fails the call: the lookup counts an error and reports a miss.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Coroutine, Iterable
from typing import Any

from aiocache import SimpleMemoryCache
from aiocache.base import BaseCache
from pydantic import ValidationError

from ..errors import UncacheableRequest
from ..log import Throttle, get_logger
from ..redaction import redact
from ..request import Request
from .backends import Backend, build_backend, redact_url
from .entry import ENTRY_VERSION, CachedStream, CacheHit, ReplayTiming
from .guard import decisive_of_normalized
from .keys import CacheKey, make_key
from .memory_store import MemoryStore
from .options import DEFAULT_IGNORED_EXTRA, CacheOptions
from .recorder import UNSTORABLE_FINISH_REASONS, StreamRecorder
from .redis_store import RedisStore
from .similarity import (
    HashingVectorizer,
    Vectorizer,
    cosine,
    decode_vector,
    encode_vector,
    vectorizer_name,
)
from .singleflight import SingleFlight
from .stats import CacheStats
from .store import EntryStore, IndexRow

__all__ = ["StreamingCache"]

log = get_logger("llm_dispatch.cache")

# Cosine of identical vectors can come out a hair below 1.0 in floating point.
_SCORE_EPSILON = 1e-9


_last_ms = 0


def _now_ms() -> int:
    """Wall-clock milliseconds, strictly increasing within this process.

    The Redis LRU orders entries by this value: two touches in the same millisecond would
    tie, and Redis would break the tie by name, evicting the wrong entry. Bumping a tie by
    one millisecond keeps the order exact (the clock runs ahead by at most a few ms in a burst).
    """
    global _last_ms
    _last_ms = max(int(time.time() * 1000), _last_ms + 1)
    return _last_ms


class StreamingCache:
    """A cache of complete, successful provider streams, shared by similar prompts.

    ``backend`` is ``"memory"`` (default), a ``redis://`` URL, or an aiocache
    ``SimpleMemoryCache`` / ``RedisCache`` instance. ``vectorizer`` is any async callable
    ``list[str] -> list[list[float]]`` (default: :class:`.similarity.HashingVectorizer`).
    Options are validated by :class:`.options.CacheOptions` (the config's ``cache`` section).
    """

    def __init__(
        self,
        similarity_threshold: float = 0.95,
        max_cache_size: int = 100,
        ttl: float | None = None,
        backend: str | BaseCache = "memory",
        *,
        url: str | None = None,
        vectorizer: Vectorizer | None = None,
        replay_timing: ReplayTiming = "immediate",
        namespace: str = "llm_dispatch",
        record_timing: bool = True,
        backend_timeout: float = 2.0,
        ignore_extra: Iterable[str] | None = None,
        enabled: bool = True,
    ) -> None:
        instance = backend if isinstance(backend, BaseCache) else None
        # model_validate: backend and url are plain strings here, SecretUrl once validated.
        options = CacheOptions.model_validate(
            {
                "enabled": enabled,
                "similarity_threshold": similarity_threshold,
                "max_cache_size": max_cache_size,
                "ttl": ttl,
                "backend": "memory" if instance is not None else str(backend),
                "url": url,
                "namespace": namespace,
                "replay_timing": replay_timing,
                "record_timing": record_timing,
                "backend_timeout": backend_timeout,
                "ignore_extra": frozenset(ignore_extra)
                if ignore_extra is not None
                else DEFAULT_IGNORED_EXTRA,
            }
        )
        self._setup(options, instance, vectorizer)

    @classmethod
    def from_options(
        cls,
        options: CacheOptions,
        *,
        backend: BaseCache | None = None,
        vectorizer: Vectorizer | None = None,
    ) -> StreamingCache:
        """Build from validated options (the config section); ``backend`` overrides it."""
        self = cls.__new__(cls)
        self._setup(options, backend, vectorizer)
        return self

    def _setup(
        self, options: CacheOptions, instance: BaseCache | None, vectorizer: Vectorizer | None
    ) -> None:
        self.options = options
        self._instance = instance
        self._vectorizer: Vectorizer = vectorizer or HashingVectorizer()
        self._vectorizer_name = vectorizer_name(self._vectorizer)
        # The default vectorizer rebuilds vectors from stored prompts: no vectors stored.
        self._hashing = (
            self._vectorizer if isinstance(self._vectorizer, HashingVectorizer) else None
        )
        self._stats = CacheStats()
        self._throttle = Throttle()
        # Stores running in the background (see store_later), awaited by lookups and aclose.
        self._pending: set[asyncio.Task[bool]] = set()
        self.singleflight: SingleFlight[Any] = SingleFlight()
        self._backend: Backend | None = None
        self._store: EntryStore | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        if instance is not None:
            build_backend(instance, timeout=options.backend_timeout)  # fail fast on the type
            self._description = f"{type(instance).__name__} instance"
        else:
            self._description = redact_url(options.redis_url) if options.redis_url else "memory"

    # -- backend -------------------------------------------------------------------------

    def _ensure_store(self) -> EntryStore:
        """The store, built on first use in the running loop.

        A Redis connection pool belongs to the event loop that opened it; a cache created
        at import time and used under several ``asyncio.run`` calls gets a pool per loop.
        """
        loop = asyncio.get_running_loop()
        if self._store is not None and (self._loop is loop or self._backend_kind == "memory"):
            return self._store
        spec: str | BaseCache = (
            self._instance if self._instance is not None else self.options.redis_url or "memory"
        )
        backend = build_backend(spec, timeout=self.options.backend_timeout)
        store: EntryStore
        if backend.kind == "memory":
            store = MemoryStore(backend.cache, self.options.namespace, self.options.max_cache_size)
        else:
            store = RedisStore(
                backend.cache, backend.client, self.options.namespace, self.options.max_cache_size
            )
        self._backend, self._store, self._loop = backend, store, loop
        return store

    @property
    def _backend_kind(self) -> str:
        return self._backend.kind if self._backend is not None else ""

    @property
    def backend_kind(self) -> str:
        """``"memory"`` or ``"redis"``."""
        if self._instance is not None:
            return "memory" if isinstance(self._instance, SimpleMemoryCache) else "redis"
        return "redis" if self.options.redis_url else "memory"

    def _drain_expired(self) -> None:
        if isinstance(self._store, MemoryStore) and self._store.expired:
            self._stats.expirations += self._store.expired
            self._store.expired = 0

    def _backend_error(self, operation: str, exc: BaseException) -> None:
        self._stats.errors += 1
        self._throttle(
            log.warning,
            operation,
            "cache_backend_error",
            operation=operation,
            backend=self._description,
            error_type=type(exc).__name__,
            error=redact(str(exc)) or f"no reply within {self.options.backend_timeout:g}s",
        )

    # -- keys ----------------------------------------------------------------------------

    def key(self, request: Request, *, route: str, scope: str | None = None) -> CacheKey:
        """The :class:`.keys.CacheKey` of a call (raises ``UncacheableRequest``).

        ``scope`` defaults to ``request.extra["cache_scope"]`` when that is set.
        """
        if scope is None and request.extra.get("cache_scope") is not None:
            scope = str(request.extra["cache_scope"])
        return make_key(request, route=route, scope=scope, ignore_extra=self.options.ignore_extra)

    def flight_key(self, request: Request, *, route: str, scope: str | None = None) -> str | None:
        """Key under which identical in-flight calls share one provider stream.

        Same partition and same normalised prompt (so exactly the calls that would share
        an exact cache entry). None when the request cannot be cached: do not share then.
        """
        try:
            return self.key(request, route=route, scope=scope).entry_id
        except UncacheableRequest:
            return None

    # -- lookup --------------------------------------------------------------------------

    async def lookup(
        self,
        request: Request,
        *,
        route: str,
        scope: str | None = None,
        timeout: float | None = None,
    ) -> CacheHit | None:
        """The cached answer for this call, or None (a miss, or the cache is unusable).

        Bounded by ``backend_timeout`` and by ``timeout`` (what is left of the call's
        ``total``). Stores this instance still has in progress are waited for first, within
        the same bound, so a call sees the answers of the calls that finished before it.
        Never raises for backend trouble (counted in ``stats().errors``).
        """
        if not self.options.enabled:
            return None
        try:
            key = self.key(request, route=route, scope=scope)
        except UncacheableRequest as exc:
            self._stats.bypasses += 1
            log.debug("cache_uncacheable", reason=str(exc))
            return None
        bound = self.options.backend_timeout
        if timeout is not None:
            bound = min(bound, timeout)
        try:
            async with asyncio.timeout(bound):
                if self._pending:
                    # shield: a lookup that gives up must not cancel another call's store.
                    await asyncio.shield(asyncio.gather(*self._pending))
                hit = await self._lookup(key)
        except Exception as exc:
            self._backend_error("lookup", exc)
            hit = None
        finally:
            self._drain_expired()
        if hit is None:
            self._stats.misses += 1
        elif hit.exact:
            self._stats.hits += 1
        else:
            self._stats.similar_hits += 1
        return hit

    def _decode(self, text: str, key: CacheKey, *, exact: bool) -> CachedStream | None:
        """Parse an entry and check it really answers ``key`` (defence against collisions)."""
        try:
            entry = CachedStream.model_validate_json(text)
        except ValidationError:
            return None
        if entry.version != ENTRY_VERSION or entry.partition != key.partition:
            return None
        if exact and entry.normalized_prompt != key.normalized:
            return None
        if not exact and entry.signature != key.signature:
            return None
        return entry

    async def _lookup(self, key: CacheKey) -> CacheHit | None:
        store = self._ensure_store()
        now = _now_ms()
        fetched = await store.fetch(key, now)
        timing = self.options.replay_timing
        if fetched.entry_json is not None:
            entry = self._decode(fetched.entry_json, key, exact=True)
            if entry is not None:
                return CacheHit(entry, 1.0, True, key.entry_id, timing)
        if not fetched.candidates:
            return None

        stale = [c.entry_id for c in fetched.candidates if c.expired(now)]
        if stale:
            await store.prune(key, stale)
            self._stats.expirations += len(stale)
        ranked = await self._rank(key, [c for c in fetched.candidates if not c.expired(now)])
        for score, row in ranked:
            text = await store.get(key, row.entry_id, now)
            if text is None:
                await store.prune(key, [row.entry_id])
                self._stats.expirations += 1
                continue
            entry = self._decode(text, key, exact=False)
            if (
                entry is not None
                and decisive_of_normalized(entry.normalized_prompt) == key.decisive
            ):
                return CacheHit(entry, score, False, row.entry_id, timing)
        return None

    async def _rank(self, key: CacheKey, rows: list[IndexRow]) -> list[tuple[float, IndexRow]]:
        """Rows that pass the guard and the threshold, best score first."""
        # The bucket already implies equal decisive tokens; re-checking the stored prompt
        # costs microseconds and makes a signature collision harmless.
        rows = [r for r in rows if decisive_of_normalized(r.normalized) == key.decisive]
        if not rows:
            return []
        threshold = self.options.similarity_threshold - _SCORE_EPSILON
        scored: list[tuple[float, IndexRow]] = []
        if self._hashing is not None:
            query = self._hashing.from_normalized(key.normalized)
            for row in rows:
                score = cosine(query, self._hashing.from_normalized(row.normalized))
                if score >= threshold:
                    scored.append((min(score, 1.0), row))
        else:
            usable = [
                r for r in rows if r.vector is not None and r.vectorizer == self._vectorizer_name
            ]
            if not usable:
                return []
            (query,) = await self._vectorizer([key.prompt])
            for row in usable:
                assert row.vector is not None
                score = cosine(query, row.vector)
                if score >= threshold:
                    scored.append((min(score, 1.0), row))
        scored.sort(key=lambda pair: pair[0], reverse=True)
        return scored

    # -- store ---------------------------------------------------------------------------

    def recorder(self, request: Request, *, route: str, scope: str | None = None) -> StreamRecorder:
        """A recorder for one live stream; its ``commit`` stores the stream."""
        return StreamRecorder(
            self, request, route=route, scope=scope, record_timing=self.options.record_timing
        )

    async def store(
        self,
        request: Request,
        entry: CachedStream,
        *,
        route: str,
        scope: str | None = None,
    ) -> bool:
        """Store a complete stream as the answer to this call; True if it was stored.

        The entry's prompt, partition and signature are set from the request. Never raises
        for backend trouble (counted in ``stats().errors``).
        """
        if not self.options.enabled:
            return False
        if not entry.chunks or entry.finish_reason in UNSTORABLE_FINISH_REASONS:
            return False
        try:
            key = self.key(request, route=route, scope=scope)
        except UncacheableRequest:
            return False
        entry = entry.model_copy(
            update={
                "version": ENTRY_VERSION,
                "prompt": key.prompt,
                "normalized_prompt": key.normalized,
                "partition": key.partition,
                "signature": key.signature,
                "route": key.route,
                "scope": key.scope,
            }
        )
        now = _now_ms()
        ttl = self.options.ttl
        try:
            async with asyncio.timeout(self.options.backend_timeout):
                encoded: str | None = None
                row = IndexRow(
                    entry_id=key.entry_id,
                    normalized=key.normalized,
                    vectorizer=self._vectorizer_name,
                    expires_at_ms=now + int(ttl * 1000) if ttl else None,
                    route=key.route,
                    scope=key.scope,
                )
                if self._hashing is None:
                    (vector,) = await self._vectorizer([key.prompt])
                    encoded = encode_vector(vector)
                    row.vector = decode_vector(encoded)
                store = self._ensure_store()
                result = await store.put(key, entry.model_dump_json(), row, encoded, ttl, now)
        except Exception as exc:
            self._backend_error("store", exc)
            return False
        finally:
            self._drain_expired()
        self._stats.stores += 1
        self._stats.evictions += result.evicted
        self._stats.expirations += result.expired
        return True

    def store_later(self, store: Coroutine[Any, Any, bool]) -> asyncio.Task[bool]:
        """Run ``store`` (a :meth:`store` or a recorder's commit) in a task of its own.

        A complete answer is stored after the stream that produced it has ended, outside
        every deadline of that stream: a slow backend delays nothing the consumer waits
        for. The store is bounded by ``backend_timeout``; a failure is a warning and a
        count in ``stats().errors``. :meth:`flush` waits for the stores in progress.
        """
        task = asyncio.get_running_loop().create_task(store, name="llm_dispatch:cache-store")
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)
        return task

    @property
    def stores_in_progress(self) -> int:
        """Stores started by :meth:`store_later` that have not finished yet."""
        return len(self._pending)

    async def flush(self) -> None:
        """Wait until every store this instance started has finished."""
        while self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)

    # -- administration ------------------------------------------------------------------

    def stats(self) -> CacheStats:
        """A snapshot of this instance's counters."""
        self._drain_expired()
        return self._stats.snapshot()

    def record_bypass(self) -> None:
        """Count a call that skipped the cache (``cache=False`` at call time)."""
        self._stats.bypasses += 1

    def reset_stats(self) -> None:
        self._stats = CacheStats()

    async def size(self) -> int:
        """Entries held (in Redis: by every process; expired ones may linger until swept)."""
        size = await self._ensure_store().size(_now_ms())
        self._drain_expired()
        return size

    async def clear(self) -> None:
        """Remove every entry of this cache's namespace (in Redis: for every process)."""
        await self._ensure_store().clear()

    async def invalidate(
        self,
        request: Request | None = None,
        *,
        route: str | None = None,
        scope: str | None = None,
        all_scopes: bool = False,
    ) -> int:
        """Remove entries; returns how many.

        - ``invalidate(request, route=..., scope=...)``: the answer to that call *and every
          variant of it that could be served as a similar hit* (its whole guard bucket);
        - ``invalidate(route=...)``: every entry of a route within ``scope`` (None: unscoped
          entries), or within every scope with ``all_scopes=True``;
        - ``invalidate(scope="tenant-a")``: every entry of a tenant, all routes.

        The bulk forms scan the namespace in Redis: an administrative operation.
        """
        store = self._ensure_store()
        if request is not None:
            if route is None:
                raise ValueError("invalidate(request) needs the route the request was cached under")
            return await store.delete(self.key(request, route=route, scope=scope))
        if route is None and scope is None and not all_scopes:
            raise ValueError(
                "say what to invalidate: a request, route=, scope= or all_scopes=True "
                "(clear() empties the whole cache)"
            )
        return await store.delete_where(route, scope, all_scopes)

    async def aclose(self) -> None:
        """Finish the stores in progress, then close the connections this cache opened (a
        given aiocache instance stays open)."""
        await self.flush()
        if self._backend is not None:
            await self._backend.aclose()
        self._backend = None
        self._store = None
        self._loop = None

    async def __aenter__(self) -> StreamingCache:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        o = self.options
        return (
            f"StreamingCache(backend={self._description!r}, "
            f"similarity_threshold={o.similarity_threshold}, max_cache_size={o.max_cache_size}, "
            f"ttl={o.ttl}, namespace={o.namespace!r}, vectorizer={self._vectorizer_name!r})"
        )
