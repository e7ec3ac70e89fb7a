"""``StreamingCache``: the similarity cache of complete provider streams.

What a lookup matches is :mod:`.matching`'s business; the backend connection (and shared
flights) :mod:`.connection`'s; stores run in the background (:mod:`.background`). A backend
failure never fails the call: a lookup counts an error and misses; a failed store warns and
counts."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Iterable
from typing import TYPE_CHECKING, Any

from ..errors import UncacheableRequest
from ..log import Throttle, get_logger
from ..redaction import redact
from ..request import Request
from .backends import is_aiocache
from .background import BackgroundStores
from .connection import StoreConnection
from .entry import ENTRY_VERSION, CachedStream, CacheHit, ReplayTiming
from .index_rows import index_row
from .keys import CacheKey, make_key
from .matching import find
from .nearest import uses_vector_index
from .options import DEFAULT_IGNORED_EXTRA, CacheOptions
from .recorder import UNSTORABLE_FINISH_REASONS, StreamRecorder
from .similarity import HashingVectorizer, Vectorizer, vectorizer_name
from .singleflight import SingleFlight
from .stats import CacheStats
from .store import EntryStore, now_ms
from .vectorizer_choice import configured_vectorizer

if TYPE_CHECKING:
    from aiocache.base import BaseCache

    from .flight_board import FlightBoard

__all__ = ["StreamingCache"]

log = get_logger(__name__)


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
        shared_flights: bool = True,
        flight_lease: float = 10.0,
    ) -> None:
        instance = backend if is_aiocache(backend) else None
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
                "shared_flights": shared_flights,
                "flight_lease": flight_lease,
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
        self._vectorizer: Vectorizer = configured_vectorizer(options, vectorizer)
        self._vectorizer_name = vectorizer_name(self._vectorizer)
        # The default vectorizer rebuilds vectors from stored prompts: no vectors stored.
        self._stores_vectors = not isinstance(self._vectorizer, HashingVectorizer)
        self._stats = CacheStats()
        self._throttle = Throttle()
        self._pending = BackgroundStores()
        self.singleflight: SingleFlight[Any] = SingleFlight()
        self._connection = StoreConnection(
            options, instance, self._backend_error, vector_index=uses_vector_index(self._vectorizer)
        )
        self._description = self._connection.description

    @property
    def backend_kind(self) -> str:
        """``"memory"`` or ``"redis"``."""
        return self._connection.kind

    def _ensure_store(self) -> EntryStore:
        return self._connection.store()

    def flight_board(self) -> FlightBoard | None:
        """Where processes sharing this Redis share flights; None: this process's only."""
        return self._connection.flight_board() if self.options.shared_flights else None

    def _drain_expired(self) -> None:
        self._connection.count_expired(self._stats)

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
        """The :class:`.keys.CacheKey` of a call (raises ``UncacheableRequest``); ``scope``
        defaults to ``request.extra["cache_scope"]`` when that is set."""
        if scope is None and request.extra.get("cache_scope") is not None:
            scope = str(request.extra["cache_scope"])
        return make_key(request, route=route, scope=scope, ignore_extra=self.options.ignore_extra)

    def flight_key(self, request: Request, *, route: str, scope: str | None = None) -> str | None:
        """Key under which identical in-flight calls share one provider stream: the calls
        that would share an exact entry. None when the request cannot be cached."""
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
        ``total``). Stores this instance has in progress are waited for first (same bound),
        so a call sees the answers of the calls that finished before it. Never raises for
        backend trouble (counted in ``stats().errors``)."""
        if not self.options.enabled:
            return None
        key = self.key_or_none(request, route=route, scope=scope)
        return await self.lookup_key(key, timeout=timeout) if key is not None else None

    def key_or_none(
        self, request: Request, *, route: str, scope: str | None = None
    ) -> CacheKey | None:
        """The key of a call, or None (counted as a bypass) when it cannot be cached."""
        try:
            return self.key(request, route=route, scope=scope)
        except UncacheableRequest as exc:
            self.count_uncacheable(str(exc))
            return None

    def count_uncacheable(self, reason: str) -> None:
        """Count a call that could not use the cache (see :class:`UncacheableRequest`)."""
        self._stats.bypasses += 1
        log.debug("cache_uncacheable", reason=reason)

    async def lookup_key(self, key: CacheKey, *, timeout: float | None = None) -> CacheHit | None:
        """:meth:`lookup` for a key already computed."""
        if not self.options.enabled:
            return None
        bound = self.options.backend_timeout
        if timeout is not None:
            bound = min(bound, timeout)
        try:
            async with asyncio.timeout(bound):
                await self._pending.wait()
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

    async def _lookup(self, key: CacheKey) -> CacheHit | None:
        return await find(
            self._ensure_store(),
            key,
            threshold=self.options.similarity_threshold,
            vectorizer=self._vectorizer,
            timing=self.options.replay_timing,
            stats=self._stats,
        )

    # -- store ---------------------------------------------------------------------------

    def recorder(self, request: Request, *, route: str, scope: str | None = None) -> StreamRecorder:
        """A recorder for one live stream; its ``commit`` stores the stream."""
        return StreamRecorder(
            lambda entry: self.store(request, entry, route=route, scope=scope),
            record_timing=self.options.record_timing,
        )

    def recorder_for(self, key: CacheKey) -> StreamRecorder:
        """:meth:`recorder` for a key already computed."""
        timing = self.options.record_timing
        return StreamRecorder(lambda entry: self.store_key(key, entry), record_timing=timing)

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
        try:
            key = self.key(request, route=route, scope=scope)
        except UncacheableRequest:
            return False
        return await self.store_key(key, entry)

    async def store_key(self, key: CacheKey, entry: CachedStream) -> bool:
        """:meth:`store` for a key already computed."""
        if not self.options.enabled:
            return False
        if not entry.has_answer or entry.finish_reason in UNSTORABLE_FINISH_REASONS:
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
        now = now_ms()
        ttl = self.options.ttl
        try:
            async with asyncio.timeout(self.options.backend_timeout):
                row, encoded = await index_row(
                    key,
                    vectorizer=self._vectorizer,
                    vectorizer_name=self._vectorizer_name,
                    stores_vectors=self._stores_vectors,
                    ttl=ttl,
                    now_ms=now,
                )
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
        """Run ``store`` (a :meth:`store` or a recorder's commit) in a task of its own,
        bounded by ``backend_timeout`` (see :mod:`.background`); :meth:`flush` waits."""
        return self._pending.start(store)

    @property
    def stores_in_progress(self) -> int:
        """Stores started by :meth:`store_later` that have not finished yet."""
        return len(self._pending)

    async def flush(self) -> None:
        """Wait until every store this instance started has finished."""
        await self._pending.drain()

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
        size = await self._ensure_store().size(now_ms())
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
        await self._connection.aclose()

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
