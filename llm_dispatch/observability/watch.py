"""The observability stage, and the watch it keeps on each stream and its attempts.

:class:`ObservabilityStage` is installed for every stream of the process by
:func:`~llm_dispatch.observability.instrument` (through :mod:`llm_dispatch.stream_hooks`).
At a stream's start it puts a :class:`StreamWatch` on the context; the same watch is the
observer of each of the stream's attempts, so it hears each try start and end from the
attempt itself and reads what the ledger recorded for it. The stream's events (plan, first
token, fallback, interruption, continuation, cache hit) come through the stage; a retry is
a try that follows a failed one on the same target.

Nothing here runs per chunk: the stage has no ``on_chunk``, and the times it records are
taken when a try starts, at its first event and at its end.

The watch hands what it learns to its sinks (spans, OpenTelemetry metrics, Prometheus); a
sink that raises is logged (``observability.sink_failed``, at most once a minute) and never
fails the stream.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from ..events import (
    CacheHitEvent,
    ContinuationEvent,
    FallbackEvent,
    FirstTokenEvent,
    InterruptionEvent,
    PlanEvent,
)
from ..log import Throttle, get_logger
from ..stages.base import Stage
from .facts import StreamFacts, TryFacts, error_type, outcome_of
from .names import provider_system

if TYPE_CHECKING:
    from ..attempt import Attempt, Ending
    from ..context import StreamContext
    from ..errors import ProviderError
    from ..records import AttemptRecord

__all__ = ["ObservabilityStage", "Sink", "StreamWatch"]

log = get_logger(__name__)

# Where the stage keeps a stream's watch on its context.
_KEY = "observability.watch"


class Sink(Protocol):
    """Told what happens to each stream, in order."""

    def stream_started(self, stream: StreamFacts) -> None: ...

    def try_started(self, stream: StreamFacts, tried: TryFacts) -> None: ...

    def try_ended(self, stream: StreamFacts, tried: TryFacts) -> None: ...

    def stream_ended(self, stream: StreamFacts) -> None: ...


class StreamWatch:
    """One stream's facts as they happen, and the observer of its attempts.

    Each attempt's latest try is kept by the attempt until the attempt ended, so tries of
    attempts that run side by side are told apart; each try's record is the ledger's entry
    for its target and number.
    """

    __slots__ = ("ctx", "done", "facts", "latest", "stage")

    def __init__(self, stage: ObservabilityStage, ctx: StreamContext) -> None:
        self.stage = stage
        self.ctx = ctx
        self.done = False
        # Each running attempt's latest try, by the attempt's id.
        self.latest: dict[int, TryFacts] = {}
        # The call started at ctx.started_at (a perf_counter reading): its wall-clock time.
        since = time.perf_counter() - ctx.started_at
        self.facts = StreamFacts(
            request_id=ctx.request_id,
            task_type=ctx.task_type,
            provider=ctx.provider,
            model=ctx.model,
            started_ns=time.time_ns() - int(since * 1e9),
        )
        stage.tell("stream_started", self.facts)

    # -- the attempts' observer -----------------------------------------------------------

    def try_started(self, attempt: Attempt) -> None:
        previous = self.latest.get(id(attempt))
        retry_of = previous.error_type if previous is not None else None
        self.latest[id(attempt)] = self._begin(attempt, retry_of, number=attempt.number)

    async def try_failed(self, attempt: Attempt, error: ProviderError) -> None:
        self._end(attempt)

    async def ended(self, attempt: Attempt, ending: Ending) -> None:
        tried = self.latest.pop(id(attempt), None)
        if tried is not None and not tried.ended:
            self._finish(tried, attempt, completed=ending == "ok")
            return
        records = attempt.records
        refused = records[-1] if records and ending == "not_opened" else None
        if refused is not None and (tried is None or refused is not tried.record):
            # Refused before a request went out, on its first try or a retry (its circuit,
            # a limit, a budget): a try numbered 0, with the refusal the attempt recorded.
            self._finish(self._begin(attempt, None, number=0), attempt, record=refused)

    def _begin(self, attempt: Attempt, retry_of: str | None, *, number: int) -> TryFacts:
        target = attempt.target
        tried = TryFacts(
            provider=target.provider,
            system=provider_system(target.kind, target.provider),
            model=target.model,
            number=number,
            retry_of=retry_of,
            cached=self.ctx.cached,
        )
        self.facts.tries.append(tried)
        self.stage.tell("try_started", self.facts, tried)
        return tried

    def _end(self, attempt: Attempt) -> None:
        tried = self.latest.get(id(attempt))
        if tried is not None and not tried.ended:
            self._finish(tried, attempt)

    def _finish(
        self,
        tried: TryFacts,
        attempt: Attempt,
        *,
        completed: bool = False,
        record: AttemptRecord | None = None,
    ) -> None:
        tried.ended = True
        tried.record = record or _record_of(self.ctx.ledger.entries, tried)
        tried.free = attempt.free
        if completed:
            tried.finish_reason = self.ctx.finish_reason
        self.stage.tell("try_ended", self.facts, tried)

    # -- the stream's events and end ------------------------------------------------------

    def event(self, event: Any) -> None:
        """Note ``event`` if it is one the facts keep (one lookup for any other, such as a
        reasoning or tool-call delta)."""
        note = _NOTES.get(type(event))
        if note is not None:
            note(self, event)

    def first_token(self, event: FirstTokenEvent) -> None:
        for tried in self.latest.values():
            if (tried.provider, tried.model, tried.number) == (
                event.provider,
                event.model,
                event.attempt,
            ):
                tried.ttft = event.ttft
        if self.facts.ttft is None:
            self.facts.ttft = time.perf_counter() - self.ctx.started_at

    def continued(self, event: ContinuationEvent) -> None:
        self.facts.continuations += 1

    def finish(self, exc: BaseException | None) -> None:
        """The stream completed (``exc`` None) or failed: settle the facts, tell the sinks."""
        if self.done:
            return
        self.done = True
        ctx, facts = self.ctx, self.facts
        self.latest.clear()
        facts.duration = time.perf_counter() - ctx.started_at
        facts.outcome = outcome_of(exc)
        facts.error_type = error_type(exc)
        # The usage stage, which runs first, has settled these to the ledger's sums.
        facts.usage, facts.cost_usd = ctx.usage, ctx.cost_usd
        facts.finish_reason = ctx.finish_reason if exc is None else None
        self.stage.tell("stream_ended", facts)


# What the watch notes of each event it keeps.
_NOTES: dict[type, Callable[[StreamWatch, Any], None]] = {
    FirstTokenEvent: StreamWatch.first_token,
    FallbackEvent: lambda watch, event: watch.facts.fallbacks.append(event),
    InterruptionEvent: lambda watch, event: watch.facts.interruptions.append(event),
    ContinuationEvent: StreamWatch.continued,
    CacheHitEvent: lambda watch, event: setattr(watch.facts, "cache_hit", event),
    PlanEvent: lambda watch, event: setattr(watch.facts, "route", event.route),
}


def _record_of(entries: list[AttemptRecord], tried: TryFacts) -> AttemptRecord | None:
    """The ledger's entry for ``tried`` (its target and number): the attempt charges it
    just before it tells its observers, so it is found from the end."""
    for record in reversed(entries):
        if (record.provider, record.model, record.attempt) == (
            tried.provider,
            tried.model,
            tried.number,
        ):
            return record
    return None


class ObservabilityStage(Stage):
    """Keeps a :class:`StreamWatch` on every stream and hands its facts to ``sinks``."""

    name = "observability"

    def __init__(self, sinks: tuple[Sink, ...]) -> None:
        self.sinks = sinks
        self._throttle = Throttle()

    def observer_for(self, attempt: Attempt) -> StreamWatch | None:
        """The observer of ``attempt``: its stream's watch (an attempt observer factory)."""
        watch: StreamWatch | None = attempt.run.ctx.values.get(_KEY)
        return watch

    def tell(self, method: str, *args: Any) -> None:
        """Call ``method`` of every sink; one that raises is logged, not passed on."""
        for sink in self.sinks:
            try:
                getattr(sink, method)(*args)
            except Exception as exc:
                self._throttle(
                    log.warning,
                    f"{type(sink).__name__}.{method}",
                    "observability.sink_failed",
                    sink=type(sink).__name__,
                    call=method,
                    error=type(exc).__name__,
                )

    async def on_start(self, ctx: StreamContext) -> None:
        ctx.values[_KEY] = StreamWatch(self, ctx)

    async def on_event(self, ctx: StreamContext, event: Any) -> None:
        watch: StreamWatch | None = ctx.values.get(_KEY)
        if watch is not None:
            watch.event(event)

    async def on_end(self, ctx: StreamContext) -> str:
        watch: StreamWatch | None = ctx.values.get(_KEY)
        if watch is not None:
            watch.finish(None)
        return ""

    async def on_error(self, ctx: StreamContext, exc: BaseException) -> None:
        watch: StreamWatch | None = ctx.values.get(_KEY)
        if watch is not None:
            watch.finish(exc)
