"""The events of a stream: what providers yield, and what the dispatcher reports.

- :class:`ProviderEvent` is what every provider stream yields, normalised across providers
  (reasoning deltas, text deltas, tool-call deltas (:class:`ToolCallDelta`), then one
  report of :class:`Usage` and the finish reason);
- the dispatcher reports everything else that happens to a stream to its stages
  (``Stage.on_event``): the plan, first tokens, retries, fallbacks, hedges, interruptions,
  continuations, circuit changes and cache hits (the log stage writes them to the log),
  and the reasoning and tool-call deltas that reached the consumer.

The events are slotted dataclasses, not pydantic models (a text event is built per chunk);
:class:`Usage`, which also appears in results and chunk dicts, is a pydantic model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:
    from .tool_call import ToolCall

__all__ = [
    "CacheHitEvent",
    "CircuitEvent",
    "ContinuationEvent",
    "DispatchEvent",
    "FallbackEvent",
    "FirstTokenEvent",
    "HedgeEvent",
    "InterruptionEvent",
    "PlanEvent",
    "ProviderEvent",
    "ReasoningEvent",
    "RetryEvent",
    "ToolCallDelta",
    "ToolCallEvent",
    "Usage",
]


class Usage(BaseModel):
    """Token counts of one completion. ``estimated`` is true when the provider sent none.

    ``prompt_tokens`` counts every input token, those read from or written to the
    provider's prompt cache included (``cached_input_tokens``, ``cache_write_tokens``);
    ``completion_tokens`` counts every output token, reasoning included
    (``reasoning_tokens``). Each provider's counts are brought to this form.
    """

    model_config = ConfigDict(frozen=True)

    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    estimated: bool = False
    reasoning_tokens: int = 0
    cached_input_tokens: int = 0
    cache_write_tokens: int = 0

    @classmethod
    def of(
        cls,
        prompt: int,
        completion: int,
        *,
        estimated: bool = False,
        reasoning: int = 0,
        cached_input: int = 0,
        cache_write: int = 0,
    ) -> Usage:
        return cls(
            prompt_tokens=prompt,
            completion_tokens=completion,
            total_tokens=prompt + completion,
            estimated=estimated,
            reasoning_tokens=reasoning,
            cached_input_tokens=cached_input,
            cache_write_tokens=cache_write,
        )


@dataclass(slots=True)
class ToolCallDelta:
    """A piece of a tool call: ``index`` is the call's place among the answer's calls (from
    0); the first delta of a call carries its ``id`` (None when the provider gives none) and
    ``name``; ``arguments`` is the next piece of its JSON arguments text."""

    index: int
    id: str | None = None
    name: str | None = None
    arguments: str = ""
    #: An opaque token the provider attached to the call (Gemini's thought signature).
    signature: str | None = None


@dataclass(slots=True)
class ProviderEvent:
    """One normalised event: a text delta, a reasoning delta, a tool-call delta, or a report
    of usage and/or finish reason.

    A text event carries only ``text``; every other event has no text (the dispatcher's
    per-chunk path reads nothing else from a text event). A provider stream ends normally
    only after it has seen the provider's closing event; a body that ends without one is an
    ``IncompleteStreamError``.
    """

    text: str = ""
    usage: Usage | None = None
    finish_reason: str | None = None
    reasoning: str = ""
    #: The token that vouches for the reasoning streamed so far (Anthropic's thinking
    #: signature), in an event of its own.
    reasoning_signature: str | None = None
    tool_call: ToolCallDelta | None = None


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
class HedgeEvent:
    """An attempt had no first event ``after`` seconds after its request was sent: the next
    target is sent the request too, and the two race for the first event."""

    provider: str
    model: str
    hedge_provider: str
    hedge_model: str
    after: float


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


@dataclass(frozen=True, slots=True)
class ReasoningEvent:
    """A piece of the model's reasoning reached the consumer (never part of the text)."""

    text: str


@dataclass(frozen=True, slots=True)
class ToolCallEvent:
    """A tool call moved on: ``started`` (its id and name are known), ``arguments`` (a piece
    of its JSON arguments text arrived) or ``done`` (the answer completed and the call's
    arguments are parsed and checked: ``call``)."""

    phase: Literal["started", "arguments", "done"]
    index: int
    id: str
    name: str
    arguments_delta: str = ""
    call: ToolCall | None = None


DispatchEvent = (
    PlanEvent
    | FirstTokenEvent
    | RetryEvent
    | FallbackEvent
    | HedgeEvent
    | InterruptionEvent
    | ContinuationEvent
    | CircuitEvent
    | CacheHitEvent
    | ReasoningEvent
    | ToolCallEvent
)
