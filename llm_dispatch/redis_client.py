"""The Redis client a shared store (circuit, limits, budgets) talks through.

:func:`store_client` makes one from the store's URL, importing redis only then (a plain
stream never needs it), or takes the application's own; :func:`close_store_client` closes
it once, and only when the store made it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["StoreClient", "close_store_client", "store_client"]


class StoreClient:
    """A store's Redis client, and whether the store made it (and so closes it)."""

    __slots__ = ("owned", "redis")

    def __init__(self, redis: Redis, owned: bool) -> None:
        self.redis = redis
        self.owned = owned


def store_client(url: str, client: Redis | None) -> StoreClient:
    """``client``, or a client of ``url`` (answers decoded, 2 s to connect and to read)."""
    if client is not None:
        return StoreClient(client, owned=False)
    from redis.asyncio import Redis

    made = Redis.from_url(url, decode_responses=True, socket_connect_timeout=2, socket_timeout=2)
    return StoreClient(made, owned=True)


async def close_store_client(store: StoreClient) -> None:
    """Close the client if the store made it; a second call does nothing."""
    if store.owned:
        store.owned = False
        await store.redis.aclose()
