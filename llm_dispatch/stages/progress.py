"""The progress stage: gives each stream its :class:`StreamProgress` and learns lengths.

It has no ``on_chunk``: progress is computed from the context when read, so the stage costs
nothing per chunk and is attached to every decorated call (that is what makes the chunk
dicts' ``progress`` key move).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..progress.by_task import note_started
from ..progress.gauge import StreamProgress
from ..progress.lengths import CompletionLengths, default_lengths
from ..progress.tracker import ProgressTracker
from .base import Stage

if TYPE_CHECKING:
    from ..context import StreamContext

__all__ = ["ProgressStage"]


class ProgressStage(Stage):
    """Starts the stream's progress, reports it to ``tracker``, settles it at the end.

    One instance may serve many concurrent streams: the per-stream state is the stream's
    :class:`StreamProgress`, attached to its context. When a stream already has one (two
    progress stages on one call), this stage only points its tracker at it.
    """

    name = "progress"
    # Which progress stage created the stream's progress (only that one settles it).
    _owner_key = "progress_stage"

    def __init__(
        self, tracker: ProgressTracker | None = None, *, lengths: CompletionLengths | None = None
    ) -> None:
        self.tracker = tracker
        if tracker is not None:
            tracker.mark_attached()
        if lengths is None:
            lengths = tracker.lengths if tracker is not None else default_lengths()
        self.lengths = lengths

    async def on_start(self, ctx: StreamContext) -> None:
        gauge = StreamProgress.of(ctx)
        if gauge is None:
            gauge = StreamProgress.begin(ctx, self.lengths)
            gauge.attach()
            ctx.values[self._owner_key] = self
            note_started(gauge)
        if self.tracker is not None:
            self.tracker.follow(gauge)

    async def on_end(self, ctx: StreamContext) -> str:
        gauge = StreamProgress.of(ctx)
        if gauge is None or ctx.values.get(self._owner_key) is not self:
            return ""
        self._learn(ctx, gauge)
        gauge.finish(ok=True)
        return ""

    async def on_error(self, ctx: StreamContext, exc: BaseException) -> None:
        gauge = StreamProgress.of(ctx)
        if gauge is not None and ctx.values.get(self._owner_key) is self:
            gauge.finish(ok=False)

    def _learn(self, ctx: StreamContext, gauge: StreamProgress) -> None:
        # A truncated answer says more about max_tokens than about how long answers are.
        if ctx.finish_reason == "length" or not ctx.chars:
            return
        usage = ctx.usage
        exact = usage is not None and not usage.estimated
        tokens = usage.completion_tokens if usage is not None else gauge.tokens
        self.lengths.observe(
            gauge.route, ctx.task_type, tokens=tokens, chars=ctx.chars, exact=exact
        )

    def __repr__(self) -> str:
        return f"ProgressStage(tracker={self.tracker!r})"
