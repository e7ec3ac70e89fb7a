"""Typed stream events for event-style callbacks (``on_start`` / ``on_delta`` /
``on_reasoning`` / ``on_tool_call`` / ``on_usage`` / ``on_complete`` / ``on_error``) and
event transformers, plus the summary of a finished stream.

The events are slotted dataclasses, not pydantic models: a :class:`StreamDeltaEvent` is built
for every chunk when someone listens, and validation would cost a share of the per-chunk
budget for nothing (the dispatcher builds them from values it already trusts).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from ..events import Usage
from ..tool_call import ToolCall

if TYPE_CHECKING:
    from ..context import StreamContext

__all__ = [
    "StreamCompleteEvent",
    "StreamDeltaEvent",
    "StreamErrorEvent",
    "StreamEvent",
    "StreamReasoningEvent",
    "StreamStartEvent",
    "StreamSummary",
    "StreamToolCallEvent",
    "StreamUsageEvent",
    "TextDelta",
    "error_type_of",
    "summarize",
]


class StreamSummary(BaseModel):
    """What a finished (or failed) stream produced: text, usage, cost, timing."""

    model_config = ConfigDict(frozen=True)

    request_id: str
    provider: str
    model: str
    task_type: str
    text: str = Field(description="Everything delivered to the consumer, trailer included.")
    finish_reason: str | None = None
    usage: Usage | None = None
    cost_usd: float | None = None
    duration_ms: float
    time_to_first_token_ms: float | None = None
    chunks: int = Field(description="Text chunks delivered (the trailer not counted).")
    attempts: int = Field(description="Attempts in the ledger (retries, fallbacks ...).")
    contributors: list[str] = Field(default_factory=list)
    cached: bool = False
    reasoning: str = Field(default="", description="The model's reasoning, apart from text.")
    tool_calls: list[ToolCall] = Field(default_factory=list)


def summarize(ctx: StreamContext) -> StreamSummary:
    """The summary of ``ctx``'s stream as it stands now."""
    # Until the dispatcher marks the stream done, the end text of the stages is not yet
    # part of ``ctx.text``.
    text = ctx.text if ctx.values.get("done") else ctx.text + ctx.trailer
    ttft = (
        (ctx.first_chunk_at - ctx.started_at) * 1000.0 if ctx.first_chunk_at is not None else None
    )
    return StreamSummary(
        request_id=ctx.request_id,
        provider=ctx.provider,
        model=ctx.model,
        task_type=ctx.task_type,
        text=text,
        finish_reason=ctx.finish_reason,
        usage=ctx.usage,
        cost_usd=ctx.cost_usd,
        duration_ms=ctx.elapsed_ms,
        time_to_first_token_ms=ttft,
        chunks=ctx.chunk_index + 1,
        attempts=len(ctx.ledger.entries),
        contributors=list(ctx.contributors),
        cached=ctx.cached,
        reasoning=ctx.extras.reasoning,
        tool_calls=list(ctx.extras.tool_calls),
    )


def error_type_of(exc: BaseException) -> str:
    """The name callbacks see for an error: its class name (``RateLimitError``,
    ``StreamInterrupted``, ``CancelledError`` / ``GeneratorExit`` when the consumer left)."""
    return type(exc).__name__


@dataclass(slots=True)
class TextDelta:
    """The text of one chunk. Transformers may replace ``value``."""

    value: str

    def get_text(self) -> str:
        return self.value


@dataclass(slots=True, kw_only=True)
class StreamEvent:
    """Fields every event carries."""

    type: ClassVar[str] = "event"
    request_id: str
    provider: str
    model: str
    task_type: str
    #: Set by an :class:`~llm_dispatch.stages.transformers.EventProcessor` made with
    #: ``add_correlation`` / ``add_timestamp``: the id tying the events of one stream
    #: together (its ``request_id``), and when the event was processed (``time.time()``).
    correlation_id: str | None = None
    timestamp: float | None = None


@dataclass(slots=True, kw_only=True)
class StreamStartEvent(StreamEvent):
    """The stream starts; ``provider`` / ``model`` are the first planned target."""

    type: ClassVar[str] = "start"
    prompt: str


@dataclass(slots=True, kw_only=True)
class StreamDeltaEvent(StreamEvent):
    """One chunk of text, as the consumer receives it (``chunk_index`` matches the chunk
    dicts of ``llm_stream_with_metadata``)."""

    type: ClassVar[str] = "delta"
    chunk_index: int
    delta: TextDelta


@dataclass(slots=True, kw_only=True)
class StreamReasoningEvent(StreamEvent):
    """A piece of the model's reasoning (never part of the text)."""

    type: ClassVar[str] = "reasoning"
    text: str


@dataclass(slots=True, kw_only=True)
class StreamToolCallEvent(StreamEvent):
    """A tool call moved on: ``started`` (``id`` and ``name`` known), ``arguments`` (a piece
    of its JSON arguments, ``arguments_delta``) or ``done`` (``call``: parsed and checked)."""

    type: ClassVar[str] = "tool_call"
    phase: str
    index: int
    id: str
    name: str
    arguments_delta: str = ""
    call: ToolCall | None = None


@dataclass(slots=True, kw_only=True)
class StreamUsageEvent(StreamEvent):
    """The stream's final usage: the sum over every attempt (see the ledger)."""

    type: ClassVar[str] = "usage"
    usage: Usage
    cost_usd: float | None = None


@dataclass(slots=True, kw_only=True)
class StreamCompleteEvent(StreamEvent):
    """The stream completed. ``metadata`` holds ``duration_ms``, ``usage``, ``cost_usd``,
    ``finish_reason``, ``chunks`` ... (``result.model_dump()``)."""

    type: ClassVar[str] = "complete"
    result: StreamSummary
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True, kw_only=True)
class StreamErrorEvent(StreamEvent):
    """The stream failed, or the consumer left (``cancelled``). ``error_type`` is the
    exception's class name; ``metadata`` has the partial text, usage so far and timing."""

    type: ClassVar[str] = "error"
    error: BaseException
    error_type: str
    cancelled: bool = False
    metadata: dict[str, Any] = field(default_factory=dict)
