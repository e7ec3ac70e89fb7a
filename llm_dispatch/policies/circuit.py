"""Circuit breaker: take a failing target out of rotation for a while, then probe it.

:class:`CircuitBreaker` applies the rules of :mod:`.circuit_store` to a store: this
process's (:class:`MemoryCircuitStore`) or one shared through Redis
(:class:`RedisCircuitStore`). Its ``record_*`` methods return the state changes they made;
every change is also logged (event ``circuit.changed``) and passed to ``on_change`` if one
is set.

:func:`guarded_by_circuit` is the policy around opening an attempt: the target's circuit is
asked when the attempt opens (claiming a half-open target's single probe), each failed try
and the stream's outcome are recorded, and a claimed probe that got no verdict is given
back. The router only reads circuits (:meth:`CircuitBreaker.status_many`) and claims nothing.
"""

from __future__ import annotations

import asyncio
import inspect
import math
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING

from ..error_kinds import NOT_CIRCUIT_FAILURES
from ..errors import CircuitOpenError, ProviderError
from ..events import CircuitEvent
from ..log import Throttle, get_logger
from ..providers.function import FUNCTION_PROVIDER
from ..redaction import redact
from ..settings.models import CircuitSettings
from .circuit_redis import RedisCircuitStore
from .circuit_store import (
    CircuitChange,
    CircuitState,
    CircuitStatus,
    CircuitStore,
    Clock,
    MemoryCircuitStore,
    Operation,
    StoreReply,
)

if TYPE_CHECKING:
    from ..attempt import Attempt, Ending, Open, Opened

__all__ = [
    "CircuitBreaker",
    "CircuitChange",
    "CircuitState",
    "CircuitStatus",
    "CircuitStore",
    "MemoryCircuitStore",
    "RedisCircuitStore",
    "StoreReply",
    "guarded_by_circuit",
    "store_from_settings",
]

log = get_logger(__name__)

# The decorated body is the last resort: never taken out of rotation.
_NEVER_GUARDED = frozenset({FUNCTION_PROVIDER})


def store_from_settings(settings: CircuitSettings) -> CircuitStore:
    """The store ``settings.store`` names: ``memory`` or a Redis URL."""
    if settings.store == "memory":
        return MemoryCircuitStore()
    return RedisCircuitStore(settings.store.get_secret_value(), settings.namespace)


# -- the breaker ---------------------------------------------------------------------------

OnChange = Callable[[CircuitChange], Awaitable[None] | None]


class CircuitBreaker:
    """Decides whether a target may be tried, from the failures recorded against it.

    ``store`` defaults to the one ``settings.store`` names; ``clock`` to the store's clock.
    With ``settings.enabled`` false every target is always allowed and nothing is recorded.

    A shared store never holds a request up for long: each call to it (one round trip,
    however many targets it concerns) is bounded by ``settings.store_timeout`` and by the
    ``timeout`` the caller passes (what is left of the request's ``total``). When the store
    fails or is slow, the breaker keeps this process's own state for ``settings.store_retry``
    seconds before trying the store again, and logs ``circuit.store_unavailable`` (at most
    once a minute, with a count of the repeats).
    """

    def __init__(
        self,
        settings: CircuitSettings | None = None,
        store: CircuitStore | None = None,
        on_change: OnChange | None = None,
        *,
        clock: Clock | None = None,
    ) -> None:
        self.settings = settings or CircuitSettings()
        self.store = store if store is not None else store_from_settings(self.settings)
        self.clock: Clock = clock or self.store.clock
        self.on_change = on_change
        # What stands in for a shared store while it is unreachable.
        self._local = None if isinstance(self.store, MemoryCircuitStore) else MemoryCircuitStore()
        self._store_down_until = -math.inf
        self._throttle = Throttle()

    @property
    def using_local_state(self) -> bool:
        """True while the shared store is skipped because it failed (see the class doc)."""
        return self._local is not None and time.monotonic() < self._store_down_until

    async def allow(self, key: str, *, timeout: float | None = None) -> bool:
        """Whether ``key`` may be tried now; in half-open, True claims the single probe."""
        replies, _ = await self._apply_many([("allow", key)], timeout)
        return replies[0].allowed if replies is not None else True

    async def status_many(
        self, keys: Sequence[str], *, timeout: float | None = None
    ) -> list[CircuitStatus]:
        """The circuits of ``keys`` now, in one round trip to a shared store; nothing is
        claimed (``status.available`` says whether a target may be tried)."""
        replies, _ = await self._apply_many([("status", key) for key in keys], timeout)
        if replies is None:
            now = self.clock()
            return [CircuitStatus(key, CircuitState.CLOSED, now=now) for key in keys]
        return [reply.status for reply in replies]

    async def record_success(
        self, key: str, *, timeout: float | None = None
    ) -> list[CircuitChange]:
        """A try succeeded: resets the failure count; a half-open circuit closes.
        Returns the state changes made."""
        return (await self._apply_many([("success", key)], timeout))[1]

    async def record_failure(
        self, key: str, *, timeout: float | None = None
    ) -> list[CircuitChange]:
        """A try failed: may open the circuit; a failed probe reopens it for a new cooldown.
        Returns the state changes made."""
        return (await self._apply_many([("failure", key)], timeout))[1]

    async def release(self, key: str, *, timeout: float | None = None) -> None:
        """Give back a probe claimed by :meth:`allow` that was not used (no verdict)."""
        await self._apply_many([("release", key)], timeout)

    async def status(self, key: str, *, timeout: float | None = None) -> CircuitStatus:
        """The circuit of ``key`` now (an elapsed cooldown turns open into half-open)."""
        (status,) = await self.status_many([key], timeout=timeout)
        return status

    async def state(self, key: str) -> CircuitState:
        return (await self.status(key)).state

    async def reset(self, key: str) -> None:
        """Close the circuit of ``key`` and forget its failures."""
        if self._local is not None:
            await self._local.reset(key)
        await self.store.reset(key)

    async def aclose(self) -> None:
        await self.store.aclose()

    async def _apply_many(
        self, ops: list[tuple[Operation, str]], timeout: float | None
    ) -> tuple[list[StoreReply] | None, list[CircuitChange]]:
        if not self.settings.enabled:
            return None, []
        replies = await self._from_store(ops, timeout)
        if replies is None:
            assert self._local is not None
            replies = await self._local.apply_many(ops, self._local.clock(), self.settings)
        changes = [
            CircuitChange(key, old, new, reason)
            for (_, key), reply in zip(ops, replies, strict=True)
            for old, new, reason in reply.changes
        ]
        for change in changes:
            await self._notify(change)
        return replies, changes

    async def _from_store(
        self, ops: list[tuple[Operation, str]], timeout: float | None
    ) -> list[StoreReply] | None:
        """The shared store's replies, or None when this process's state must stand in."""
        if self._local is None:
            return await self.store.apply_many(ops, self.clock(), self.settings)
        bound = self.settings.store_timeout
        if timeout is not None:
            bound = min(bound, timeout)
        if bound <= 0 or time.monotonic() < self._store_down_until:
            return None
        try:
            async with asyncio.timeout(bound):
                return await self.store.apply_many(ops, self.clock(), self.settings)
        except Exception as exc:
            self._store_down_until = time.monotonic() + self.settings.store_retry
            # Health bookkeeping must not take requests down with it, nor hold them up.
            self._throttle(
                log.warning,
                "store",
                "circuit.store_unavailable",
                op=ops[0][0],
                error=type(exc).__name__,
                detail=redact(str(exc)) or f"no reply within {bound:g}s",
                using="process state",
                retry_in_s=self.settings.store_retry,
            )
            return None

    async def _notify(self, change: CircuitChange) -> None:
        (log.warning if change.new is CircuitState.OPEN else log.info)(
            "circuit.changed",
            key=change.key,
            old=change.old.value,
            new=change.new.value,
            reason=change.reason,
        )
        if self.on_change is None:
            return
        try:
            result = self.on_change(change)
            if inspect.isawaitable(result):
                await result
        except Exception as exc:
            # A listener's bug must not change how requests are routed.
            log.error("circuit.on_change_failed", key=change.key, error=repr(exc))


