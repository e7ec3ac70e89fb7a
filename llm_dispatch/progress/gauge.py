"""The progress of one stream: expected length, progress 0-100, rate, time to first token, ETA.

Nothing here runs per chunk. The progress stage creates one :class:`StreamProgress` per
stream when it starts and attaches it to the stream's context; every figure is computed
when read, from the characters the dispatcher counts anyway. So progress costs nothing on
the per-chunk path, and a :class:`ProgressTracker` (or the ``progress`` key of a chunk
dict) is always current.

Expected length, in order:

1. the request's ``max_tokens``;
2. a running estimate of past completions on the same route (task type and first planned
   provider/model), then on the same task type (:class:`CompletionLengths`) — it improves
   as the application runs;
3. a per-task-type default (:data:`DEFAULT_EXPECTED_TOKENS`).

Progress is a function of the characters received that only grows: linear up to 95 % at
the expected length, then closing in on (never reaching) 100 when the answer runs longer.
It is exactly 100 once the stream completed, whether the estimate was too low or too high.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from enum import StrEnum
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..task_types import TaskType
from ..tokens import CHARS_PER_TOKEN

if TYPE_CHECKING:
    from ..context import StreamContext
    from .lengths import CompletionLengths

__all__ = [
    "DEFAULT_EXPECTED_TOKENS",
    "ExpectedSource",
    "ProgressSnapshot",
    "ProgressStatus",
    "StreamProgress",
    "route_key",
]

#: Completion length (tokens) assumed for a task type before anything was learned.
DEFAULT_EXPECTED_TOKENS: Mapping[str, int] = {
    TaskType.TEXT_GENERATION: 500,
    TaskType.CODE_GENERATION: 600,
    TaskType.TRANSLATION: 300,
    TaskType.SUMMARIZATION: 250,
    TaskType.QUESTION_ANSWERING: 250,
    TaskType.CLASSIFICATION: 20,
    TaskType.SENTIMENT_ANALYSIS: 20,
    TaskType.VISION_ANALYSIS: 300,
    TaskType.AUDIO_TRANSCRIPTION: 500,
    TaskType.STRUCTURED_OUTPUT: 200,
    TaskType.FUNCTION_CALLING: 100,
    TaskType.REASONING: 800,
    TaskType.MATH: 400,
}
_FALLBACK_TOKENS = 400

# Progress at the expected length; beyond it the curve closes in on _CEILING.
_AT_EXPECTED = 95.0
_CEILING = 99.9

ExpectedSource = Literal["max_tokens", "learned", "default"]


class ProgressStatus(StrEnum):
    """Where a stream is: nothing yet, the model reasoning (reasoning arrives, no text yet),
    text arriving, completed, or failed / cancelled."""

    WAITING = "waiting"
    REASONING = "reasoning"
    STREAMING = "streaming"
    DONE = "done"
    FAILED = "failed"


class ProgressSnapshot(BaseModel):
    """Every progress figure of one stream at one moment."""

    model_config = ConfigDict(frozen=True)

    request_id: str | None = None
    provider: str = ""
    model: str = ""
    status: ProgressStatus = ProgressStatus.WAITING
    progress: float = Field(default=0.0, ge=0, le=100, description="0-100; 100 once done.")
    tokens: int = Field(default=0, description="Completion tokens so far (estimated until usage).")
    expected_tokens: int = 0
    expected_source: ExpectedSource = "default"
    chunk_count: int = Field(default=0, description="Text chunks delivered so far.")
    reasoning_tokens: int = Field(
        default=0,
        description=(
            "Reasoning tokens so far (estimated until usage). While streaming, tokens counts "
            "the text only; the provider's completion count, once in, includes these."
        ),
    )
    tool_calls: int = Field(default=0, description="Tool calls the answer started so far.")
    tokens_per_second: float | None = Field(default=None, description="Since the first chunk.")
    time_to_first_token_ms: float | None = None
    eta_seconds: float | None = Field(
        default=None, description="None while unknown (no text yet, or past the estimate)."
    )
    elapsed_ms: float = 0.0


# Where a stream's StreamProgress is kept in ``ctx.values``.
_CONTEXT_KEY = "progress"


def route_key(ctx: StreamContext) -> str:
    """The route a stream's length is learned under: task type and first planned target."""
    return f"{ctx.task_type}:{ctx.provider}/{ctx.model}"


