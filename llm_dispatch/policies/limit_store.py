"""Where limit counts are kept, and the rules every store applies.

A request to a target is checked against its *scopes*: the provider (its ``limits``) and
the target ``provider/model`` (the model's ``limits.models`` entry, and the hold a
provider's ``Retry-After`` put on it). :meth:`LimitStore.acquire` checks every scope and,
only when all allow the request, records it in all of them at once:

- ``requests_per_minute`` and ``tokens_per_minute`` are counted over a **sliding window**
  (a log of the requests sent within the last ``window`` seconds, with the tokens of each):
  no window of that length, wherever it starts, holds more than the allowance. A fixed
  window would let twice the allowance through around a window's edge, which is what a
  provider's own limiter then refuses;
- ``max_concurrent`` counts the slots held; a slot is taken with the request and given
  back (:meth:`LimitStore.release`) when the stream ends;
- a hold refuses every request until it ends.

:meth:`LimitStore.settle` replaces a request's estimated tokens with what it used.
:class:`MemoryLimitStore` keeps the counts of this process; the Redis store
(:mod:`.limit_redis`) runs the same rules as one Lua script per operation, with leases on
the slots so that a process that dies cannot keep them.
"""

from __future__ import annotations

import math
import time
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field

__all__ = ["LimitStore", "MemoryLimitStore", "Refusal", "Scope"]


@dataclass(frozen=True, slots=True)
class Scope:
    """What one scope allows per window (None: no such limit), and what its refusals do."""

    key: str
    provider: str
    requests: float | None = None
    tokens: float | None = None
    concurrent: int | None = None
    on_limit: str = "wait"

    @property
    def counts_tokens(self) -> bool:
        return self.tokens is not None


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a request may not be sent now.

    ``limit`` is ``requests_per_minute``, ``tokens_per_minute``, ``max_concurrent`` or
    ``retry_after``; ``retry_in`` the seconds until it would allow the request (None:
    unknown, a slot may free up at any time; ``inf``: never, the request alone is more
    than the scope allows per window).
    """

    scope: Scope
    limit: str
    retry_in: float | None


class LimitStore(ABC):
    """Keeps limit counts and applies one operation atomically over the scopes given."""

    @abstractmethod
    async def acquire(
        self, scopes: Sequence[Scope], ticket: str, tokens: int, window: float, lease: float
    ) -> Refusal | None:
        """Record request ``ticket`` (``tokens`` estimated) in every scope, taking a slot where
        a scope limits concurrency, if every scope allows it; else record nothing and say
        why (the first scope that refused)."""

    @abstractmethod
    async def release(self, scopes: Sequence[Scope], ticket: str) -> None:
        """Give back the slots ``ticket`` holds."""

    @abstractmethod
    async def settle(self, scopes: Sequence[Scope], ticket: str, tokens: int) -> None:
        """Count ``tokens`` for ``ticket`` instead of its estimate (if still in the window)."""

    @abstractmethod
    async def hold(self, scope: Scope, seconds: float) -> None:
        """Refuse every request to ``scope`` for ``seconds`` (a longer hold stands)."""

    async def renew(self, leases: Sequence[tuple[Sequence[Scope], str]], lease: float) -> None:
        """Extend the slots of still-running streams by ``lease`` seconds (stores whose slots
        expire override this)."""
        return None

    async def aclose(self) -> None:
        """Release connections."""
        return None


@dataclass(slots=True)
class _Counts:
    # ticket -> [time sent, tokens], in the order sent (the clock is monotonic).
    sent: dict[str, list[float]] = field(default_factory=dict)
    tokens: float = 0.0
    slots: set[str] = field(default_factory=set)
    hold_until: float = 0.0

    def prune(self, cutoff: float) -> None:
        while self.sent:
            ticket, (at, tokens) = next(iter(self.sent.items()))
            if at > cutoff:
                return
            del self.sent[ticket]
            self.tokens -= tokens

    def refusal(self, scope: Scope, tokens: int, now: float, window: float) -> Refusal | None:
        if self.hold_until > now:
            return Refusal(scope, "retry_after", self.hold_until - now)
        if scope.requests is not None and len(self.sent) + 1 > scope.requests:
            # The oldest requests that must leave the window before one more fits.
            leaving = math.ceil(len(self.sent) + 1 - scope.requests)
            at = list(self.sent.values())[leaving - 1][0]
            return Refusal(scope, "requests_per_minute", at + window - now)
        if scope.tokens is not None and self.tokens + tokens > scope.tokens:
            if tokens > scope.tokens:
                return Refusal(scope, "tokens_per_minute", math.inf)
            freed = 0.0
            retry_in = 0.0
            for at, counted in self.sent.values():
                freed += counted
                retry_in = at + window - now
                if self.tokens - freed + tokens <= scope.tokens:
                    break
            return Refusal(scope, "tokens_per_minute", retry_in)
        if scope.concurrent is not None and len(self.slots) >= scope.concurrent:
            return Refusal(scope, "max_concurrent", None)
        return None


class MemoryLimitStore(LimitStore):
    """Limit counts of this process only (the default). Its slots never expire: they end
    with the stream, or with the process."""

    def __init__(self) -> None:
        self.clock = time.monotonic
        self._counts: dict[str, _Counts] = {}

    def _get(self, key: str) -> _Counts:
        counts = self._counts.get(key)
        if counts is None:
            counts = self._counts[key] = _Counts()
        return counts

    async def acquire(
        self, scopes: Sequence[Scope], ticket: str, tokens: int, window: float, lease: float
    ) -> Refusal | None:
        # No await between the checks and the writes: atomic with respect to other tasks.
        now = self.clock()
        for scope in scopes:
            counts = self._get(scope.key)
            counts.prune(now - window)
            refusal = counts.refusal(scope, tokens, now, window)
            if refusal is not None:
                return refusal
        for scope in scopes:
            counts = self._get(scope.key)
            if scope.requests is not None or scope.tokens is not None:
                counted = float(tokens) if scope.tokens is not None else 0.0
                counts.sent[ticket] = [now, counted]
                counts.tokens += counted
            if scope.concurrent is not None:
                counts.slots.add(ticket)
        return None

    async def release(self, scopes: Sequence[Scope], ticket: str) -> None:
        for scope in scopes:
            counts = self._counts.get(scope.key)
            if counts is not None:
                counts.slots.discard(ticket)

    async def settle(self, scopes: Sequence[Scope], ticket: str, tokens: int) -> None:
        for scope in scopes:
            counts = self._counts.get(scope.key)
            if counts is None or scope.tokens is None:
                continue
            entry = counts.sent.get(ticket)
            if entry is not None:
                counts.tokens += tokens - entry[1]
                entry[1] = float(tokens)

    async def hold(self, scope: Scope, seconds: float) -> None:
        counts = self._get(scope.key)
        counts.hold_until = max(counts.hold_until, self.clock() + seconds)

    def in_use(self, key: str) -> int:
        """Slots of scope ``key`` held now."""
        counts = self._counts.get(key)
        return len(counts.slots) if counts is not None else 0
