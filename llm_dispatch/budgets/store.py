"""Where spend is counted, and the rules every store applies.

A :class:`Counter` is one budget's one window (``provider=openai:day:2026-12-07``) with its
cap. Amounts are integers in nano-USD (10⁻⁹ USD), so that every store, Redis included,
adds and compares them exactly.

- :meth:`BudgetStore.reserve` holds ``amount`` on every counter at once, or on none: when
  one counter's settled spend plus what is held on it plus ``amount`` would pass its cap,
  nothing is held and the :class:`Refusal` says which counter refused and why. A hold
  lapses at ``hold_until`` if it is never settled (its process died).
- :meth:`BudgetStore.settle` replaces a hold by the real cost, on every counter it was made
  on. A counter's spend only ever grows by settled costs.

:class:`MemoryBudgetStore` counts for this process; :mod:`.redis_store` runs the same rules
as one Lua script per reservation and per settlement, shared by every process.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field

__all__ = ["BudgetStore", "Counter", "MemoryBudgetStore", "Refusal", "Tally", "nano"]


def nano(usd: float) -> int:
    """``usd`` in nano-USD, rounded up (an estimate or a cost is never made smaller)."""
    return max(0, -int(-usd * 1e9 // 1))


@dataclass(frozen=True, slots=True)
class Counter:
    """One window of one budget: the store key, the cap, when it may be forgotten."""

    key: str
    cap: int
    #: Epoch seconds after which nothing reads the counter any more.
    expires_at: float


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a reservation was refused: counter ``index`` of the request, with its settled
    spend and what other calls hold on it (nano-USD)."""

    index: int
    spent: int
    reserved: int


@dataclass(frozen=True, slots=True)
class Tally:
    """A counter as read: settled spend and live holds (nano-USD)."""

    spent: int = 0
    reserved: int = 0


class BudgetStore(ABC):
    """Keeps the counters and applies one operation atomically (see the module docstring)."""

    @abstractmethod
    async def reserve(
        self,
        counters: Sequence[Counter],
        token: str,
        amount: int,
        now: float,
        hold_until: float,
    ) -> Refusal | None:
        """Hold ``amount`` under ``token`` on every counter, or refuse (nothing held)."""

    @abstractmethod
    async def settle(self, counters: Sequence[Counter], token: str, cost: int) -> None:
        """Drop the hold ``token`` from every counter and add ``cost`` to its spend."""

    @abstractmethod
    async def read(self, counters: Sequence[Counter], now: float) -> list[Tally]:
        """What each counter holds at ``now`` (lapsed holds left out)."""

    async def aclose(self) -> None:
        """Release connections."""
        return None


@dataclass(slots=True)
class _Entry:
    expires_at: float
    spent: int = 0
    holds: dict[str, tuple[int, float]] = field(default_factory=dict)

    def reserved(self, now: float) -> int:
        self.holds = {t: hold for t, hold in self.holds.items() if hold[1] > now}
        return sum(amount for amount, _ in self.holds.values())


class MemoryBudgetStore(BudgetStore):
    """The counters of this process only (the default)."""

    def __init__(self) -> None:
        self._entries: dict[str, _Entry] = {}

    async def reserve(
        self,
        counters: Sequence[Counter],
        token: str,
        amount: int,
        now: float,
        hold_until: float,
    ) -> Refusal | None:
        # No await from the first read to the last write: atomic with respect to other tasks.
        self._forget(now)
        entries = [self._entry(counter) for counter in counters]
        for index, (counter, entry) in enumerate(zip(counters, entries, strict=True)):
            reserved = entry.reserved(now)
            if entry.spent + reserved + amount > counter.cap:
                return Refusal(index, entry.spent, reserved)
        for entry in entries:
            entry.holds[token] = (amount, hold_until)
        return None

    async def settle(self, counters: Sequence[Counter], token: str, cost: int) -> None:
        for counter in counters:
            entry = self._entry(counter)
            entry.holds.pop(token, None)
            entry.spent += cost

    async def read(self, counters: Sequence[Counter], now: float) -> list[Tally]:
        found = []
        for counter in counters:
            entry = self._entries.get(counter.key)
            found.append(Tally(entry.spent, entry.reserved(now)) if entry else Tally())
        return found

    def _entry(self, counter: Counter) -> _Entry:
        entry = self._entries.get(counter.key)
        if entry is None:
            entry = self._entries[counter.key] = _Entry(counter.expires_at)
        return entry

    def _forget(self, now: float) -> None:
        """Drop the counters of windows that ended (keeps the dict small)."""
        for key in [k for k, e in self._entries.items() if e.expires_at <= now]:
            del self._entries[key]
