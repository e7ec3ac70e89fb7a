"""The stage protocol: what the dispatcher calls around a stream.

A stage is an object with five hooks. The dispatcher calls them in list order (see
:mod:`.pipeline`) and knows nothing about what any stage does; each stage can be read,
tested and reordered alone.

- ``on_start(ctx)`` once, after the plan was made and before any attempt;
- ``on_chunk(ctx, text) -> text`` for every text chunk; return the text to pass on (it may be
  changed, or ``""`` to drop it);
- ``on_event(ctx, event)`` for everything else the dispatcher reports: the plan, first
  tokens, retries, fallbacks, interruptions, continuations, circuit changes, cache hits
  (:mod:`llm_dispatch.events`);
- ``on_end(ctx) -> text`` once, when the stream completed; the returned text is delivered
  after the last chunk (e.g. a signature trailer);
- ``on_error(ctx, exc)`` once, when the stream failed or the consumer went away
  (``asyncio.CancelledError`` / ``GeneratorExit`` are passed as they are).

Exactly one of ``on_end`` / ``on_error`` is called per stream.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..context import StreamContext

__all__ = ["Stage"]


class Stage:
    """Base class with no-op hooks; override what you need."""

    #: A stage whose ``on_chunk`` is not overridden is skipped on the per-chunk path.
    name: str = "stage"

    async def on_start(self, ctx: StreamContext) -> None:
        return None

    async def on_chunk(self, ctx: StreamContext, text: str) -> str:
        return text

    async def on_end(self, ctx: StreamContext) -> str:
        return ""

    async def on_error(self, ctx: StreamContext, exc: BaseException) -> None:
        return None

    async def on_event(self, ctx: StreamContext, event: Any) -> None:
        return None

    def handles_chunks(self) -> bool:
        """Whether ``on_chunk`` does anything (lets the dispatcher skip no-op calls)."""
        return type(self).on_chunk is not Stage.on_chunk
