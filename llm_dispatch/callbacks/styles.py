"""Two callback styles users already write.

- :class:`StreamingCallbacks`: every callback gets a metadata dict; ``on_chunk_received``
  gets the chunk first, ``on_error`` the exception first.
- :class:`EventCallbacks`: every callback gets one typed event
  (:mod:`llm_dispatch.callbacks.events`).

Sync and async callables both work. A callback that raises is logged and the stream goes
on; ``raise_error=True`` makes it raise instead (the stream then fails with that
exception). Order of calls: see ``docs/streaming.md`` ("Callbacks").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..chunk import chunk_dict, extra_dict
from ..events import CacheHitEvent, FallbackEvent, ReasoningEvent, RetryEvent, ToolCallEvent
from .events import (
    StreamCompleteEvent,
    StreamDeltaEvent,
    StreamErrorEvent,
    StreamReasoningEvent,
    StreamStartEvent,
    StreamSummary,
    StreamToolCallEvent,
    StreamUsageEvent,
    TextDelta,
    error_type_of,
)
from .listener import Callback, Listener

if TYPE_CHECKING:
    from ..context import StreamContext

__all__ = [
    "EventCallbacks",
    "StreamingCallbacks",
    "end_metadata",
    "error_metadata",
    "is_cancellation",
    "start_metadata",
]


def is_cancellation(exc: BaseException) -> bool:
    """Whether ``exc`` means the consumer left (break, ``aclose()``, task cancelled)."""
    import asyncio

    return isinstance(exc, (asyncio.CancelledError, GeneratorExit))


def _base(ctx: StreamContext) -> dict[str, Any]:
    return {
        "request_id": ctx.request_id,
        "provider": ctx.provider,
        "model": ctx.model,
        "task_type": ctx.task_type,
        "attempt": ctx.attempt,
        "cached": ctx.cached,
    }


def start_metadata(ctx: StreamContext) -> dict[str, Any]:
    """``request_id``, ``provider``, ``model`` (the first planned target), ``task_type``,
    ``prompt``, ``max_tokens``, ``attempt``, ``cached``."""
    return {**_base(ctx), "prompt": ctx.request.prompt, "max_tokens": ctx.request.max_tokens}


def end_metadata(summary: StreamSummary) -> dict[str, Any]:
    """The summary's fields, with ``usage`` as a dict, plus flat keys: ``total_tokens``,
    ``prompt_tokens``, ``completion_tokens``, ``duration`` (seconds)."""
    data = summary.model_dump()
    usage = summary.usage
    data["prompt_tokens"] = usage.prompt_tokens if usage is not None else None
    data["completion_tokens"] = usage.completion_tokens if usage is not None else None
    data["total_tokens"] = usage.total_tokens if usage is not None else None
    data["duration"] = summary.duration_ms / 1000.0
    return data


def error_metadata(ctx: StreamContext, exc: BaseException) -> dict[str, Any]:
    """Where the stream was when it failed: ``error_type``, ``error``, ``cancelled``,
    ``partial_text``, ``chunks``, ``duration_ms``, ``usage`` / ``cost_usd`` so far."""
    usage = ctx.usage
    return {
        **_base(ctx),
        "error_type": error_type_of(exc),
        "error": str(exc)
        if not isinstance(exc, GeneratorExit)
        else "the consumer closed the stream",
        "cancelled": is_cancellation(exc),
        "partial_text": ctx.text,
        "chunks": ctx.chunk_index + 1,
        "duration_ms": ctx.elapsed_ms,
        "usage": usage.model_dump() if usage is not None else None,
        "cost_usd": ctx.cost_usd,
    }


def _event_metadata(
    ctx: StreamContext, event: RetryEvent | FallbackEvent | CacheHitEvent
) -> dict[str, Any]:
    data = _base(ctx)
    data.update({name: getattr(event, name) for name in event.__slots__})
    return data


@dataclass(frozen=True, slots=True)
class StreamingCallbacks:
    """Callbacks that each receive a metadata dict.

    - ``on_stream_start(metadata)``: see :func:`start_metadata` (``provider``, ``model`` ...).
    - ``on_chunk_received(chunk, metadata)``: ``metadata`` is the chunk dict
      ``llm_stream_with_metadata`` yields for it (``chunk_index``, ``progress`` ...).
    - ``on_reasoning(text, metadata)``: a reasoning delta (``metadata`` is its
      ``kind="reasoning"`` chunk dict); ``on_tool_call(metadata)``: a tool call started,
      got a piece of its arguments, or is done (its ``kind="tool_call"`` chunk dict).
    - ``on_retry(metadata)`` / ``on_fallback(metadata)`` / ``on_cache_hit(metadata)``: the
      fields of the dispatcher's Retry / Fallback / CacheHit event plus ``request_id`` ...
    - ``on_usage(metadata)``: ``usage`` (dict), ``cost_usd`` and the flat token counts.
    - ``on_stream_end(metadata)``: see :func:`end_metadata` (``total_tokens``, ``duration``).
    - ``on_error(error, metadata)``: see :func:`error_metadata`.
    """

    on_stream_start: Callback | None = None
    on_chunk_received: Callback | None = None
    on_stream_end: Callback | None = None
    on_error: Callback | None = None
    on_retry: Callback | None = None
    on_fallback: Callback | None = None
    on_usage: Callback | None = None
    on_cache_hit: Callback | None = None
    on_reasoning: Callback | None = None
    on_tool_call: Callback | None = None
    raise_error: bool = False

    def listener(self) -> Listener:
        return _StreamingCallbacksListener(self)


class _StreamingCallbacksListener(Listener):
    def __init__(self, callbacks: StreamingCallbacks) -> None:
        super().__init__(raise_error=callbacks.raise_error)
        self.cb = callbacks
        self.wants_chunks = callbacks.on_chunk_received is not None
        self._event_callbacks: dict[type, Callback | None] = {
            RetryEvent: callbacks.on_retry,
            FallbackEvent: callbacks.on_fallback,
            CacheHitEvent: callbacks.on_cache_hit,
        }

    async def start(self, ctx: StreamContext) -> None:
        if self.cb.on_stream_start is not None:
            await self.call(ctx, self.cb.on_stream_start, start_metadata(ctx))

    async def chunk(self, ctx: StreamContext, text: str, index: int) -> None:
        assert self.cb.on_chunk_received is not None
        metadata = chunk_dict(ctx, text, index, final=False)
        await self.call(ctx, self.cb.on_chunk_received, text, metadata)

    async def event(self, ctx: StreamContext, event: Any) -> None:
        if isinstance(event, ReasoningEvent):
            if self.cb.on_reasoning is not None:
                metadata = extra_dict(ctx, event, ctx.chunk_index + 1)
                await self.call(ctx, self.cb.on_reasoning, event.text, metadata)
            return
        if isinstance(event, ToolCallEvent):
            if self.cb.on_tool_call is not None:
                await self.call(
                    ctx, self.cb.on_tool_call, extra_dict(ctx, event, ctx.chunk_index + 1)
                )
            return
        fn = self._event_callbacks.get(type(event))
        if fn is not None:
            await self.call(ctx, fn, _event_metadata(ctx, event))

    async def end(self, ctx: StreamContext, summary: StreamSummary) -> None:
        metadata = end_metadata(summary)
        if self.cb.on_usage is not None and summary.usage is not None:
            await self.call(ctx, self.cb.on_usage, metadata)
        if self.cb.on_stream_end is not None:
            await self.call(ctx, self.cb.on_stream_end, metadata)

    async def error(self, ctx: StreamContext, exc: BaseException) -> None:
        if self.cb.on_error is not None:
            await self.call(ctx, self.cb.on_error, exc, error_metadata(ctx, exc))


@dataclass(frozen=True, slots=True)
class EventCallbacks:
    """Callbacks that each receive one typed event.

    ``on_start(StreamStartEvent)``, ``on_delta(StreamDeltaEvent)`` (text only),
    ``on_reasoning(StreamReasoningEvent)``, ``on_tool_call(StreamToolCallEvent)``,
    ``on_usage(StreamUsageEvent)``, ``on_complete(StreamCompleteEvent)``,
    ``on_error(StreamErrorEvent)``.
    """

    on_start: Callback | None = None
    on_delta: Callback | None = None
    on_reasoning: Callback | None = None
    on_tool_call: Callback | None = None
    on_usage: Callback | None = None
    on_complete: Callback | None = None
    on_error: Callback | None = None
    raise_error: bool = False

    def listener(self) -> Listener:
        return _EventCallbacksListener(self)


class _EventCallbacksListener(Listener):
    def __init__(self, callbacks: EventCallbacks) -> None:
        super().__init__(raise_error=callbacks.raise_error)
        self.cb = callbacks
        self.wants_chunks = callbacks.on_delta is not None

    async def start(self, ctx: StreamContext) -> None:
        if self.cb.on_start is not None:
            event = StreamStartEvent(
                request_id=ctx.request_id,
                provider=ctx.provider,
                model=ctx.model,
                task_type=ctx.task_type,
                prompt=ctx.request.prompt,
            )
            await self.call(ctx, self.cb.on_start, event)

    async def chunk(self, ctx: StreamContext, text: str, index: int) -> None:
        assert self.cb.on_delta is not None
        event = StreamDeltaEvent(
            request_id=ctx.request_id,
            provider=ctx.provider,
            model=ctx.model,
            task_type=ctx.task_type,
            chunk_index=index,
            delta=TextDelta(text),
        )
        await self.call(ctx, self.cb.on_delta, event)

    async def event(self, ctx: StreamContext, event: Any) -> None:
        common: dict[str, Any] = {
            "request_id": ctx.request_id,
            "provider": ctx.provider,
            "model": ctx.model,
            "task_type": ctx.task_type,
        }
        if isinstance(event, ReasoningEvent) and self.cb.on_reasoning is not None:
            await self.call(
                ctx, self.cb.on_reasoning, StreamReasoningEvent(**common, text=event.text)
            )
        elif isinstance(event, ToolCallEvent) and self.cb.on_tool_call is not None:
            update = StreamToolCallEvent(
                **common, phase=event.phase, index=event.index, id=event.id, name=event.name,
                arguments_delta=event.arguments_delta, call=event.call,
            )  # fmt: skip
            await self.call(ctx, self.cb.on_tool_call, update)

    async def end(self, ctx: StreamContext, summary: StreamSummary) -> None:
        common: dict[str, Any] = {
            "request_id": ctx.request_id,
            "provider": ctx.provider,
            "model": ctx.model,
            "task_type": ctx.task_type,
        }
        if self.cb.on_usage is not None and summary.usage is not None:
            usage_event = StreamUsageEvent(**common, usage=summary.usage, cost_usd=summary.cost_usd)
            await self.call(ctx, self.cb.on_usage, usage_event)
        if self.cb.on_complete is not None:
            complete = StreamCompleteEvent(**common, result=summary, metadata=end_metadata(summary))
            await self.call(ctx, self.cb.on_complete, complete)

    async def error(self, ctx: StreamContext, exc: BaseException) -> None:
        if self.cb.on_error is not None:
            event = StreamErrorEvent(
                request_id=ctx.request_id,
                provider=ctx.provider,
                model=ctx.model,
                task_type=ctx.task_type,
                error=exc,
                error_type=error_type_of(exc),
                cancelled=is_cancellation(exc),
                metadata=error_metadata(ctx, exc),
            )
            await self.call(ctx, self.cb.on_error, event)
