"""Which stream each asyncio task started last: what a :class:`ProgressTracker` that was
never attached to a call follows.

The progress stage notes every stream when it starts, in the task that iterates it (a
decorated call's stream runs in the task consuming it). Tasks are held weakly: a finished
task and its stream's progress are forgotten with the task.
"""

from __future__ import annotations

import asyncio
import weakref

from .gauge import StreamProgress

__all__ = ["latest_in_task", "note_started"]

_latest: weakref.WeakKeyDictionary[asyncio.Task[object], StreamProgress] = (
    weakref.WeakKeyDictionary()
)


def _current_task() -> asyncio.Task[object] | None:
    try:
        return asyncio.current_task()
    except RuntimeError:  # no running event loop: no task
        return None


def note_started(progress: StreamProgress) -> None:
    """Record ``progress`` as the stream most recently started in the current task."""
    task = _current_task()
    if task is not None:
        _latest[task] = progress


def latest_in_task(task: asyncio.Task[object] | None = None) -> StreamProgress | None:
    """The stream most recently started in ``task`` (default: the current task), or None
    (none yet, or no task)."""
    if task is None:
        task = _current_task()
    return _latest.get(task) if task is not None else None
