"""The stages a call adds to the dispatcher's own, and their order (one place for it).

After the dispatcher's built-in stages (usage first), a call runs:

1. ``checks`` — stages that can fail a completed stream (the client's JSON check), first so
   that every later stage, progress and callbacks included, sees that failure as an error;
2. the progress stage — always attached: it costs nothing per chunk and keeps the chunk
   dicts' ``progress`` moving (with the call's :class:`ProgressTracker` when given);
3. the user's stages and transformers, in the order given;
4. the embedding stage, when provenance is on — it signs the text as the user's stages
   left it;
5. the callback stage, last — callbacks see every chunk as the consumer gets it, and the
   final usage, cost and progress.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from ..progress.tracker import ProgressTracker
from .base import Stage
from .callbacks import CallbackStage
from .progress import ProgressStage

__all__ = ["CallStages"]

# Shared by every call without a tracker: per-stream state lives on the context.
_DEFAULT_PROGRESS = ProgressStage()


class CallStages:
    """The stages of a decorated function or client call, built once and reused per call."""

    def __init__(
        self,
        *,
        progress_tracker: ProgressTracker | None = None,
        callbacks: object | Iterable[object] | None = None,
        stages: Sequence[Stage] = (),
        checks: Sequence[Stage] = (),
    ) -> None:
        if progress_tracker is not None and not isinstance(progress_tracker, ProgressTracker):
            raise TypeError(
                f"progress_tracker must be a ProgressTracker, not {type(progress_tracker).__name__}"
            )
        self.progress = (
            ProgressStage(progress_tracker) if progress_tracker is not None else _DEFAULT_PROGRESS
        )
        if isinstance(callbacks, (list, tuple)) and not callbacks:
            callbacks = None
        self.callbacks = CallbackStage(callbacks) if callbacks is not None else None
        self.user = tuple(stages)
        self.checks = tuple(checks)
        for stage in (*self.user, *self.checks):
            if not isinstance(stage, Stage):
                raise TypeError(
                    f"stages: {type(stage).__name__!r} is not a Stage (subclass "
                    "llm_dispatch.Stage, or use an EventTransformer)"
                )

    def for_call(self, embedding: Stage | None = None) -> tuple[Stage, ...]:
        """The ordered stages for one call (``embedding``: the provenance stage, if on)."""
        ordered: list[Stage] = [*self.checks, self.progress, *self.user]
        if embedding is not None:
            ordered.append(embedding)
        if self.callbacks is not None:
            ordered.append(self.callbacks)
        return tuple(ordered)