class _Verdicts:
    """Reports one attempt's tries and outcome to the breaker, and the changes to stages."""

    __slots__ = ("breaker", "claimed", "settled")

    def __init__(self, breaker: CircuitBreaker) -> None:
        self.breaker = breaker
        self.claimed = True
        self.settled = False

    def try_started(self, attempt: Attempt) -> None:
        return None  # a try is judged when it ends

    async def try_failed(self, attempt: Attempt, error: ProviderError) -> None:
        if error.allows_fallback and error.kind not in NOT_CIRCUIT_FAILURES:
            await self._record(attempt, ok=False)

    async def ended(self, attempt: Attempt, ending: Ending) -> None:
        if ending == "ok":
            await self._record(attempt, ok=True)
        elif ending == "interrupted" and not _throttled(attempt):
            await self._record(attempt, ok=False)
        elif not self.settled:
            # A claimed probe that got no verdict: free it for the next request now.
            await self.breaker.release(attempt.target.key, timeout=attempt.run.left())

    async def _record(self, attempt: Attempt, *, ok: bool) -> None:
        self.settled = True
        key, left = attempt.target.key, attempt.run.left()
        record = self.breaker.record_success if ok else self.breaker.record_failure
        for change in await record(key, timeout=left):
            await attempt.emit(CircuitEvent(change.key, change.old, change.new, change.reason))


def _throttled(attempt: Attempt) -> bool:
    """Whether the attempt's stream was cut by a rate-limit error (its ledger record, written
    before the attempt ended, says the kind): not a sign of ill health. The attempt's own
    record: the stream's last may be another attempt's (a hedge's racer)."""
    records = attempt.records
    return bool(records) and records[-1].kind in NOT_CIRCUIT_FAILURES


def guarded_by_circuit(breaker: CircuitBreaker, open_target: Open) -> Open:
    """``open_target`` behind ``breaker``: the target's circuit is asked when the attempt
    opens (a half-open circuit's one probe is claimed now; a circuit that refuses raises
    :class:`CircuitOpenError`, which falls back), and every failed try and the attempt's
    outcome are recorded. The decorated body and cache replays are never counted."""

    async def open_guarded(attempt: Attempt) -> Opened:
        if attempt.target.kind in _NEVER_GUARDED or attempt.run.ctx.cached:
            return await open_target(attempt)
        key = attempt.target.key
        if not await breaker.allow(key, timeout=attempt.run.left()):
            status = await breaker.status(key, timeout=attempt.run.left())
            why = (
                "half-open, another request is probing it"
                if status.state is CircuitState.HALF_OPEN
                else f"open for {status.retry_in or 0.0:.1f}s more"
            )
            error = CircuitOpenError(
                f"the circuit is {why}",
                provider=attempt.target.provider,
                model=attempt.target.model,
            )
            attempt.charge(kind=error.kind.value, message=error.message)  # nothing sent
            raise error
        attempt.observers.append(_Verdicts(breaker))
        return await open_target(attempt)

    return open_guarded
