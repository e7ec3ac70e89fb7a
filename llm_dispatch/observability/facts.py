"""What happened to one stream, as the observability sinks read it.

:class:`StreamFacts` and its :class:`TryFacts` are filled in by the stream's watch
(:mod:`.watch`) from the attempts' own reports, the stream's events and its ledger: nothing
here is inferred. A sink keeps its own handle for a stream or a try in ``handle``.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any, Literal

from ..errors import ProviderError, StreamInterrupted, StreamTimeout
from ..events import CacheHitEvent, FallbackEvent, InterruptionEvent, Usage
from ..records import AttemptRecord
from .names import provider_system

__all__ = ["HEDGED", "Outcome", "StreamFacts", "TryFacts", "error_type", "outcome_of"]

#: How a stream ended: completed, failed, or left by its consumer.
Outcome = Literal["ok", "error", "cancelled"]

# The kind the ledger records for an attempt left because the consumer stopped the stream.
_CANCELLED = "cancelled"
#: The kind the ledger records for a try a policy stopped on purpose: the loser of a hedge,
#: closed because another target answered first. It did not fail.
HEDGED = "hedged"


@dataclass(slots=True, eq=False)
class TryFacts:
    """One try of one target: a request sent (or, with ``number`` 0, refused by the
    target's circuit before any was)."""

    provider: str
    system: str
    model: str
    number: int
    #: The error kind of the try before this one on the same target, for a retry.
    retry_of: str | None = None
    #: Replayed from the cache.
    cached: bool = False
    #: Joined another call's identical stream: spent nothing itself.
    free: bool = False
    #: Seconds from the request sent to its first event; None when none came.
    ttft: float | None = None
    #: The ledger's record of the try, once it ended.
    record: AttemptRecord | None = None
    ended: bool = False
    finish_reason: str | None = None
    handle: Any = None

    @property
    def opened(self) -> bool:
        """Whether the try's stream delivered its first event."""
        return self.ttft is not None

    @property
    def error_type(self) -> str | None:
        """The ledger's kind for a try that did not succeed (None: it did)."""
        return self.record.kind if self.record is not None else None

    @property
    def failed(self) -> bool:
        """Whether the try failed: it did not succeed, and no policy stopped it on purpose
        (a hedge's loser did not fail: another target answered first)."""
        kind = self.error_type
        return kind is not None and kind != HEDGED

    @property
    def spent(self) -> Usage | None:
        """The tokens a provider spent on this try: its charged usage, None for a cache
        replay, a joined stream or a request never sent."""
        record = self.record
        if record is None or not record.charged or self.cached or self.free:
            return None
        return record.usage


@dataclass(slots=True, eq=False)
class StreamFacts:
    """One stream from its start to its end (see the module docstring)."""

    request_id: str
    task_type: str
    #: The first planned target: what the call asked for.
    provider: str
    model: str
    #: Wall-clock nanoseconds when the call started.
    started_ns: int
    route: str = ""
    tries: list[TryFacts] = field(default_factory=list)
    fallbacks: list[FallbackEvent] = field(default_factory=list)
    interruptions: list[InterruptionEvent] = field(default_factory=list)
    #: Answers continued on another target after an interruption.
    continuations: int = 0
    cache_hit: CacheHitEvent | None = None
    #: Seconds from the call's start to the first event of any try.
    ttft: float | None = None
    # Set when the stream ended.
    duration: float = 0.0
    outcome: Outcome = "ok"
    error_type: str | None = None
    usage: Usage | None = None
    cost_usd: float | None = None
    finish_reason: str | None = None
    handle: Any = None

    @property
    def retries(self) -> list[TryFacts]:
        """The tries that retried a target after its previous try failed."""
        return [t for t in self.tries if t.retry_of is not None]

    @property
    def answered_by(self) -> TryFacts | None:
        """The last try that delivered an event (the one that completed a stream that did)."""
        return next((t for t in reversed(self.tries) if t.opened), None)

    @property
    def served_by(self) -> tuple[str, str, str]:
        """(provider, model, ``gen_ai.provider.name``) the stream is counted against: the
        try that answered, else the last one tried, else the first planned target."""
        last = self.answered_by or (self.tries[-1] if self.tries else None)
        if last is None:
            return self.provider, self.model, provider_system(None, self.provider)
        return last.provider, last.model, last.system


def outcome_of(exc: BaseException | None) -> Outcome:
    """``ok`` without an exception; ``cancelled`` when the consumer left (the stream was
    closed or its task cancelled, no deadline fired); else ``error``."""
    if exc is None:
        return "ok"
    if isinstance(exc, GeneratorExit | asyncio.CancelledError):
        return "cancelled"
    return "error"


def error_type(exc: BaseException | None) -> str | None:
    """``error.type`` of a stream that ended with ``exc``: the library's error kind
    (``overloaded``, ``timeout`` ...; an interruption's is its cause's), ``cancelled`` when
    the consumer left, else the exception's class name."""
    if exc is None:
        return None
    if isinstance(exc, StreamInterrupted):
        return error_type(exc.cause)
    if isinstance(exc, ProviderError):
        return exc.kind.value
    if isinstance(exc, StreamTimeout):
        return "timeout"
    if outcome_of(exc) == "cancelled":
        return _CANCELLED
    return type(exc).__name__
