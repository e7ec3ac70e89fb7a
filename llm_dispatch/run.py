"""One stream's run: the state its attempts share, and the stage calls around them.

A :class:`Run` holds the stream's context, its stages (in the order of
:mod:`.stages.pipeline`, then those of the process hooks, :mod:`.stream_hooks`), the policy in
force and the stream's deadlines. It starts the stages, relays events to them, and ends
them exactly once: :meth:`Run.end` on success, :meth:`Run.fail` on any failure or when the
consumer leaves.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .context import StreamContext
from .errors import StreamTimeout
from .policies.timeouts import Watchdog
from .settings.models import PolicySettings
from .stages.base import Stage

__all__ = ["Run"]


@dataclass(slots=True, eq=False)
class Run:
    """What every attempt of one stream shares."""

    ctx: StreamContext
    stages: tuple[Stage, ...]
    policy: PolicySettings
    deadlines: Watchdog
    #: Told the time to first token of every attempt that opened (latency routing).
    observe_ttft: Callable[[str, float], None] = lambda key, seconds: None
    #: The stages that do something per chunk (the others are skipped on that path).
    chunk_stages: tuple[Stage, ...] = field(init=False)

    def __post_init__(self) -> None:
        self.chunk_stages = tuple(s for s in self.stages if s.handles_chunks())

    def left(self) -> float | None:
        """Seconds left before the ``total`` deadline (None without one)."""
        return self.deadlines.left()

    async def emit(self, event: Any) -> None:
        """Tell every stage about ``event`` (see :mod:`.events`)."""
        for stage in self.stages:
            await stage.on_event(self.ctx, event)

    async def begin(self, *events: Any) -> None:
        """Start every stage, then report ``events`` (the plan, a cache hit)."""
        try:
            for stage in self.stages:
                await stage.on_start(self.ctx)
            for event in events:
                if event is not None:
                    await self.emit(event)
        except BaseException as exc:
            # A stage's start failed or the consumer was cancelled meanwhile: the stages
            # that started still get their one on_error.
            await self.fail(exc)
            raise

    async def end(self) -> str:
        """End every stage; returns the text they add after the last chunk."""
        ctx = self.ctx
        for stage in self.stages:
            # Accumulated on the context so that later stages (callbacks) see the text
            # earlier ones add at the end.
            ctx.trailer += await stage.on_end(ctx)
        return ctx.trailer

    async def fail(self, exc: BaseException) -> None:
        """Tell every stage that the stream failed with ``exc``."""
        ctx = self.ctx
        if isinstance(exc, StreamTimeout):
            exc.partial_text = ctx.text
            exc.attempts = ctx.ledger.entries
        for stage in self.stages:
            await stage.on_error(ctx, exc)
