"""An event processor: several transformers run in order on a stream's events, as one stage.

:func:`create_event_processor` builds one from options:

- ``event_types``: the events handed to the transformers, among ``start``, ``delta`` (each
  text chunk), ``usage``, ``complete`` and ``error`` (default: ``delta`` only, which is what
  a transformer written for text chunks expects). Events of other types are not processed
  at all: no transformer, no timestamp, not counted.
- ``add_correlation``: each processed event's ``correlation_id`` is set to the id tying one
  stream's events together (its ``request_id``); ``add_timestamp``: its ``timestamp`` to
  ``time.time()`` when processed.
- ``add_metrics``: :attr:`EventProcessor.metrics` counts what the processor saw
  (:class:`ProcessorMetrics`); without it ``metrics`` is None.
- ``background``: only ``False`` (the events are processed in line, in stream order).
  Processing in the background cannot work here: a delta's transformers decide the text the
  consumer gets next, so the stream has to wait for them. ``True`` is refused.

A transformer changes what the consumer receives through ``delta`` events (their
``delta.value``, or ``None`` to drop the chunk); the other events are for it to read (and
to stop the chain by returning ``None``). Transformers run before the callbacks, so
callbacks see the transformed text.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..callbacks.events import (
    StreamCompleteEvent,
    StreamDeltaEvent,
    StreamErrorEvent,
    StreamEvent,
    StreamStartEvent,
    StreamUsageEvent,
    TextDelta,
    error_type_of,
    summarize,
)
from ..callbacks.styles import end_metadata, error_metadata, is_cancellation
from .transformers import EventTransformer

if TYPE_CHECKING:
    from ..context import StreamContext

__all__ = ["EVENT_TYPES", "EventProcessor", "ProcessorMetrics", "create_event_processor"]

#: The event types a processor can hand to its transformers, in stream order.
EVENT_TYPES: tuple[str, ...] = ("start", "delta", "usage", "complete", "error")


@dataclass
class ProcessorMetrics:
    """What an :class:`EventProcessor` made with ``add_metrics`` saw, over every stream it
    processed: events by type, streams, text characters passed on; and, for the latest
    stream, the time from its start to its first processed delta and its duration."""

    streams: int = 0
    events: dict[str, int] = field(default_factory=dict)
    text_chars: int = 0
    time_to_first_delta_ms: float | None = None
    duration_ms: float | None = None


class EventProcessor(EventTransformer):
    """Applies its transformers in order to the selected events; a transformer returning
    ``None`` stops the chain (for a delta: drops the chunk). See the module docstring for
    the options (:func:`create_event_processor` takes the same)."""

    name = "event_processor"

    def __init__(
        self,
        transformers: Iterable[EventTransformer] = (),
        *,
        event_types: Iterable[str] = ("delta",),
        add_correlation: bool = False,
        add_timestamp: bool = False,
        add_metrics: bool = False,
    ) -> None:
        self.transformers: list[EventTransformer] = list(transformers)
        self.event_types = _checked_types(event_types)
        self.add_correlation = add_correlation
        self.add_timestamp = add_timestamp
        self.metrics: ProcessorMetrics | None = ProcessorMetrics() if add_metrics else None
        self._key = f"event_processor:{id(self):x}"

    def add_transformer(self, transformer: EventTransformer) -> EventProcessor:
        if not isinstance(transformer, EventTransformer):
            raise TypeError(
                f"add_transformer: {type(transformer).__name__!r} is not an EventTransformer"
            )
        self.transformers.append(transformer)
        return self

    async def transform(self, event: StreamDeltaEvent) -> StreamDeltaEvent | None:
        result = await self._through(event)
        return result if isinstance(result, StreamDeltaEvent) else None

    async def _through(self, event: StreamEvent) -> StreamEvent | None:
        current: StreamEvent | None = event
        for transformer in self.transformers:
            assert current is not None
            # Non-delta events reach a transformer only when the processor's event_types
            # name them.
            result: Any = transformer.transform(current)  # type: ignore[arg-type]
            current = await result if inspect.isawaitable(result) else result
            if current is None:
                return None
        return current

    # -- the stage ------------------------------------------------------------------------

    def _common(self, ctx: StreamContext) -> dict[str, Any]:
        return {
            "request_id": ctx.request_id,
            "provider": ctx.provider,
            "model": ctx.model,
            "task_type": ctx.task_type,
            "correlation_id": ctx.request_id if self.add_correlation else None,
            "timestamp": time.time() if self.add_timestamp else None,
        }

    def _count(self, kind: str) -> None:
        if self.metrics is not None:
            self.metrics.events[kind] = self.metrics.events.get(kind, 0) + 1

    async def _process(self, event: StreamEvent) -> StreamEvent | None:
        self._count(event.type)
        return await self._through(event)

    async def on_start(self, ctx: StreamContext) -> None:
        ctx.values[self._key] = time.perf_counter()
        if self.metrics is not None:
            self.metrics.streams += 1
            self.metrics.time_to_first_delta_ms = self.metrics.duration_ms = None
        if "start" in self.event_types:
            await self._process(StreamStartEvent(**self._common(ctx), prompt=ctx.request.prompt))

    async def on_chunk(self, ctx: StreamContext, text: str) -> str:
        if not text or "delta" not in self.event_types:
            return text
        metrics = self.metrics
        if metrics is not None and metrics.time_to_first_delta_ms is None:
            metrics.time_to_first_delta_ms = self._elapsed_ms(ctx)
        event = StreamDeltaEvent(
            **self._common(ctx), chunk_index=ctx.chunk_index + 1, delta=TextDelta(text)
        )
        result = await self._process(event)
        out = result.delta.value if isinstance(result, StreamDeltaEvent) else ""
        if metrics is not None:
            metrics.text_chars += len(out)
        return out

    async def on_end(self, ctx: StreamContext) -> str:
        if "usage" in self.event_types and ctx.usage is not None:
            usage = StreamUsageEvent(**self._common(ctx), usage=ctx.usage, cost_usd=ctx.cost_usd)
            await self._process(usage)
        if "complete" in self.event_types:
            summary = summarize(ctx)
            complete = StreamCompleteEvent(
                **self._common(ctx), result=summary, metadata=end_metadata(summary)
            )
            await self._process(complete)
        self._finish(ctx)
        return ""

    async def on_error(self, ctx: StreamContext, exc: BaseException) -> None:
        if "error" in self.event_types:
            event = StreamErrorEvent(
                **self._common(ctx),
                error=exc,
                error_type=error_type_of(exc),
                cancelled=is_cancellation(exc),
                metadata=error_metadata(ctx, exc),
            )
            await self._process(event)
        self._finish(ctx)

    def _elapsed_ms(self, ctx: StreamContext) -> float | None:
        started: float | None = ctx.values.get(self._key)
        return (time.perf_counter() - started) * 1000.0 if started is not None else None

    def _finish(self, ctx: StreamContext) -> None:
        if self.metrics is not None:
            self.metrics.duration_ms = self._elapsed_ms(ctx)
        ctx.values.pop(self._key, None)


def _checked_types(event_types: Iterable[str]) -> frozenset[str]:
    if isinstance(event_types, str):
        raise TypeError(f"event_types must be a list of types, not the string {event_types!r}")
    types = list(event_types)
    unknown = [t for t in types if t not in EVENT_TYPES]
    if unknown:
        raise ValueError(
            f"event_types: unknown event type(s) {unknown!r}; "
            f"the types are {', '.join(EVENT_TYPES)}"
        )
    if not types:
        raise ValueError(f"event_types is empty: name at least one of {', '.join(EVENT_TYPES)}")
    return frozenset(types)


def create_event_processor(
    *,
    add_correlation: bool = False,
    add_timestamp: bool = False,
    add_metrics: bool = False,
    event_types: Iterable[str] | None = None,
    background: bool = False,
    transformers: Iterable[EventTransformer] = (),
) -> EventProcessor:
    """An :class:`EventProcessor` with these options (see the module docstring);
    ``event_types=None`` means ``["delta"]``. ``background=True`` raises ``ValueError``."""
    if background:
        raise ValueError(
            "create_event_processor: background=True is not supported: a delta's "
            "transformers decide the text the consumer gets next, so events are processed "
            "in line (background=False)"
        )
    return EventProcessor(
        transformers,
        event_types=("delta",) if event_types is None else event_types,
        add_correlation=add_correlation,
        add_timestamp=add_timestamp,
        add_metrics=add_metrics,
    )
