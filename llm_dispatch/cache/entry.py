"""What one cache entry holds, and what a lookup returns.

An entry is one complete, successful provider stream: the raw text chunks with their
boundaries (so a replay looks like the original stream to every stage), optionally their
timing, and who produced it. It is stored as JSON (``model_dump_json``), never pickled.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..events import ProviderEvent

__all__ = ["ENTRY_VERSION", "CacheHit", "CachedStream", "ReplayTiming"]

#: Bumped when the stored shape changes; entries of another version are ignored.
ENTRY_VERSION = 1

ReplayTiming = Literal["immediate", "recorded"]


class CachedStream(BaseModel):
    """One stored stream.

    The dispatcher fills the first block; :meth:`StreamingCache.store` fills the second
    (what the entry answers) from the request, so a caller cannot get it wrong.
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    chunks: tuple[str, ...]
    #: Milliseconds from the first chunk to each chunk (``offsets_ms[0] == 0``), or None.
    offsets_ms: tuple[float, ...] | None = None
    provider: str
    model: str
    #: ``prompt_tokens`` / ``completion_tokens`` / ``total_tokens`` / ``estimated``.
    usage: dict[str, int | bool] | None = None
    finish_reason: str | None = None
    created_at: float = Field(default_factory=time.time)

    # Filled by the cache at store time.
    version: int = ENTRY_VERSION
    prompt: str = ""
    normalized_prompt: str = ""
    partition: str = ""
    signature: str = ""
    route: str = ""
    scope: str | None = None

    @model_validator(mode="after")
    def _offsets_match_chunks(self) -> CachedStream:
        if self.offsets_ms is not None and len(self.offsets_ms) != len(self.chunks):
            raise ValueError(
                f"offsets_ms has {len(self.offsets_ms)} items for {len(self.chunks)} chunks"
            )
        return self

    @property
    def text(self) -> str:
        """The whole answer."""
        return "".join(self.chunks)


@dataclass(frozen=True, slots=True)
class CacheHit:
    """A lookup that found an answer.

    ``exact`` is true when the normalised prompt was identical, false for a similar hit;
    ``similarity`` is 1.0 for exact hits and the cosine score otherwise.
    """

    entry: CachedStream
    similarity: float
    exact: bool
    entry_id: str
    timing: ReplayTiming = "immediate"

    @property
    def kind(self) -> Literal["exact", "similar"]:
        return "exact" if self.exact else "similar"

    @property
    def age_seconds(self) -> float:
        """How long ago the answer was stored."""
        return max(0.0, time.time() - self.entry.created_at)

    def info(self) -> dict[str, Any]:
        """What an ``on_cache_hit`` event may tell about the hit.

        Deliberately without the stored prompt: in an unscoped cache it may be another
        user's wording.
        """
        return {
            "cache": self.kind,
            "similarity": round(self.similarity, 4),
            "entry_id": self.entry_id,
            "provider": self.entry.provider,
            "model": self.entry.model,
            "age_s": round(self.age_seconds, 3),
            "chunks": len(self.entry.chunks),
        }

    def events(self, timing: ReplayTiming | None = None) -> AsyncIterator[ProviderEvent]:
        """Replay the stored stream as provider events (see :func:`.replay.replay_events`)."""
        from .replay import replay_events

        return replay_events(self.entry, timing or self.timing)
