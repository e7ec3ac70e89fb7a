"""The callback stage: reports a stream to every callback style attached to the call.

It runs after every stage that changes text, so callbacks see each chunk exactly as the
consumer receives it, and after the usage and progress stages, so the end callbacks see the
final usage, cost and progress. Text that stages add at the end (a filter flushing what it
held back, the provenance trailer) is reported as one last chunk before the end.

Exactly one of end / error reaches the callbacks of every stream that started, also when
the consumer leaves (``error`` with a ``CancelledError`` / ``GeneratorExit``).
"""

from __future__ import annotations

from collections.abc import Coroutine, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..callbacks.events import summarize
from ..callbacks.langchain import LangChainListener, is_langchain_handler
from ..callbacks.listener import Listener, report_repeated_failures
from ..callbacks.styles import EventCallbacks, StreamingCallbacks
from ..log import get_logger
from .base import Stage

if TYPE_CHECKING:
    from ..context import StreamContext

__all__ = ["CallbackStage", "as_listener"]

log = get_logger(__name__)


def as_listener(obj: object) -> Listener:
    """Adapt one callback object (any supported style) to a :class:`Listener`."""
    if isinstance(obj, Listener):
        return obj
    if isinstance(obj, (StreamingCallbacks, EventCallbacks)):
        return obj.listener()
    if is_langchain_handler(obj):
        return LangChainListener(obj)
    raise TypeError(
        f"callbacks: cannot use {type(obj).__name__!r}; pass StreamingCallbacks(...), "
        "EventCallbacks(...), StreamHandler(on_token=...) or an object with LangChain's "
        "on_llm_start / on_llm_new_token / on_llm_end / on_llm_error methods"
    )


@dataclass(slots=True)
class _Reported:
    """What the callbacks of one stream were told so far."""

    ended: bool = False


async def _each(calls: Iterable[Coroutine[Any, Any, None]]) -> None:
    """Await every call even if one raises (``raise_error``), then raise the first error:
    one listener's failure must not keep the others from hearing about the start or end."""
    first: Exception | None = None
    for call in calls:
        try:
            await call
        except Exception as exc:
            first = first or exc
    if first is not None:
        raise first


class CallbackStage(Stage):
    """Drives the listeners of one call's callbacks (one object or a list of them)."""

    name = "callbacks"

    def __init__(self, callbacks: object | Iterable[object]) -> None:
        items = list(callbacks) if isinstance(callbacks, (list, tuple)) else [callbacks]
        self.listeners: tuple[Listener, ...] = tuple(as_listener(c) for c in items)
        self._chunk_listeners = tuple(lst for lst in self.listeners if lst.wants_chunks)
        self._key = f"callbacks:{id(self):x}"

    def handles_chunks(self) -> bool:
        return bool(self._chunk_listeners)

    async def on_start(self, ctx: StreamContext) -> None:
        # Recorded before the callbacks run: a start callback that raises (raise_error)
        # fails the stream, and the error must still reach every listener.
        ctx.values[self._key] = _Reported()
        await _each(listener.start(ctx) for listener in self.listeners)

    async def on_chunk(self, ctx: StreamContext, text: str) -> str:
        if text:
            index = ctx.chunk_index + 1
            for listener in self._chunk_listeners:
                await listener.chunk(ctx, text, index)
        return text

    async def on_event(self, ctx: StreamContext, event: Any) -> None:
        for listener in self.listeners:
            await listener.event(ctx, event)

    async def on_end(self, ctx: StreamContext) -> str:
        reported: _Reported | None = ctx.values.get(self._key)
        if reported is None or reported.ended:
            return ""
        reported.ended = True
        trailer = ctx.trailer
        if trailer:
            index = ctx.chunk_index + 1
            for listener in self._chunk_listeners:
                await listener.chunk(ctx, trailer, index)
        summary = summarize(ctx)
        try:
            await _each(listener.end(ctx, summary) for listener in self.listeners)
        finally:
            report_repeated_failures(ctx)
        return ""

    async def on_error(self, ctx: StreamContext, exc: BaseException) -> None:
        reported: _Reported | None = ctx.values.get(self._key)
        if reported is None or reported.ended:
            # Never started for these callbacks, or they already saw the end (an end
            # callback with raise_error=True is what failed the stream).
            return
        reported.ended = True
        try:
            await _each(listener.error(ctx, exc) for listener in self.listeners)
        except Exception as callback_error:
            # The stream is already failing with its own exception: an error callback
            # with raise_error must not replace it, so this one is only logged.
            log.warning(
                "callback.failed",
                request_id=ctx.request_id,
                callback="on_error",
                error_type=type(callback_error).__name__,
                error=str(callback_error),
                exc_info=callback_error,
            )
        finally:
            report_repeated_failures(ctx)

    def __repr__(self) -> str:
        return f"CallbackStage({len(self.listeners)} listener(s))"
