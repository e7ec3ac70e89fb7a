"""Events the dispatcher reports to stages besides text: the plan, first tokens, retries,
fallbacks, interruptions, continuations, circuit changes and cache hits. Stages receive
them in ``on_event``; the log stage turns them into log records."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "CacheHitEvent",
    "CircuitEvent",
    "ContinuationEvent",
    "DispatchEvent",
    "FallbackEvent",
    "FirstTokenEvent",
    "InterruptionEvent",
    "PlanEvent",
    "RetryEvent",
]


@dataclass(frozen=True, slots=True)
class PlanEvent:
    """The stream starts: the targets it will try, in order, and those left out (why)."""

    route: str
    targets: tuple[str, ...]
    skipped: dict[str, str]


@dataclass(frozen=True, slots=True)
class FirstTokenEvent:
    """An attempt's first event arrived, ``ttft`` seconds after its request was sent."""

    provider: str
    model: str
    attempt: int
    ttft: float


@dataclass(frozen=True, slots=True)
class RetryEvent:
    """The same target is tried again after ``wait`` seconds."""

    provider: str
    model: str
    attempt: int
    kind: str
    status_code: int | None
    wait: float
    message: str


@dataclass(frozen=True, slots=True)
class FallbackEvent:
    """The dispatcher gave up on one target and moves to the next."""

    from_provider: str
    from_model: str
    to_provider: str
    to_model: str
    reason: str
    #: The error kind that ended the previous target ("" when it was skipped).
    kind: str = ""


@dataclass(frozen=True, slots=True)
class InterruptionEvent:
    """A stream failed after text reached the consumer."""

    provider: str
    model: str
    chars_delivered: int
    kind: str
    message: str


@dataclass(frozen=True, slots=True)
class ContinuationEvent:
    """A new target continues an interrupted answer (``mid_stream: continue``).

    ``repeated_chars`` is how much of the continuation's opening was dropped because it
    repeated the end of the delivered text.
    """

    provider: str
    model: str
    prefix_chars: int
    repeated_chars: int = 0


@dataclass(frozen=True, slots=True)
class CircuitEvent:
    """A target's circuit changed state."""

    target: str
    old: str
    new: str
    reason: str


@dataclass(frozen=True, slots=True)
class CacheHitEvent:
    """The answer is replayed from the cache."""

    similarity: float
    exact: bool
    provider: str
    model: str


DispatchEvent = (
    PlanEvent
    | FirstTokenEvent
    | RetryEvent
    | FallbackEvent
    | InterruptionEvent
    | ContinuationEvent
    | CircuitEvent
    | CacheHitEvent
)
