"""Progress, callbacks, typed events, transformers and the client's options, in one import.

    from llm_dispatch import llm_stream
    from llm_dispatch.streaming import ProgressTracker, StreamingCallbacks

    tracker = ProgressTracker()

    @llm_stream(progress_tracker=tracker,
                callbacks=StreamingCallbacks(on_stream_end=lambda m: print(m["total_tokens"])))
    async def write(prompt: str):
        yield "offline stand-in"

Nothing is defined here: each name is re-exported from its module in
:mod:`llm_dispatch.progress`, :mod:`llm_dispatch.callbacks`,
:mod:`llm_dispatch.stages.transformers`, :mod:`llm_dispatch.stages.processor` or
:mod:`llm_dispatch.client_options`. Everything
is attached through the stage protocol; nothing costs anything per chunk unless it listens
to chunks. ``ProgressBar`` (rich) is imported on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .callbacks.events import (
    StreamCompleteEvent,
    StreamDeltaEvent,
    StreamErrorEvent,
    StreamEvent,
    StreamReasoningEvent,
    StreamStartEvent,
    StreamSummary,
    StreamToolCallEvent,
    StreamUsageEvent,
    TextDelta,
)
from .callbacks.langchain import StreamHandler
from .callbacks.styles import EventCallbacks, StreamingCallbacks
from .client_options import JSON_MODE_OPTIONS, StreamingOptions
from .progress.gauge import DEFAULT_EXPECTED_TOKENS, ProgressSnapshot, ProgressStatus
from .progress.lengths import CompletionLengths, default_lengths
from .progress.tracker import ProgressTracker
from .stages.processor import EventProcessor, ProcessorMetrics, create_event_processor
from .stages.transformers import BannedWordsFilter, EventTransformer

if TYPE_CHECKING:
    from .progress.bar import ProgressBar

__all__ = [
    "DEFAULT_EXPECTED_TOKENS",
    "JSON_MODE_OPTIONS",
    "BannedWordsFilter",
    "CompletionLengths",
    "EventCallbacks",
    "EventProcessor",
    "EventTransformer",
    "ProcessorMetrics",
    "ProgressBar",
    "ProgressSnapshot",
    "ProgressStatus",
    "ProgressTracker",
    "StreamCompleteEvent",
    "StreamDeltaEvent",
    "StreamErrorEvent",
    "StreamEvent",
    "StreamHandler",
    "StreamReasoningEvent",
    "StreamStartEvent",
    "StreamSummary",
    "StreamToolCallEvent",
    "StreamUsageEvent",
    "StreamingCallbacks",
    "StreamingOptions",
    "TextDelta",
    "create_event_processor",
    "default_lengths",
]


def __getattr__(name: str) -> Any:
    # rich is only needed by the progress bar: import it when the bar is asked for.
    if name == "ProgressBar":
        from .progress.bar import ProgressBar

        return ProgressBar
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