class StreamProgress:
    """The progress of one stream, read from its context when asked.

    ``percent`` is what the chunk dicts' ``progress`` key and :meth:`ProgressTracker.
    get_progress` return; it is called once per chunk dict, so it is kept to a few
    arithmetic operations.
    """

    __slots__ = (
        "_ctx",
        "_ended_at",
        "_expected_chars",
        "_scale",
        "chars_per_token",
        "expected_source",
        "expected_tokens",
        "route",
        "status",
    )

    def __init__(
        self,
        ctx: StreamContext,
        *,
        expected_tokens: int,
        expected_source: ExpectedSource,
        chars_per_token: float = CHARS_PER_TOKEN,
        route: str = "",
    ) -> None:
        self._ctx = ctx
        self.expected_tokens = max(1, expected_tokens)
        self.expected_source: ExpectedSource = expected_source
        self.chars_per_token = chars_per_token
        self._expected_chars = self.expected_tokens * chars_per_token
        self._scale = 1.0 / self._expected_chars
        self.route = route
        # Only the terminal states are stored; waiting / streaming are read from the context.
        self.status: ProgressStatus | None = None
        self._ended_at: float | None = None

    @classmethod
    def begin(cls, ctx: StreamContext, lengths: CompletionLengths) -> StreamProgress:
        """The progress of ``ctx``'s stream, with its expected length decided now."""
        route = route_key(ctx)
        task = ctx.task_type
        source: ExpectedSource
        max_tokens = ctx.request.max_tokens
        if max_tokens is not None:
            expected, source = max_tokens, "max_tokens"
        else:
            learned = lengths.expected_tokens(route, task)
            if learned is not None:
                expected, source = learned, "learned"
            else:
                expected = DEFAULT_EXPECTED_TOKENS.get(task, _FALLBACK_TOKENS)
                source = "default"
        ratio = lengths.chars_per_token(route, task) or CHARS_PER_TOKEN
        return cls(
            ctx,
            expected_tokens=expected,
            expected_source=source,
            chars_per_token=ratio,
            route=route,
        )

    # -- on the context -----------------------------------------------------------------------

    def attach(self) -> None:
        """Make this the progress of its stream: ``ctx.progress`` and :meth:`of` read it."""
        ctx = self._ctx
        ctx.values[_CONTEXT_KEY] = self
        ctx.progress_of = self.percent

    @staticmethod
    def of(ctx: StreamContext) -> StreamProgress | None:
        """The progress attached to ``ctx``'s stream, or None before the progress stage ran."""
        progress: StreamProgress | None = ctx.values.get(_CONTEXT_KEY)
        return progress

    # -- per chunk ----------------------------------------------------------------------------

    def percent(self, chars: int) -> float:
        """Progress for ``chars`` characters received: grows with them, < 100 until done."""
        if self.status is ProgressStatus.DONE:
            return 100.0
        x = chars * self._scale
        if x <= 1.0:
            return _AT_EXPECTED * x
        return _CEILING - (_CEILING - _AT_EXPECTED) / x

    # -- end ----------------------------------------------------------------------------------

    def finish(self, *, ok: bool) -> bool:
        """Mark the stream done or failed; False if it had already ended."""
        if self.status is not None:
            return False
        self.status = ProgressStatus.DONE if ok else ProgressStatus.FAILED
        self._ended_at = time.perf_counter()
        return True

    # -- figures ------------------------------------------------------------------------------

    @property
    def current_status(self) -> ProgressStatus:
        if self.status is not None:
            return self.status
        if self._ctx.first_chunk_at is None:
            extras = self._ctx.extras
            if extras.reasoning_pieces and not extras.pending:
                return ProgressStatus.REASONING
            return ProgressStatus.STREAMING if extras.pending else ProgressStatus.WAITING
        return ProgressStatus.STREAMING

    @property
    def progress(self) -> float:
        return self.percent(self._ctx.chars)

    @property
    def tokens(self) -> int:
        """The provider's completion count once the stream ended with one, else an estimate."""
        ctx = self._ctx
        if self.status is not None and ctx.usage is not None:
            return ctx.usage.completion_tokens
        return int(-(-ctx.chars // self.chars_per_token))

    @property
    def chunk_count(self) -> int:
        """Text chunks delivered, whether the consumer gets them as ``str`` or as dicts
        (reasoning, tool-call and partial dicts are not text chunks; nor is the trailer)."""
        ctx = self._ctx
        delivered = len(ctx.delivered)
        return delivered - 1 if ctx.trailer and ctx.values.get("done") else delivered

    @property
    def reasoning_tokens(self) -> int:
        """The provider's reasoning count once the stream ended with one, else an estimate."""
        ctx = self._ctx
        if self.status is not None and ctx.usage is not None and ctx.usage.reasoning_tokens:
            return ctx.usage.reasoning_tokens
        chars = sum(len(piece) for piece in ctx.extras.reasoning_pieces)
        return int(-(-chars // self.chars_per_token))

    @property
    def time_to_first_token_ms(self) -> float | None:
        ctx = self._ctx
        if ctx.first_chunk_at is None:
            return None
        return (ctx.first_chunk_at - ctx.started_at) * 1000.0

    def _streaming_seconds(self) -> float | None:
        first = self._ctx.first_chunk_at
        if first is None:
            return None
        end = self._ended_at if self._ended_at is not None else time.perf_counter()
        seconds = end - first
        return seconds if seconds > 0 else None

    @property
    def tokens_per_second(self) -> float | None:
        seconds = self._streaming_seconds()
        return None if seconds is None else self.tokens / seconds

    @property
    def eta_seconds(self) -> float | None:
        if self.status is ProgressStatus.DONE:
            return 0.0
        if self.status is not None:
            return None
        seconds = self._streaming_seconds()
        chars = self._ctx.chars
        remaining = self._expected_chars - chars
        if seconds is None or chars == 0 or remaining <= 0:
            return None
        return remaining / (chars / seconds)

    def snapshot(self) -> ProgressSnapshot:
        ctx = self._ctx
        return ProgressSnapshot(
            request_id=ctx.request_id,
            provider=ctx.provider,
            model=ctx.model,
            status=self.current_status,
            progress=self.progress,
            tokens=self.tokens,
            expected_tokens=self.expected_tokens,
            expected_source=self.expected_source,
            chunk_count=self.chunk_count,
            reasoning_tokens=self.reasoning_tokens,
            tool_calls=len(ctx.extras.pending),
            tokens_per_second=self.tokens_per_second,
            time_to_first_token_ms=self.time_to_first_token_ms,
            eta_seconds=self.eta_seconds,
            elapsed_ms=(
                (self._ended_at - ctx.started_at) * 1000.0
                if self._ended_at is not None
                else ctx.elapsed_ms
            ),
        )
