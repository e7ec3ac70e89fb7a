"""Stores that run after the stream that produced them has ended.

A complete answer is stored in a task of its own, so a slow or paused backend delays nothing
a consumer waits for and no stream deadline covers the store. Lookups of the same cache wait
for the stores still in progress (within their own bound), so a call sees the answers of the
calls that finished before it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

__all__ = ["BackgroundStores"]


class BackgroundStores:
    """The store tasks of one cache that have not finished yet."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[bool]] = set()

    def __len__(self) -> int:
        return len(self._tasks)

    def start(self, store: Coroutine[Any, Any, bool]) -> asyncio.Task[bool]:
        task = asyncio.get_running_loop().create_task(store, name="llm_dispatch:cache-store")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def wait(self) -> None:
        """Wait for the stores in progress now; waiting gives up without cancelling them."""
        if self._tasks:
            await asyncio.shield(asyncio.gather(*self._tasks, return_exceptions=True))

    async def drain(self) -> None:
        """Wait until no store is in progress, including ones started meanwhile."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
