"""Turning a stored stream back into provider events.

A hit is replayed as if the cache were a provider: text events with the original chunk
boundaries, then one closing event with usage and finish reason. The dispatcher feeds these
through the same stages as a live stream.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

from ..events import ProviderEvent, Usage
from .entry import CachedStream, ReplayTiming

__all__ = ["replay_events"]

# An immediate replay of a long stream hands the event loop back this often, so that one
# large hit cannot starve every other stream in the process.
_YIELD_EVERY = 64


def _usage_of(entry: CachedStream) -> Usage | None:
    if entry.usage is None:
        return None
    return Usage.model_validate(entry.usage)


async def replay_events(
    entry: CachedStream, timing: ReplayTiming = "immediate"
) -> AsyncIterator[ProviderEvent]:
    """Yield the entry's chunks as text events, then a closing usage/finish event.

    ``timing="recorded"`` spaces the chunks as they were recorded (relative to the first
    chunk, so the original time-to-first-token is not replayed); an entry without timing is
    replayed immediately.
    """
    offsets = entry.offsets_ms if timing == "recorded" else None
    if offsets is None:
        for i, chunk in enumerate(entry.chunks):
            if i and i % _YIELD_EVERY == 0:
                await asyncio.sleep(0)
            yield ProviderEvent(text=chunk)
    else:
        start = time.perf_counter()
        for chunk, offset_ms in zip(entry.chunks, offsets, strict=True):
            delay = offset_ms / 1000.0 - (time.perf_counter() - start)
            if delay > 0:
                await asyncio.sleep(delay)
            yield ProviderEvent(text=chunk)
    yield ProviderEvent(usage=_usage_of(entry), finish_reason=entry.finish_reason or "stop")
