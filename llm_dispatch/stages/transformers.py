"""Changing or dropping chunks on their way to the consumer, as stages.

- :class:`EventTransformer`: override ``transform(event)``; it sees a
  :class:`StreamDeltaEvent` per chunk and returns it (``event.delta.value`` may be changed)
  or ``None`` to drop the chunk. Sync or async. It is a :class:`Stage`: pass it in
  ``stages=[...]``.
- :class:`~llm_dispatch.stages.processor.EventProcessor` (its own module): several
  transformers applied in order, as one stage.
- :class:`BannedWordsFilter`: masks words, also when a word is split across chunks (it holds
  back a trailing partial word until the next chunk, and flushes it at the end).

Transformers run before the callbacks, so callbacks see the transformed text.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Awaitable, Iterable
from typing import TYPE_CHECKING

from ..callbacks.events import StreamDeltaEvent, TextDelta
from .base import Stage

if TYPE_CHECKING:
    from ..context import StreamContext

__all__ = ["BannedWordsFilter", "EventTransformer"]

_TRAILING_WORD = re.compile(r"\w+\Z")


class EventTransformer(Stage):
    """Base class: override :meth:`transform` (``def`` or ``async def``)."""

    name = "transformer"

    def transform(
        self, event: StreamDeltaEvent
    ) -> StreamDeltaEvent | Awaitable[StreamDeltaEvent | None] | None:
        """Return ``event`` (possibly changed), or ``None`` to drop the chunk."""
        return event

    async def on_chunk(self, ctx: StreamContext, text: str) -> str:
        if not text:
            return text
        event = StreamDeltaEvent(
            request_id=ctx.request_id,
            provider=ctx.provider,
            model=ctx.model,
            task_type=ctx.task_type,
            chunk_index=ctx.chunk_index + 1,
            delta=TextDelta(text),
        )
        result = self.transform(event)
        if inspect.isawaitable(result):
            result = await result
        return "" if result is None else result.delta.value


class BannedWordsFilter(Stage):
    """Replaces whole words from ``words`` (case-insensitive) with ``mask``.

    A chunk boundary may cut a word in two ("bad" + "word"), so the filter holds back the
    trailing run of word characters of each chunk and sends it with the next one; what is
    still held at the end is flushed as the stream's end text. Whitespace and punctuation
    are kept exactly.
    """

    name = "banned_words"

    def __init__(self, words: Iterable[str], *, mask: str = "***") -> None:
        cleaned = sorted({w.strip().lower() for w in words if w.strip()}, key=len, reverse=True)
        if not cleaned:
            raise ValueError("BannedWordsFilter needs at least one word")
        if any(not re.fullmatch(r"\w+", w) for w in cleaned):
            # Only a trailing partial *word* is held back between chunks, so a phrase or a
            # word with punctuation could slip through a chunk boundary.
            raise ValueError("BannedWordsFilter takes single words (letters, digits, _)")
        alternatives = "|".join(re.escape(w) for w in cleaned)
        self._pattern = re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)
        self.mask = mask
        self._key = f"banned_words:{id(self):x}"

    def _mask(self, text: str) -> str:
        return self._pattern.sub(self.mask, text)

    async def on_chunk(self, ctx: StreamContext, text: str) -> str:
        held: str = ctx.values.get(self._key, "")
        text = held + text
        tail = _TRAILING_WORD.search(text)
        cut = tail.start() if tail is not None else len(text)
        ctx.values[self._key] = text[cut:]
        return self._mask(text[:cut])

    async def on_end(self, ctx: StreamContext) -> str:
        held: str = ctx.values.pop(self._key, "")
        return self._mask(held)
