"""The tracker an application reads: the progress of the stream most recently started
with it."""

from __future__ import annotations

from .gauge import ProgressSnapshot, ProgressStatus, StreamProgress
from .lengths import CompletionLengths, default_lengths

__all__ = ["ProgressTracker"]


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
    """

    def __init__(self, *, lengths: CompletionLengths | None = None) -> None:
        self.lengths = lengths if lengths is not None else default_lengths()
        self._current: StreamProgress | None = None

    def follow(self, progress: StreamProgress) -> None:
        """Report ``progress`` from now on (the progress stage calls this at the start)."""
        self._current = progress

    @property
    def current(self) -> StreamProgress | None:
        """The stream followed now, or None before any."""
        return self._current

    def get_progress(self) -> float:
        """0-100 for the current stream (0 before any)."""
        current = self._current
        return current.progress if current is not None else 0.0

    def snapshot(self) -> ProgressSnapshot:
        current = self._current
        return current.snapshot() if current is not None else ProgressSnapshot()

    @property
    def status(self) -> ProgressStatus:
        current = self._current
        return current.current_status if current is not None else ProgressStatus.WAITING

    @property
    def tokens(self) -> int:
        current = self._current
        return current.tokens if current is not None else 0

    @property
    def expected_tokens(self) -> int | None:
        current = self._current
        return current.expected_tokens if current is not None else None

    @property
    def tokens_per_second(self) -> float | None:
        current = self._current
        return current.tokens_per_second if current is not None else None

    @property
    def time_to_first_token_ms(self) -> float | None:
        current = self._current
        return current.time_to_first_token_ms if current is not None else None

    @property
    def eta_seconds(self) -> float | None:
        current = self._current
        return current.eta_seconds if current is not None else None

    @property
    def chunk_count(self) -> int:
        current = self._current
        return current.chunk_count if current is not None else 0

    def __repr__(self) -> str:
        return f"ProgressTracker(status={self.status.value}, progress={self.get_progress():.1f})"
