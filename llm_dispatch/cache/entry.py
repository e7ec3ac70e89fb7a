"""What one cache entry holds, what a lookup returns, and how an entry replays.

An entry is one complete, successful provider stream: the raw text chunks with their
boundaries (so a replay looks like the original stream to every stage), optionally their
timing, and who produced it. It is stored as JSON (``model_dump_json``), never pickled.

A stream's reasoning and tool-call deltas are stored too (:class:`StoredExtra`), each with
its place among the text chunks. A hit is replayed as if the cache were a provider
(:func:`replay_events`): text events with the original chunk boundaries and the other
deltas in their places, then one closing event with usage and finish reason.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..events import ProviderEvent, ToolCallDelta, Usage

__all__ = [
    "ENTRY_VERSION",
    "CacheHit",
    "CachedStream",
    "ReplayTiming",
    "StoredExtra",
    "replay_events",
]

#: Bumped when the stored shape changes; entries of another version are ignored.
ENTRY_VERSION = 1

ReplayTiming = Literal["immediate", "recorded"]


class StoredExtra(BaseModel):
    """A reasoning or tool-call delta of a stored stream, sent after ``at`` text chunks."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    at: int = Field(ge=0)
    kind: Literal["reasoning", "reasoning_signature", "tool_call"]
    text: str = ""
    index: int = 0
    id: str | None = None
    name: str | None = None
    signature: str | None = None

    @classmethod
    def of(cls, event: ProviderEvent, at: int) -> StoredExtra | None:
        """The stored form of ``event``'s delta (None for a text or closing event)."""
        if event.reasoning:
            return cls(at=at, kind="reasoning", text=event.reasoning)
        if event.reasoning_signature is not None:
            return cls(at=at, kind="reasoning_signature", signature=event.reasoning_signature)
        call = event.tool_call
        if call is None:
            return None
        return cls(at=at, kind="tool_call", text=call.arguments, index=call.index, id=call.id,
                   name=call.name, signature=call.signature)  # fmt: skip

    def event(self) -> ProviderEvent:
        """The delta as the provider sent it."""
        if self.kind == "reasoning":
            return ProviderEvent(reasoning=self.text)
        if self.kind == "reasoning_signature":
            return ProviderEvent(reasoning_signature=self.signature)
        return ProviderEvent(tool_call=ToolCallDelta(self.index, self.id, self.name, self.text,
                                                     self.signature))  # fmt: skip


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
    #: The reasoning and tool-call deltas, in order.
    extras: tuple[StoredExtra, ...] = ()
    #: ``prompt_tokens`` / ``completion_tokens`` / ``total_tokens`` / ``estimated`` ...
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

    @property
    def has_answer(self) -> bool:
        """Whether the stream answered: some text, or a tool call."""
        return bool(self.chunks) or any(e.kind == "tool_call" for e in self.extras)


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
        """Replay the stored stream as provider events (see :func:`replay_events`)."""
        return replay_events(self.entry, timing or self.timing)


# An immediate replay of a long stream hands the event loop back this often, so that one
# large hit cannot starve every other stream in the process.
_YIELD_EVERY = 64


async def replay_events(
    entry: CachedStream, timing: ReplayTiming = "immediate"
) -> AsyncGenerator[ProviderEvent, None]:
    """Yield the entry's chunks as text events, then a closing usage/finish event.

    ``timing="recorded"`` spaces the chunks as they were recorded (relative to the first
    chunk, so the original time-to-first-token is not replayed); an entry without timing is
    replayed immediately.
    """
    chunks = entry.chunks
    offsets = entry.offsets_ms if timing == "recorded" else None
    if offsets is None and not entry.extras:
        # The usual replay, and the one whose cost is per chunk: blocks of _YIELD_EVERY
        # chunks with the event loop handed back between blocks, so that each chunk costs
        # only its event and its yield (no counter, no modulo, no extras check).
        for start in range(0, len(chunks), _YIELD_EVERY):
            if start:
                await asyncio.sleep(0)
            for chunk in chunks[start : start + _YIELD_EVERY]:
                yield ProviderEvent(chunk)
    else:
        extras = list(entry.extras)
        begun = time.perf_counter()
        for i, chunk in enumerate(chunks):
            while extras and extras[0].at <= i:
                yield extras.pop(0).event()
            if offsets is not None:
                delay = offsets[i] / 1000.0 - (time.perf_counter() - begun)
                if delay > 0:
                    await asyncio.sleep(delay)
            elif i and i % _YIELD_EVERY == 0:
                await asyncio.sleep(0)
            yield ProviderEvent(text=chunk)
        for extra in extras:
            yield extra.event()
    usage = Usage.model_validate(entry.usage) if entry.usage is not None else None
    yield ProviderEvent(usage=usage, finish_reason=entry.finish_reason or "stop")
