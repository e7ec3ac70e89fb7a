"""Building the aiocache cache that holds the entries, and the Redis client for the index.

- ``"memory"``: an aiocache ``SimpleMemoryCache`` (per process);
- a ``redis://`` / ``rediss://`` URL: an aiocache ``RedisCache``; the similarity index and the
  LRU order live in Redis too, through the redis client that ``RedisCache`` wraps, so every
  process sharing the server shares the cache;
- an aiocache instance (``SimpleMemoryCache`` or ``RedisCache``): used as it is and not
  closed by the cache, since its owner may use it for other things.

Entries are always written as JSON text through explicit ``dumps_fn`` / ``loads_fn``, so
the serializer configured on a given instance (which might be pickle) is never used.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TypeGuard
from urllib.parse import unquote, urlsplit

from ..urls import mask_url_password

if TYPE_CHECKING:
    # aiocache imports redis: both are imported when a backend is built, not with the library.
    from aiocache.base import BaseCache

__all__ = ["Backend", "build_backend", "dumps_text", "is_aiocache", "loads_text", "redact_url"]


def is_aiocache(value: object) -> TypeGuard[BaseCache]:
    """Whether ``value`` is an aiocache instance, without importing aiocache.

    An instance exists only once ``aiocache.base`` was imported, so a process that has not
    imported it holds none.
    """
    base = sys.modules.get("aiocache.base")
    return base is not None and isinstance(value, base.BaseCache)


def dumps_text(value: str) -> str:
    """Entries are serialised by the cache itself (``model_dump_json``): pass text through."""
    if not isinstance(value, str):
        raise TypeError("cache values must be JSON text")
    return value


def loads_text(value: str | bytes | None) -> str | None:
    """Redis hands back bytes when the instance's serializer has no encoding."""
    if isinstance(value, bytes):
        return value.decode("utf-8")
    return value


def redact_url(url: str) -> str:
    """The URL without its password, for reprs and logs."""
    return mask_url_password(url)


@dataclass(slots=True)
class Backend:
    """An aiocache cache for entries, plus the raw Redis client when it is Redis."""

    kind: Literal["memory", "redis"]
    cache: BaseCache
    client: Any  # redis.asyncio.Redis | None
    owned: bool
    description: str

    async def aclose(self) -> None:
        """Close connections the cache opened itself (never a caller's instance)."""
        if not self.owned:
            return
        if self.client is not None:
            await self.client.aclose()
        else:
            await self.cache.close()


def _redis_from_url(url: str, timeout: float) -> BaseCache:
    from aiocache import RedisCache

    parts = urlsplit(url)
    db = (parts.path or "/0").lstrip("/").split("/")[0] or "0"
    pool_kwargs: dict[str, Any] = {"socket_timeout": timeout}
    if parts.username:
        pool_kwargs["username"] = unquote(parts.username)
    return RedisCache(
        endpoint=parts.hostname or "127.0.0.1",
        port=parts.port or 6379,
        db=int(db),
        password=unquote(parts.password) if parts.password else None,
        ssl=parts.scheme == "rediss",
        create_connection_timeout=timeout,
        connection_pool_kwargs=pool_kwargs,
        timeout=timeout,
    )


def build_backend(spec: str | BaseCache, *, timeout: float) -> Backend:
    """Make the :class:`Backend` for ``"memory"``, a Redis URL or an aiocache instance."""
    from aiocache import SimpleMemoryCache

    if is_aiocache(spec):
        client = getattr(spec, "client", None)
        if isinstance(spec, SimpleMemoryCache):
            return Backend("memory", spec, None, False, "memory (given instance)")
        if client is not None and type(spec).__name__ == "RedisCache":
            where = f"redis://{getattr(spec, 'endpoint', '?')}:{getattr(spec, 'port', '?')}"
            return Backend("redis", spec, client, False, f"{where} (given instance)")
        raise TypeError(
            f"unsupported aiocache backend {type(spec).__name__}: "
            "use SimpleMemoryCache or RedisCache"
        )
    if spec == "memory":
        # No per-call timeout: aiocache would wrap every dict lookup in wait_for.
        return Backend("memory", SimpleMemoryCache(timeout=None), None, True, "memory")
    scheme = urlsplit(spec).scheme
    if scheme in ("redis", "rediss"):
        cache = _redis_from_url(spec, timeout)
        return Backend("redis", cache, cache.client, True, redact_url(spec))
    raise ValueError(f"unknown cache backend {redact_url(spec)!r}")
