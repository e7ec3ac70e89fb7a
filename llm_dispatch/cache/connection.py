"""One cache's connection to its backend: the entry store (and, on Redis, the board of
shared flights), opened per event loop.

A Redis connection pool belongs to the event loop that opened it, so a cache created at
import time and used under several ``asyncio.run`` calls gets a store per loop; the memory
store is kept across loops. A given aiocache instance is used as it is and never closed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING

from .backends import Backend, build_backend, redact_url
from .flight_board import FlightBoard
from .memory_store import MemoryStore
from .options import CacheOptions
from .redis_store import RedisStore
from .stats import CacheStats
from .store import EntryStore

if TYPE_CHECKING:
    from aiocache.base import BaseCache

__all__ = ["StoreConnection"]


class StoreConnection:
    """Opens the :class:`EntryStore` of ``options`` (or of ``instance``) when first needed;
    with ``vector_index``, the store keeps a vector index (:mod:`.nearest`)."""

    def __init__(
        self,
        options: CacheOptions,
        instance: BaseCache | None,
        on_error: Callable[[str, BaseException], None],
        *,
        vector_index: bool = False,
    ) -> None:
        self.options = options
        self._instance = instance
        self._on_error = on_error
        self._vector_index = vector_index
        self._backend: Backend | None = None
        self._store: EntryStore | None = None
        self._board: FlightBoard | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        if instance is not None:
            build_backend(instance, timeout=options.backend_timeout)  # fail fast on the type
            #: What logs and reprs call the backend (never with a password).
            self.description = f"{type(instance).__name__} instance"
        else:
            self.description = redact_url(options.redis_url) if options.redis_url else "memory"

    @property
    def kind(self) -> str:
        """``"memory"`` or ``"redis"``."""
        if self._instance is not None:
            from aiocache import SimpleMemoryCache  # imported already: the instance is one

            return "memory" if isinstance(self._instance, SimpleMemoryCache) else "redis"
        return "redis" if self.options.redis_url else "memory"

    def store(self) -> EntryStore:
        """The store for the running loop, opened now if needed."""
        loop = asyncio.get_running_loop()
        opened = self._backend.kind if self._backend is not None else ""
        if self._store is not None and (self._loop is loop or opened == "memory"):
            return self._store
        options = self.options
        spec: str | BaseCache = (
            self._instance if self._instance is not None else options.redis_url or "memory"
        )
        backend = build_backend(spec, timeout=options.backend_timeout)
        store: EntryStore
        if backend.kind == "memory":
            store = MemoryStore(
                backend.cache,
                options.namespace,
                options.max_cache_size,
                vector_index=self._vector_index,
            )
        else:
            store = RedisStore(
                backend.cache,
                backend.client,
                options.namespace,
                options.max_cache_size,
                vector_index=self._vector_index,
            )
        self._backend, self._store, self._loop = backend, store, loop
        self._board = None
        return store

    def flight_board(self) -> FlightBoard | None:
        """The shared flights of the running loop's Redis client (None for memory)."""
        self.store()
        backend = self._backend
        if backend is None or backend.kind != "redis":
            return None
        if self._board is None:
            options = self.options
            self._board = FlightBoard(
                backend.client,
                options.namespace,
                lease=options.flight_lease,
                timeout=options.backend_timeout,
                on_error=self._on_error,
            )
        return self._board

    def count_expired(self, stats: CacheStats) -> None:
        """Add the entries the memory store saw expire to ``stats``."""
        if isinstance(self._store, MemoryStore) and self._store.expired:
            stats.expirations += self._store.expired
            self._store.expired = 0

    async def aclose(self) -> None:
        """End the shared flights' publishing, then close the connections opened here."""
        if self._board is not None and self._loop is asyncio.get_running_loop():
            await self._board.drain()
        if self._backend is not None:
            await self._backend.aclose()
        self._backend = None
        self._store = None
        self._board = None
        self._loop = None
