"""The common shape of every callback style, as the callback stage drives it.

Each style (:class:`StreamingCallbacks` with metadata dicts, :class:`EventCallbacks` with
typed events, a LangChain-style handler) is adapted to one :class:`Listener`: ``start``,
``chunk`` (only when the style wants chunks), ``event`` (retries, fallbacks, cache hits),
``end`` and ``error``. :meth:`Listener.call` runs one user callable, sync or async, under
the error policy: an exception is logged and the stream goes on, unless ``raise_error`` is
set. A callback that keeps failing is logged once per stream (with its traceback), and once
more at the end of the stream with the number of repeats.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..log import get_logger

if TYPE_CHECKING:
    from ..context import StreamContext
    from .events import StreamSummary

__all__ = ["Callback", "Listener", "callable_name", "report_repeated_failures"]

log = get_logger(__name__)

#: A user callback: a plain function or an ``async def`` one.
Callback = Callable[..., Any]


def callable_name(fn: Callable[..., Any]) -> str:
    return getattr(fn, "__qualname__", None) or repr(fn)


class Listener:
    """One callback object, adapted to the stream's hooks. Subclasses override what their
    style reports; ``wants_chunks`` says whether :meth:`chunk` does anything."""

    wants_chunks: bool = False

    def __init__(self, *, raise_error: bool = False) -> None:
        self.raise_error = raise_error

    async def start(self, ctx: StreamContext) -> None:
        return None

    async def chunk(self, ctx: StreamContext, text: str, index: int) -> None:
        return None

    async def event(self, ctx: StreamContext, event: Any) -> None:
        return None

    async def end(self, ctx: StreamContext, summary: StreamSummary) -> None:
        return None

    async def error(self, ctx: StreamContext, exc: BaseException) -> None:
        return None

    async def call(self, ctx: StreamContext, fn: Callback, *args: Any, **kwargs: Any) -> None:
        """Run ``fn`` (awaiting it if it is async); log what it raises, or re-raise it."""
        try:
            result = fn(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
        except Exception as exc:
            if self.raise_error:
                raise
            _record_failure(ctx, self, fn, exc)


# Failures of this stream's callbacks: (listener, callable) -> [name, repeats].
_FAILURES_KEY = "callback_failures"


def _record_failure(ctx: StreamContext, listener: Listener, fn: Callback, exc: Exception) -> None:
    """Log the first failure of one callback in one stream; count the ones after it."""
    failures: dict[tuple[int, int], list[Any]] = ctx.values.setdefault(_FAILURES_KEY, {})
    key = (id(listener), id(fn))
    seen = failures.get(key)
    if seen is not None:
        seen[1] += 1
        return
    failures[key] = [callable_name(fn), 0]
    log.warning(
        "callback.failed",
        request_id=ctx.request_id,
        callback=callable_name(fn),
        error_type=type(exc).__name__,
        error=str(exc),
        exc_info=exc,
    )


def report_repeated_failures(ctx: StreamContext) -> None:
    """At the end of a stream: one line per callback that failed more than once, with the
    number of failures after the first (which was logged with its traceback)."""
    failures: dict[tuple[int, int], list[Any]] | None = ctx.values.pop(_FAILURES_KEY, None)
    for name, repeats in (failures or {}).values():
        if repeats:
            log.warning(
                "callback.failed_again",
                request_id=ctx.request_id,
                callback=name,
                repeats=repeats,
            )
