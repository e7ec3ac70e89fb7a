"""Recording a live stream so that it can be stored once it has completed."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from ..events import ProviderEvent, Usage
from .entry import CachedStream, StoredExtra

__all__ = ["UNSTORABLE_FINISH_REASONS", "StreamRecorder"]

#: A stream that ended for one of these reasons is not an answer worth replaying.
UNSTORABLE_FINISH_REASONS = frozenset({"content_filter", "error", "cancelled"})


class StreamRecorder:
    """Collects the raw provider chunks of one stream (with their timing) for the cache.

    Feed it every provider event (or text chunk) as it arrives, then call :meth:`commit`
    when the stream completed successfully, or :meth:`discard` when it failed or the
    consumer went away. Only a committed recording is handed to ``store`` (which knows
    what the recording answers).
    """

    __slots__ = (
        "_chunks",
        "_closed",
        "_extras",
        "_first_at",
        "_offsets",
        "_store",
        "finish_reason",
        "usage",
    )

    def __init__(
        self, store: Callable[[CachedStream], Awaitable[bool]], *, record_timing: bool = True
    ) -> None:
        self._store = store
        self._chunks: list[str] = []
        self._extras: list[StoredExtra] = []
        self._offsets: list[float] | None = [] if record_timing else None
        self._first_at: float | None = None
        self._closed = False
        self.usage: Usage | None = None
        self.finish_reason: str | None = None

    @property
    def chunks(self) -> tuple[str, ...]:
        return tuple(self._chunks)

    def add(self, text: str) -> None:
        """One raw text chunk, exactly as the provider sent it."""
        if self._closed or not text:
            return
        now = time.perf_counter()
        if self._first_at is None:
            self._first_at = now
        self._chunks.append(text)
        if self._offsets is not None:
            self._offsets.append(round((now - self._first_at) * 1000.0, 3))

    def add_event(self, event: ProviderEvent) -> None:
        """A provider event: its text (or its reasoning or tool-call delta) is recorded, its
        usage and finish reason kept."""
        if event.text:
            self.add(event.text)
        elif not self._closed:
            extra = StoredExtra.of(event, len(self._chunks))
            if extra is not None:
                self._extras.append(extra)
        if event.usage is not None:
            self.usage = event.usage
        if event.finish_reason is not None:
            self.finish_reason = event.finish_reason

    def discard(self) -> None:
        """The stream failed or was abandoned: never store it."""
        self._closed = True
        self._chunks.clear()
        self._extras.clear()

    async def commit(
        self,
        *,
        provider: str,
        model: str,
        usage: Usage | None = None,
        finish_reason: str | None = None,
    ) -> bool:
        """Store the recording; True if it was stored.

        Not stored: a discarded or already committed recording, one without text or tool
        calls, or one that finished for a reason in :data:`UNSTORABLE_FINISH_REASONS`.
        """
        if self._closed:
            return False
        self._closed = True
        usage = usage or self.usage
        finish = finish_reason or self.finish_reason
        if finish in UNSTORABLE_FINISH_REASONS:
            return False
        entry = CachedStream(
            chunks=tuple(self._chunks),
            extras=tuple(self._extras),
            offsets_ms=tuple(self._offsets) if self._offsets is not None else None,
            provider=provider,
            model=model,
            usage=usage.model_dump() if usage is not None else None,
            finish_reason=finish,
        )
        if not entry.has_answer:
            return False
        return await self._store(entry)
