"""The dict ``llm_stream_with_metadata`` yields for every chunk: one typed model, one place.

Building a pydantic model per chunk costs ~4 µs, a large share of this library's per-chunk
budget, so the dispatcher builds the plain dict directly with :func:`chunk_dict`;
:class:`ChunkMetadata` is its schema (``ChunkMetadata(**d).model_dump() == d`` holds for
every dict yielded, and the tests check it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from .events import ReasoningEvent, ToolCallEvent, Usage

if TYPE_CHECKING:
    from .context import StreamContext

__all__ = ["ChunkMetadata", "chunk_dict", "extra_dict"]


class ChunkMetadata(BaseModel):
    """One item of ``llm_stream_with_metadata``.

    Every chunk of text produces one dict with ``kind="text"`` and ``is_final=False``.
    Reasoning and tool calls have dicts of their own, whose ``chunk`` is ``""`` (so code that
    prints ``chunk`` prints the answer only): ``kind="reasoning"`` with the delta in
    ``reasoning``; ``kind="tool_call"`` with ``tool_call`` = ``{"phase": "started" |
    "arguments" | "done", "index", "id", "name", "arguments_delta", "arguments"}``
    (``arguments``: the parsed arguments, on ``done`` only); ``kind="partial"`` with the
    structured answer as far as it streamed in ``partial``. After the last of them one more
    dict with ``is_final=True`` closes the stream: its ``chunk`` is the text stages add at
    the end (e.g. the provenance trailer), often ``""``, and it carries ``usage``,
    ``cost_usd`` and ``finish_reason``.
    """

    model_config = ConfigDict(extra="forbid")

    chunk: str = Field(
        description="The text of this chunk, exactly as the consumer should print it."
    )
    chunk_index: int = Field(ge=0, description="0-based position of this dict in the stream.")
    provider: str = Field(description="Configured name of the provider that produced the chunk.")
    model: str
    task_type: str
    request_id: str
    elapsed_ms: float = Field(description="Milliseconds since the call started.")
    tokens: int = Field(description="Completion tokens so far (estimated until usage arrives).")
    progress: float = Field(ge=0, le=100, description="0-100; exactly 100 on the final dict.")
    attempt: int = Field(ge=1, description="1-based attempt number on this provider.")
    cached: bool = Field(description="True when the stream is replayed from the cache.")
    is_final: bool
    kind: Literal["text", "reasoning", "tool_call", "partial"] = "text"
    reasoning: str | None = None
    tool_call: dict[str, Any] | None = None
    partial: Any = None
    finish_reason: str | None = None
    usage: Usage | None = None
    cost_usd: float | None = None


def chunk_dict(ctx: StreamContext, text: str, index: int, *, final: bool) -> dict[str, Any]:
    """The dict for one chunk (see :class:`ChunkMetadata` for the keys)."""
    usage = ctx.usage
    return {
        "chunk": text,
        "chunk_index": index,
        "provider": ctx.provider,
        "model": ctx.model,
        "task_type": ctx.request.task_type.value,
        "request_id": ctx.request_id,
        "elapsed_ms": ctx.elapsed_ms,
        "tokens": ctx.tokens,
        "progress": 100.0 if final else ctx.progress,
        "attempt": ctx.attempt,
        "cached": ctx.cached,
        "is_final": final,
        "kind": "text",
        "reasoning": None,
        "tool_call": None,
        "partial": None,
        "finish_reason": ctx.finish_reason if final else None,
        "usage": usage.model_dump() if (final and usage is not None) else None,
        "cost_usd": ctx.cost_usd if final else None,
    }


def extra_dict(
    ctx: StreamContext, event: ReasoningEvent | ToolCallEvent, index: int
) -> dict[str, Any]:
    """The dict for a reasoning delta or a tool-call event (``chunk`` is ``""``)."""
    item = chunk_dict(ctx, "", index, final=False)
    if isinstance(event, ReasoningEvent):
        item["kind"], item["reasoning"] = "reasoning", event.text
    else:
        call = event.call
        item["kind"] = "tool_call"
        item["tool_call"] = {
            "phase": event.phase,
            "index": event.index,
            "id": event.id,
            "name": event.name,
            "arguments_delta": event.arguments_delta,
            "arguments": call.arguments if call is not None else None,
        }
    return item
