"""Continuing an interrupted answer without repeating any of it.

How the next target is asked to go on is each provider's business
(:mod:`llm_dispatch.providers.continuation`). Whatever the mechanism, models sometimes
restart their sentence, or the whole answer: :class:`RepeatGuard` drops the continuation's
opening characters where they repeat the end of the delivered text, and
:class:`GuardedContinuation` applies it to a provider's stream.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator

from ..errors import ProviderError
from ..events import ProviderEvent
from ..providers.base import Provider
from ..request import Request

__all__ = ["MIN_OVERLAP", "TAIL_WINDOW", "GuardedContinuation", "RepeatGuard"]

#: Longest repeated tail the guard looks for, besides a restart of the whole answer.
TAIL_WINDOW = 1024
#: Shortest repeat dropped: below this a match is as likely to be a real continuation.
MIN_OVERLAP = 3


def _starts_word(text: str, position: int) -> bool:
    """Whether a repeat may start at ``position``: a model restarts at a word or a symbol,
    not in the middle of a word."""
    if position == 0:
        return True
    before, at = text[position - 1], text[position]
    return not (before.isalnum() and at.isalnum())


class RepeatGuard:
    """Drops the opening of a continuation where it repeats the end of ``delivered``.

    The repeat dropped is the longest one found among: a suffix of the last
    :data:`TAIL_WINDOW` characters that starts at a word boundary and holds at least
    :data:`MIN_OVERLAP` characters, one of them not whitespace; the delivered text's
    trailing whitespace (so a continuation does not double a space or a newline); and the
    whole delivered text (a model that starts over). Text is held back only while the
    continuation still matches a candidate, so a continuation that repeats nothing passes
    at once; the work is linear in what is held back.
    """

    __slots__ = ("_buffer", "_candidates", "_delivered", "done", "dropped")

    def __init__(self, delivered: str) -> None:
        self._delivered = delivered
        n = len(delivered)
        lengths: set[int] = set()
        for k in range(MIN_OVERLAP, min(n, TAIL_WINDOW) + 1):
            start = n - k
            if _starts_word(delivered, start) and not delivered[start:].isspace():
                lengths.add(k)
        stripped = delivered.rstrip()
        if len(stripped) < n:
            lengths.add(n - len(stripped))
        if n:
            lengths.add(n)
        #: overlap length -> characters of the continuation matched so far
        self._candidates: dict[int, int] = dict.fromkeys(lengths, 0)
        self._buffer = ""
        #: True once the guard has decided; it then passes text through untouched.
        self.done = not self._candidates
        #: Characters dropped as a repeat.
        self.dropped = 0

    def feed(self, text: str) -> str:
        """The part of ``text`` that may be delivered now ("" while still deciding)."""
        if self.done:
            return text
        self._buffer += text
        delivered = self._delivered
        n = len(delivered)
        alive: dict[int, int] = {}
        for k, matched in self._candidates.items():
            if matched == k:
                alive[k] = k
                continue
            need = min(k - matched, len(text))
            start = n - k + matched
            if delivered[start : start + need] == text[:need]:
                alive[k] = matched + need
        self._candidates = alive
        if any(matched < k for k, matched in alive.items()):
            return ""  # a longer repeat may still be coming
        return self._decide()

    def flush(self) -> str:
        """At the end of the continuation: what is still held back, minus any repeat.

        A continuation that ends while it still matches a candidate repeated only what was
        already delivered: it is dropped whole.
        """
        if self.done:
            return ""
        buffered = len(self._buffer)
        repeats_only = buffered >= MIN_OVERLAP and any(
            matched == buffered for matched in self._candidates.values()
        )
        if repeats_only:
            self.dropped, self._buffer, self.done = buffered, "", True
            return ""
        return self._decide()

    def _decide(self) -> str:
        complete = [k for k, matched in self._candidates.items() if matched == k]
        k = max(complete, default=0)
        out = self._buffer[k:]
        self.dropped, self._buffer, self._candidates, self.done = k, "", {}, True
        return out


class GuardedContinuation(Provider):
    """``inner``'s stream with the continuation's repeat of ``delivered`` dropped."""

    def __init__(self, inner: Provider, delivered: str) -> None:
        super().__init__(inner.settings)
        self.inner = inner
        self.delivered = delivered
        #: The guard of the last stream, to read how much it dropped.
        self.guard: RepeatGuard | None = None

    async def prepare(self) -> None:
        await self.inner.prepare()

    async def stream(self, request: Request, model: str) -> AsyncGenerator[ProviderEvent, None]:
        guard = self.guard = RepeatGuard(self.delivered)
        async for event in self.inner.stream(request, model):
            if event.text:
                text = guard.feed(event.text)
                if text:
                    yield ProviderEvent(text=text)
                continue
            rest = guard.flush()
            if rest:
                yield ProviderEvent(text=rest)
            yield event
        rest = guard.flush()
        if rest:
            yield ProviderEvent(text=rest)

    def map_error(self, exc: BaseException, model: str) -> ProviderError:
        return self.inner.map_error(exc, model)

    def secrets(self) -> tuple[str, ...]:
        return self.inner.secrets()
