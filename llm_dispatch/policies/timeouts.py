"""Deadlines on a provider stream: first token, idle gap, and one total for the whole chain.

``asyncio.timeout()`` costs a timer per use, and an idle deadline needs one per chunk: ~4 µs,
more than this library's whole per-chunk budget. :class:`Watchdog` instead keeps a single
timer per stream and moves its deadline by assigning a float; the timer re-arms itself
lazily when it wakes early. On expiry it cancels the task that is waiting on the provider and
:meth:`Watchdog.check` turns that cancellation into a :class:`StreamTimeout`.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable

from ..errors import StreamTimeout

__all__ = ["Watchdog"]


class Watchdog:
    """One stream's deadlines.

    Call :meth:`arm` right before awaiting the provider and :meth:`disarm` right after; between
    the two the awaiting task is cancelled if the deadline passes. The ``total`` deadline is
    folded into every arm: whichever limit is nearer is the one reported.
    """

    __slots__ = (
        "_expires",
        "_handle",
        "_handle_at",
        "_limit",
        "_loop",
        "_seconds",
        "_task",
        "_time",
        "fired",
        "total",
        "total_at",
    )

    def __init__(self, total: float | None) -> None:
        self._loop = loop = asyncio.get_running_loop()
        # The loop's clock, read on every arm (once per chunk): the standard loops' clock
        # is time.monotonic, called directly to save a Python frame per read.
        self._time: Callable[[], float] = (
            time.monotonic if type(loop).time is asyncio.BaseEventLoop.time else loop.time
        )
        self.total = total
        self.total_at = self._loop.time() + total if total is not None else math.inf
        self._expires: float | None = None
        self._limit = ""
        self._seconds = 0.0
        self._handle: asyncio.TimerHandle | None = None
        self._handle_at = math.inf
        self._task: asyncio.Task[object] | None = None
        self.fired: StreamTimeout | None = None

    def remaining(self) -> float:
        """Seconds left before the total deadline (``inf`` without one)."""
        return self.total_at - self._loop.time()

    def left(self) -> float | None:
        """Seconds left before the total deadline (never negative), or None without one:
        the bound for work outside the provider stream (cache and circuit stores)."""
        if self.total is None:
            return None
        return max(0.0, self.total_at - self._loop.time())

    def watch(self) -> None:
        """Bind to the task now running: the one a firing deadline cancels.

        Called when a provider stream is opened rather than on every :meth:`arm`, because
        looking up the current task costs more than the rest of an arm. A stream is consumed
        by the task that opened it (or by one task at a time after a ``watch``).
        """
        self._task = asyncio.current_task()

    def arm(self, limit: str, seconds: float | None) -> None:
        """Start waiting: ``limit`` fires after ``seconds`` unless the total deadline is nearer."""
        expires = self._time() + seconds if seconds is not None else math.inf
        if self.total_at <= expires:
            if self.total is None:
                self._expires = None
                return
            expires, limit, seconds = self.total_at, "total", self.total
        self._expires = expires
        self._limit = limit
        self._seconds = seconds  # type: ignore[assignment]
        if self._handle_at > expires:
            # Only a nearer deadline needs a new timer; a later one is picked up lazily when
            # the current timer wakes (see _wake).
            if self._handle is not None:
                self._handle.cancel()
            self._handle = self._loop.call_at(expires, self._wake)
            self._handle_at = expires

    def disarm(self) -> None:
        self._expires = None

    def _wake(self) -> None:
        self._handle = None
        self._handle_at = math.inf
        expires = self._expires
        if expires is None:
            return
        if self._loop.time() < expires:
            self._handle = self._loop.call_at(expires, self._wake)
            self._handle_at = expires
            return
        self._expires = None
        self.fired = StreamTimeout(self._limit, self._seconds)
        if self._task is not None:
            self._task.cancel()

    def check(self, exc: BaseException) -> StreamTimeout | None:
        """If ``exc`` is the cancellation this watchdog caused, the timeout it stands for.

        Returns None for a cancellation that came from elsewhere (the consumer went away),
        which must then propagate untouched.
        """
        fired = self.fired
        if fired is None or not isinstance(exc, asyncio.CancelledError):
            return None
        self.fired = None
        task = asyncio.current_task()
        if task is not None and task.uncancel() > 0:
            # Someone else cancelled too: their cancellation wins.
            return None
        return fired

    def close(self) -> None:
        self._expires = None
        self._handle_at = math.inf
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
