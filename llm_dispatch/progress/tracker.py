"""The tracker an application reads: the progress of the stream most recently started
with it, or, for a tracker never given to a call, in the task that made it."""

from __future__ import annotations

import asyncio
import weakref

from ..log import get_logger
from .by_task import latest_in_task
from .gauge import ProgressSnapshot, ProgressStatus, StreamProgress
from .lengths import CompletionLengths, default_lengths

__all__ = ["ProgressTracker"]

log = get_logger(__name__)


class ProgressTracker:
    """Follows the progress of the streams it is attached to.

    Attach it with ``@llm_stream(progress_tracker=tracker)`` (or the client's
    ``progress_tracker=``) and read it while iterating::

        tracker = ProgressTracker()

        @llm_stream(progress_tracker=tracker)
        async def write(prompt: str): ...

        async for chunk in write("..."):
            print(f"{tracker.get_progress():.0f}%  {tracker.tokens_per_second or 0:.0f} tok/s")

    It reports the stream most recently started with it (the same tracker on a function
    called concurrently follows the latest call; each stream's own figures are on
    ``DispatchStream.progress``). Before any stream it reads as waiting at 0.
    ``lengths`` holds the learned completion lengths (default: process-wide).

    A tracker never given to a call follows the stream most recently started in the
    asyncio task that created it (or, made outside any task, in the task reading it), so
    ``tracker = ProgressTracker()`` followed by ``async for chunk in some_call(...)`` in
    the same function reports that call. Read with no such stream, it reads as waiting at
    0 and logs one warning saying it follows nothing.
    """

    def __init__(self, *, lengths: CompletionLengths | None = None) -> None:
        self.lengths = lengths if lengths is not None else default_lengths()
        self._current: StreamProgress | None = None
        self._attached = False
        self._warned = False
        try:
            task = asyncio.current_task()
        except RuntimeError:  # made outside a running event loop
            task = None
        self._owner: weakref.ref[asyncio.Task[object]] | None = (
            weakref.ref(task) if task is not None else None
        )

    def mark_attached(self) -> None:
        """Note that the tracker was given to a call (the progress stage does this when it
        is built): from then on it follows only the streams of the calls it was given to."""
        self._attached = True

    @property
    def attached(self) -> bool:
        """Whether the tracker was given to a call (else it follows its task's streams)."""
        return self._attached

    def follow(self, progress: StreamProgress) -> None:
        """Report ``progress`` from now on (the progress stage calls this at the start)."""
        self._attached = True
        self._current = progress

    @property
    def current(self) -> StreamProgress | None:
        """The stream followed now, or None before any."""
        if self._attached:
            return self._current
        owner = self._owner() if self._owner is not None else None
        latest = latest_in_task(owner)
        if latest is None and not self._warned:
            self._warned = True
            log.warning(
                "progress.follows_nothing",
                detail="this ProgressTracker was never given to a call (progress_tracker=) "
                "and no stream has started in the task that created it: it reads 0",
            )
        return latest

    def get_progress(self) -> float:
        """0-100 for the current stream (0 before any)."""
        current = self.current
        return current.progress if current is not None else 0.0

    def snapshot(self) -> ProgressSnapshot:
        """Every figure of the current stream at once (a waiting snapshot before any)."""
        current = self.current
        return current.snapshot() if current is not None else ProgressSnapshot()

    @property
    def status(self) -> ProgressStatus:
        current = self.current
        return current.current_status if current is not None else ProgressStatus.WAITING

    @property
    def tokens(self) -> int:
        current = self.current
        return current.tokens if current is not None else 0

    @property
    def expected_tokens(self) -> int | None:
        current = self.current
        return current.expected_tokens if current is not None else None

    @property
    def tokens_per_second(self) -> float | None:
        current = self.current
        return current.tokens_per_second if current is not None else None

    @property
    def time_to_first_token_ms(self) -> float | None:
        current = self.current
        return current.time_to_first_token_ms if current is not None else None

    @property
    def eta_seconds(self) -> float | None:
        current = self.current
        return current.eta_seconds if current is not None else None

    @property
    def chunk_count(self) -> int:
        current = self.current
        return current.chunk_count if current is not None else 0

    def __repr__(self) -> str:
        return f"ProgressTracker(status={self.status.value}, progress={self.get_progress():.1f})"
