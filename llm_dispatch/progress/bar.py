"""A terminal progress bar (rich) for scripts and the CLI.

It polls a :class:`ProgressTracker` a few times a second, so the stream itself does no
extra work per chunk::

    tracker = ProgressTracker()
    async with ProgressBar(tracker):
        async for chunk in write_story("...", ):   # decorated with progress_tracker=tracker
            ...

The bar goes to stderr by default, so stdout keeps only the streamed text.
"""

from __future__ import annotations

import asyncio
from types import TracebackType
from typing import TYPE_CHECKING, Any

from .gauge import ProgressSnapshot, ProgressStatus
from .tracker import ProgressTracker

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress, TaskID

__all__ = ["ProgressBar", "describe"]


def describe(snapshot: ProgressSnapshot) -> dict[str, Any]:
    """The bar's text fields for one snapshot (tokens, rate, ETA, status, TTFT)."""
    rate = snapshot.tokens_per_second
    eta = snapshot.eta_seconds
    ttft = snapshot.time_to_first_token_ms
    return {
        "tokens": f"{snapshot.tokens}/{snapshot.expected_tokens} tok",
        "rate": f"{rate:.0f} tok/s" if rate is not None else "- tok/s",
        "eta": f"ETA {eta:.1f}s" if eta is not None else "ETA -",
        "ttft": f"TTFT {ttft:.0f}ms" if ttft is not None else "TTFT -",
        "status": snapshot.status.value,
    }


class ProgressBar:
    """Draws ``tracker``'s current stream as a rich progress bar while the block runs."""

    def __init__(
        self,
        tracker: ProgressTracker,
        *,
        console: Console | None = None,
        refresh_per_second: float = 10.0,
        transient: bool = False,
    ) -> None:
        if refresh_per_second <= 0:
            raise ValueError("refresh_per_second must be positive")
        self.tracker = tracker
        self._console = console
        self._interval = 1.0 / refresh_per_second
        self._transient = transient
        self._progress: Progress | None = None
        self._task_id: TaskID | None = None
        self._poller: asyncio.Task[None] | None = None

    def _build(self) -> Progress:
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn

        console = self._console if self._console is not None else Console(stderr=True)
        return Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TaskProgressColumn(),
            TextColumn("{task.fields[tokens]}"),
            TextColumn("{task.fields[rate]}"),
            TextColumn("{task.fields[ttft]}"),
            TextColumn("{task.fields[eta]}"),
            TextColumn("{task.fields[status]}"),
            console=console,
            transient=self._transient,
            auto_refresh=False,
        )

    def update(self) -> ProgressSnapshot:
        """Redraw from the tracker now; returns the snapshot drawn."""
        snapshot = self.tracker.snapshot()
        if self._progress is not None and self._task_id is not None:
            label = f"{snapshot.provider}/{snapshot.model}" if snapshot.provider else "waiting"
            fields = describe(snapshot)
            self._progress.update(
                self._task_id, completed=snapshot.progress, description=label, **fields
            )
            self._progress.refresh()
        return snapshot

    async def _poll(self) -> None:
        while True:
            self.update()
            await asyncio.sleep(self._interval)

    async def __aenter__(self) -> ProgressBar:
        self._progress = self._build()
        self._progress.start()
        fields = describe(ProgressSnapshot())
        self._task_id = self._progress.add_task("waiting", total=100.0, **fields)
        self._poller = asyncio.create_task(self._poll())
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._poller is not None:
            self._poller.cancel()
            # wait() does not re-raise the poller's CancelledError, so a cancellation of the
            # task running this block is not swallowed here.
            await asyncio.wait([self._poller])
            self._poller = None
        if self._progress is not None:
            snapshot = self.update()
            if snapshot.status is ProgressStatus.DONE:
                assert self._task_id is not None
                self._progress.update(self._task_id, completed=100.0)
                self._progress.refresh()
            self._progress.stop()
            self._progress = None
