"""Where circuit state is kept, and the transition rules every store applies.

States of one target key (``provider/model``)::

    closed ──(failure_threshold failures within window)──▶ open
    open ──(cooldown elapsed; noticed on the next call)──▶ half_open
    half_open ──(probe succeeds)──▶ closed
    half_open ──(probe fails)──▶ open (fresh cooldown)

``allow`` in ``half_open`` lets exactly one caller through (the probe) and refuses the
others while it runs. The probe slot is a lease of ``cooldown`` seconds, so a probe whose
result is never recorded (cancelled request, crashed process) does not block the target
forever; ``release`` gives it back early.

:class:`MemoryCircuitStore` keeps the state of this process; the Redis store
(:mod:`.circuit_redis`) runs the same rules as one Lua script per call.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

from ..settings.models import CircuitSettings

__all__ = [
    "CircuitChange",
    "CircuitState",
    "CircuitStatus",
    "CircuitStore",
    "Clock",
    "MemoryCircuitStore",
    "Operation",
    "StoreReply",
]

Clock = Callable[[], float]
Operation = Literal["status", "allow", "success", "failure", "release"]


class CircuitState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass(frozen=True, slots=True)
class CircuitChange:
    """One state change of one target's circuit."""

    key: str
    old: CircuitState
    new: CircuitState
    reason: str


@dataclass(frozen=True, slots=True)
class CircuitStatus:
    """A target's circuit as seen at clock time ``now``."""

    key: str
    state: CircuitState
    #: Failures counted towards the threshold (closed state only).
    failures: int = 0
    #: Clock time the cooldown ends (open state only).
    open_until: float | None = None
    probe_in_flight: bool = False
    now: float = 0.0

    @property
    def available(self) -> bool:
        """Whether a request may use the target now (a half-open one: as the probe)."""
        return self.state is CircuitState.CLOSED or (
            self.state is CircuitState.HALF_OPEN and not self.probe_in_flight
        )

    @property
    def retry_in(self) -> float | None:
        """Seconds until an open circuit lets a probe through."""
        if self.state is not CircuitState.OPEN or self.open_until is None:
            return None
        return max(0.0, self.open_until - self.now)


@dataclass(frozen=True, slots=True)
class StoreReply:
    """What a store operation decided: the answer, the resulting status, the changes made."""

    allowed: bool
    status: CircuitStatus
    changes: tuple[tuple[CircuitState, CircuitState, str], ...] = ()


class CircuitStore(ABC):
    """Keeps circuit state and applies one operation atomically.

    ``clock`` is the time base the store expects: timestamps from different processes are
    only comparable on a shared (wall) clock.
    """

    clock: Clock

    @abstractmethod
    async def apply(
        self, op: Operation, key: str, now: float, settings: CircuitSettings
    ) -> StoreReply:
        """Run ``op`` for ``key`` at time ``now`` (see the module docstring for the rules)."""

    async def apply_many(
        self, ops: Sequence[tuple[Operation, str]], now: float, settings: CircuitSettings
    ) -> list[StoreReply]:
        """Run several operations at time ``now``, in order; a store that can batch them
        (one Redis round trip) overrides this."""
        return [await self.apply(op, key, now, settings) for op, key in ops]

    @abstractmethod
    async def reset(self, key: str) -> None:
        """Forget everything about ``key`` (back to closed, no failures)."""

    async def aclose(self) -> None:
        """Release connections."""
        return None


# -- in memory -----------------------------------------------------------------------------


@dataclass(slots=True)
class _Record:
    state: CircuitState = CircuitState.CLOSED
    failures: list[float] = field(default_factory=list)
    open_until: float = 0.0
    probe_until: float = 0.0


def _step(
    rec: _Record, op: Operation, now: float, s: CircuitSettings
) -> tuple[bool, list[tuple[CircuitState, CircuitState, str]]]:
    """The transition rules; the Lua script in :class:`RedisCircuitStore` mirrors them."""
    changes: list[tuple[CircuitState, CircuitState, str]] = []

    def move(new: CircuitState, reason: str) -> None:
        changes.append((rec.state, new, reason))
        rec.state = new

    if rec.state is CircuitState.OPEN and now >= rec.open_until:
        move(CircuitState.HALF_OPEN, f"cooldown of {s.cooldown:g}s elapsed")
        rec.probe_until = 0.0
    cutoff = now - s.window
    rec.failures = [t for t in rec.failures if t > cutoff]
    probe_free = rec.state is CircuitState.HALF_OPEN and rec.probe_until <= now

    allowed = False
    if op == "status":
        allowed = rec.state is CircuitState.CLOSED or probe_free
    elif op == "allow":
        if rec.state is CircuitState.CLOSED:
            allowed = True
        elif probe_free:
            rec.probe_until = now + s.cooldown
            allowed = True
    elif op == "failure":
        if rec.state is CircuitState.CLOSED:
            rec.failures.append(now)
            if len(rec.failures) >= s.failure_threshold:
                move(CircuitState.OPEN, f"{len(rec.failures)} failures within {s.window:g}s")
                rec.open_until = now + s.cooldown
                rec.failures.clear()
        elif rec.state is CircuitState.HALF_OPEN:
            move(CircuitState.OPEN, "probe failed")
            rec.open_until = now + s.cooldown
            rec.probe_until = 0.0
        # open: a request that started before the circuit opened; the cooldown stands.
    elif op == "success":
        if rec.state is CircuitState.HALF_OPEN:
            move(CircuitState.CLOSED, "probe succeeded")
            rec.probe_until = 0.0
        rec.failures.clear()
    elif op == "release" and rec.state is CircuitState.HALF_OPEN:
        rec.probe_until = 0.0
    return allowed, changes


def _status(key: str, rec: _Record, now: float) -> CircuitStatus:
    return CircuitStatus(
        key=key,
        state=rec.state,
        failures=len(rec.failures),
        open_until=rec.open_until if rec.state is CircuitState.OPEN else None,
        probe_in_flight=rec.state is CircuitState.HALF_OPEN and rec.probe_until > now,
        now=now,
    )


class MemoryCircuitStore(CircuitStore):
    """Circuit state of this process only (the default)."""

    def __init__(self) -> None:
        self.clock: Clock = time.monotonic
        self._records: dict[str, _Record] = {}

    async def apply(
        self, op: Operation, key: str, now: float, settings: CircuitSettings
    ) -> StoreReply:
        # No await between read and write: atomic with respect to other tasks.
        rec = self._records.get(key) or _Record()
        allowed, changes = _step(rec, op, now, settings)
        if rec.state is CircuitState.CLOSED and not rec.failures:
            self._records.pop(key, None)  # nothing to remember; keeps the dict small
        else:
            self._records[key] = rec
        return StoreReply(allowed, _status(key, rec, now), tuple(changes))

    async def reset(self, key: str) -> None:
        self._records.pop(key, None)
