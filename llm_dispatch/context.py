"""The per-request state every stage sees: :class:`StreamContext`."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .deltas import StreamExtras
from .events import Usage
from .ledger import Ledger
from .providers.base import ModelPrice
from .request import Request

__all__ = ["StreamContext"]


@dataclass(slots=True, eq=False)
class StreamContext:
    """Mutable state of one dispatched stream.

    The dispatcher keeps what describes the stream: the target streaming now, the attempt
    number, timing, the text received and delivered, usage and finish reason, the ledger.
    Three fields are where stages publish what others read (the final chunk dict, the
    result): ``cost_usd``, ``progress_of`` and ``trailer``. Anything else a stage keeps goes
    in ``values``, under a key of its own, so stages cooperate without the dispatcher knowing
    what any of them does.
    """

    request: Request
    request_id: str
    provider: str = ""
    model: str = ""
    attempt: int = 0
    started_at: float = field(default_factory=time.perf_counter)
    first_chunk_at: float | None = None
    # When the stream ended (completed, failed or abandoned); None while it runs.
    ended_at: float | None = None
    chunk_index: int = -1
    # Characters the provider(s) sent so far.
    chars: int = 0
    usage: Usage | None = None
    finish_reason: str | None = None
    cached: bool = False
    # Price of the current target, when the configuration knows it.
    price: ModelPrice | None = None
    # Set by the usage stage once the stream ended: the ledger's total cost.
    cost_usd: float | None = None
    # Targets the route left out for this request (not configured, disabled, cannot take
    # its media, circuit open), by target key, with the reason.
    skipped: dict[str, str] = field(default_factory=dict)
    # Every attempt with its tokens and cost; ``usage`` / ``cost_usd`` end as its sums.
    ledger: Ledger = field(default_factory=Ledger)
    # Set by the progress stage at the start: the progress (0-100) for a number of characters
    # received. ``progress`` calls it when read; nothing runs per chunk.
    progress_of: Callable[[int], float] | None = None
    # Providers that contributed text, in order (several after a mid-stream continuation).
    contributors: list[str] = field(default_factory=list)
    # What the provider(s) sent, chunk by chunk, before any stage touched it.
    raw: list[str] = field(default_factory=list)
    # What reached the consumer, chunk by chunk, after every stage.
    delivered: list[str] = field(default_factory=list)
    # Text the stages appended at the end (delivered with the final chunk).
    trailer: str = ""
    # The reasoning and tool calls the stream carried besides its text.
    extras: StreamExtras = field(default_factory=StreamExtras)
    values: dict[str, Any] = field(default_factory=dict)

    @property
    def tokens(self) -> int:
        """Completion tokens so far: the provider's count once reported, else an estimate."""
        if self.usage is not None:
            return self.usage.completion_tokens
        return (self.chars + 3) // 4

    @property
    def progress(self) -> float:
        """0-100: how far the answer is, by the progress stage's expected length (0 without
        one). Computed when read, from the characters received so far."""
        progress_of = self.progress_of
        return 0.0 if progress_of is None else progress_of(self.chars)

    @property
    def task_type(self) -> str:
        return self.request.task_type.value

    @property
    def elapsed_ms(self) -> float:
        """Milliseconds since the call started (until it ended, once it has)."""
        end = self.ended_at if self.ended_at is not None else time.perf_counter()
        return (end - self.started_at) * 1000.0

    @property
    def text(self) -> str:
        """Everything delivered to the consumer so far."""
        return "".join(self.delivered)

    @property
    def raw_text(self) -> str:
        """Everything the providers sent so far, before stages."""
        return "".join(self.raw)
