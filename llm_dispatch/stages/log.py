"""The log stage: turns what the dispatcher reports about a stream into log records.

The dispatcher logs nothing itself. It reports events to its stages, and this stage — one of
the dispatcher's own, right after the usage stage — writes them to the logger
``llm_dispatch.stages.log``:

======================================  ======================================  ========
record                                  from                                    level
======================================  ======================================  ========
``stream.start``                        the plan (:class:`PlanEvent`)           info
``cache.hit``                           :class:`CacheHitEvent`                  info
``stream.first_chunk``                  :class:`FirstTokenEvent`                info
``stream.retry``                        :class:`RetryEvent`                     info
``stream.fallback``                     :class:`FallbackEvent`                  info
``stream.hedge``                        :class:`HedgeEvent`                     info
``stream.interrupted``                  :class:`InterruptionEvent`              warning
``stream.continuation_repeat_dropped``  a :class:`ContinuationEvent` that cut   info
                                        a repeat
``stream.end``                          the end of a stream, usage settled      info
``stream.error``                        the failure of a stream                 info
======================================  ======================================  ========

Circuit changes are logged by the circuit breaker itself (``circuit.changed``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..events import (
    CacheHitEvent,
    ContinuationEvent,
    FallbackEvent,
    FirstTokenEvent,
    HedgeEvent,
    InterruptionEvent,
    PlanEvent,
    RetryEvent,
)
from ..log import get_logger
from .base import Stage

if TYPE_CHECKING:
    from ..context import StreamContext

__all__ = ["LogStage"]

log = get_logger(__name__)


def _plan(ctx: StreamContext, event: PlanEvent) -> None:
    log.info(
        "stream.start",
        request_id=ctx.request_id,
        task_type=ctx.task_type,
        targets=list(event.targets),
        skipped=event.skipped or None,
    )


def _cache_hit(ctx: StreamContext, event: CacheHitEvent) -> None:
    log.info(
        "cache.hit",
        request_id=ctx.request_id,
        cache="exact" if event.exact else "similar",
        similarity=round(event.similarity, 4),
        provider=event.provider,
        model=event.model,
    )


def _first_token(ctx: StreamContext, event: FirstTokenEvent) -> None:
    log.info(
        "stream.first_chunk",
        request_id=ctx.request_id,
        provider=event.provider,
        model=event.model,
        attempt=event.attempt,
        ttft_ms=round(event.ttft * 1000, 1),
    )


def _retry(ctx: StreamContext, event: RetryEvent) -> None:
    log.info(
        "stream.retry",
        request_id=ctx.request_id,
        provider=event.provider,
        model=event.model,
        attempt=event.attempt,
        kind=event.kind,
        status_code=event.status_code,
        wait_s=round(event.wait, 3),
    )


def _fallback(ctx: StreamContext, event: FallbackEvent) -> None:
    log.info(
        "stream.fallback",
        request_id=ctx.request_id,
        from_target=f"{event.from_provider}/{event.from_model}",
        to_target=f"{event.to_provider}/{event.to_model}",
        reason=event.kind or "skipped",
    )


def _hedge(ctx: StreamContext, event: HedgeEvent) -> None:
    log.info(
        "stream.hedge",
        request_id=ctx.request_id,
        waiting=f"{event.provider}/{event.model}",
        hedge=f"{event.hedge_provider}/{event.hedge_model}",
        after_s=event.after,
    )


def _interrupted(ctx: StreamContext, event: InterruptionEvent) -> None:
    log.warning(
        "stream.interrupted",
        request_id=ctx.request_id,
        provider=event.provider,
        model=event.model,
        chars_delivered=event.chars_delivered,
        kind=event.kind,
    )


def _continuation(ctx: StreamContext, event: ContinuationEvent) -> None:
    if event.repeated_chars:
        log.info(
            "stream.continuation_repeat_dropped",
            request_id=ctx.request_id,
            provider=event.provider,
            chars=event.repeated_chars,
        )


# Each event's record, with its level.
_RECORDS: dict[type, tuple[int, Callable[[StreamContext, Any], None]]] = {
    PlanEvent: (logging.INFO, _plan),
    CacheHitEvent: (logging.INFO, _cache_hit),
    FirstTokenEvent: (logging.INFO, _first_token),
    RetryEvent: (logging.INFO, _retry),
    FallbackEvent: (logging.INFO, _fallback),
    HedgeEvent: (logging.INFO, _hedge),
    InterruptionEvent: (logging.WARNING, _interrupted),
    ContinuationEvent: (logging.INFO, _continuation),
}

# Whether the stage's logger takes records of a level (the stdlib logger caches the answer
# until a level changes). Asked before a record is built: building one, and the lazy
# logger's attribute lookup, cost more than the rest of a cache hit's stage calls.
_logs = logging.getLogger(__name__).isEnabledFor


class LogStage(Stage):
    """Writes a stream's events, end and failure to the log (see the module docstring)."""

    name = "log"

    async def on_event(self, ctx: StreamContext, event: Any) -> None:
        found = _RECORDS.get(type(event))
        if found is not None and _logs(found[0]):
            found[1](ctx, event)

    async def on_end(self, ctx: StreamContext) -> str:
        if not _logs(logging.INFO):
            return ""
        log.info(
            "stream.end",
            request_id=ctx.request_id,
            provider=ctx.provider,
            model=ctx.model,
            elapsed_ms=round(ctx.elapsed_ms, 1),
            ttft_ms=(
                round((ctx.first_chunk_at - ctx.started_at) * 1000, 1)
                if ctx.first_chunk_at
                else None
            ),
            chunks=ctx.chunk_index + 1,
            usage=ctx.usage.model_dump() if ctx.usage else None,
            finish_reason=ctx.finish_reason,
        )
        return ""

    async def on_error(self, ctx: StreamContext, exc: BaseException) -> None:
        if not _logs(logging.INFO):
            return
        log.info(
            "stream.error",
            request_id=ctx.request_id,
            error=type(exc).__name__,
            detail=str(exc) if not isinstance(exc, GeneratorExit) else "consumer closed",
            elapsed_ms=round(ctx.elapsed_ms, 1),
            chunks=ctx.chunk_index + 1,
        )
