"""Circuit breaker: take a failing target out of rotation for a while, then probe it.

States of one target key (``provider/model``)::

    closed ──(failure_threshold failures within window)──▶ open
    open ──(cooldown elapsed; noticed on the next call)──▶ half_open
    half_open ──(probe succeeds)──▶ closed
    half_open ──(probe fails)──▶ open (fresh cooldown)

``allow()`` in ``half_open`` lets exactly one caller through (the probe) and refuses the
others while it runs. The probe slot is a lease of ``cooldown`` seconds, so a probe whose
result is never recorded (cancelled request, crashed process) does not block the target
forever; :meth:`CircuitBreaker.release` gives it back early.

The state lives in a :class:`CircuitStore`: :class:`MemoryCircuitStore` per process, or
:class:`RedisCircuitStore` shared by every process that uses the same Redis server and
namespace. Both run the same transition rules, the Redis one as one Lua script per call so
that concurrent processes cannot interleave a read and a write.

Every state change is logged (``structlog`` logger ``llm_dispatch.circuit``, event
``circuit.changed``) and passed to ``on_change``, which the dispatcher turns into a stage
event.
"""

from __future__ import annotations

import asyncio
import inspect
import math
import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Literal

from ..log import Throttle, get_logger
from ..redaction import redact
from ..settings.models import CircuitSettings

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = [
    "CircuitBreaker",
    "CircuitChange",
    "CircuitState",
    "CircuitStatus",
    "CircuitStore",
    "MemoryCircuitStore",
    "RedisCircuitStore",
    "StoreReply",
    "store_from_settings",
]

log = get_logger("llm_dispatch.circuit")

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


# -- in Redis ------------------------------------------------------------------------------

# KEYS: state hash, failures sorted set (score = failure time).
# ARGV: op, now, threshold, window, cooldown, ttl_ms, failure member.
# Returns {allowed, state, open_until, probe_until, failures, [old, new, reason]...};
# numbers travel as strings because Redis truncates Lua numbers to integers.
_LUA = """
local state_key, fail_key = KEYS[1], KEYS[2]
local op = ARGV[1]
local now = tonumber(ARGV[2])
local threshold = tonumber(ARGV[3])
local window = tonumber(ARGV[4])
local cooldown = tonumber(ARGV[5])
local ttl_ms = tonumber(ARGV[6])

local state = redis.call('HGET', state_key, 'state') or 'closed'
local open_until = tonumber(redis.call('HGET', state_key, 'open_until') or '0')
local probe_until = tonumber(redis.call('HGET', state_key, 'probe_until') or '0')
local dirty = false
local changes = {}

local function num(x) return string.format('%.6f', x) end
local function move(new, reason)
  table.insert(changes, state)
  table.insert(changes, new)
  table.insert(changes, reason)
  state = new
  dirty = true
end

if state == 'open' and now >= open_until then
  move('half_open', string.format('cooldown of %gs elapsed', cooldown))
  probe_until = 0
end
redis.call('ZREMRANGEBYSCORE', fail_key, '-inf', num(now - window))
local probe_free = state == 'half_open' and probe_until <= now

local allowed = 0
if op == 'status' then
  if state == 'closed' or probe_free then allowed = 1 end
elseif op == 'allow' then
  if state == 'closed' then
    allowed = 1
  elseif probe_free then
    probe_until = now + cooldown
    dirty = true
    allowed = 1
  end
elseif op == 'failure' then
  if state == 'closed' then
    redis.call('ZADD', fail_key, ARGV[2], ARGV[7])
    redis.call('PEXPIRE', fail_key, ttl_ms)
    local count = redis.call('ZCARD', fail_key)
    if count >= threshold then
      move('open', string.format('%d failures within %gs', count, window))
      open_until = now + cooldown
      redis.call('DEL', fail_key)
    end
  elseif state == 'half_open' then
    move('open', 'probe failed')
    open_until = now + cooldown
    probe_until = 0
  end
elseif op == 'success' then
  if state == 'half_open' then
    move('closed', 'probe succeeded')
    probe_until = 0
  end
  redis.call('DEL', fail_key)
elseif op == 'release' then
  if state == 'half_open' and probe_until > 0 then
    probe_until = 0
    dirty = true
  end
end

if dirty then
  if state == 'closed' then
    redis.call('DEL', state_key)
  else
    redis.call('HSET', state_key, 'state', state, 'open_until', num(open_until),
               'probe_until', num(probe_until))
    redis.call('PEXPIRE', state_key, ttl_ms)
  end
end
local result = {allowed, state, num(open_until), num(probe_until), redis.call('ZCARD', fail_key)}
for _, v in ipairs(changes) do table.insert(result, v) end
return result
"""


class RedisCircuitStore(CircuitStore):
    """Circuit state shared through Redis by every process using ``namespace``.

    Timestamps are wall-clock (``time.time``) because they are compared across processes.
    Keys expire once nothing about them can matter any more (``window + 2 * cooldown`` plus a
    minute after the last write), so abandoned targets leave nothing behind.
    """

    def __init__(
        self,
        url: str = "redis://127.0.0.1:6379/0",
        namespace: str = "llm_dispatch:circuit",
        *,
        client: Redis | None = None,
    ) -> None:
        if client is None:
            # Imported here so that importing llm_dispatch does not import redis.
            from redis.asyncio import Redis

            client = Redis.from_url(
                url, decode_responses=True, socket_connect_timeout=2, socket_timeout=2
            )
            self._owns_client = True
        else:
            self._owns_client = False
        self.clock: Clock = time.time
        self.namespace = namespace
        self._client = client
        self._script = client.register_script(_LUA)

    def keys_for(self, key: str) -> list[str]:
        """The Redis keys of target ``key`` (hash-tagged so both land in one cluster slot)."""
        base = f"{self.namespace}:{{{key}}}"
        return [base, f"{base}:failures"]

    async def apply(
        self, op: Operation, key: str, now: float, settings: CircuitSettings
    ) -> StoreReply:
        reply = await self._script(keys=self.keys_for(key), args=_script_args(op, now, settings))
        return _reply(key, now, reply)

    async def apply_many(
        self, ops: Sequence[tuple[Operation, str]], now: float, settings: CircuitSettings
    ) -> list[StoreReply]:
        """Every operation in one pipeline: one round trip whatever the number of targets."""
        if len(ops) == 1:
            op, key = ops[0]
            return [await self.apply(op, key, now, settings)]
        async with self._client.pipeline(transaction=False) as pipe:
            for op, key in ops:
                await self._script(
                    keys=self.keys_for(key), args=_script_args(op, now, settings), client=pipe
                )
            replies = await pipe.execute()
        return [_reply(key, now, reply) for (_, key), reply in zip(ops, replies, strict=True)]

    async def reset(self, key: str) -> None:
        await self._client.delete(*self.keys_for(key))

    async def aclose(self) -> None:
        if self._owns_client:
            await self._client.aclose()


def _script_args(op: Operation, now: float, settings: CircuitSettings) -> list[Any]:
    ttl_ms = int((settings.window + 2 * settings.cooldown + 60) * 1000)
    return [
        op,
        f"{now:.6f}",
        settings.failure_threshold,
        f"{settings.window:.6f}",
        f"{settings.cooldown:.6f}",
        ttl_ms,
        f"{now:.6f}:{uuid.uuid4().hex[:12]}",  # unique: two failures may share a time
    ]


def _reply(key: str, now: float, reply: Any) -> StoreReply:
    allowed, state_name, open_until, probe_until, failures, *flat = reply
    state = CircuitState(state_name)
    changes = tuple(
        (CircuitState(flat[i]), CircuitState(flat[i + 1]), str(flat[i + 2]))
        for i in range(0, len(flat), 3)
    )
    status = CircuitStatus(
        key=key,
        state=state,
        failures=int(failures),
        open_until=float(open_until) if state is CircuitState.OPEN else None,
        probe_in_flight=state is CircuitState.HALF_OPEN and float(probe_until) > now,
        now=now,
    )
    return StoreReply(bool(int(allowed)), status, changes)


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
        (reply,) = await self.allow_many([key], timeout=timeout)
        return reply.allowed

    async def allow_many(
        self, keys: Sequence[str], *, timeout: float | None = None
    ) -> list[StoreReply]:
        """:meth:`allow` for several targets at once (one round trip to a shared store).

        Each reply says whether that target may be tried and its circuit's status.
        """
        replies = await self._apply_many([("allow", key) for key in keys], timeout)
        if replies is None:
            now = self.clock()
            return [
                StoreReply(True, CircuitStatus(key, CircuitState.CLOSED, now=now)) for key in keys
            ]
        return replies

    async def record_success(self, key: str, *, timeout: float | None = None) -> None:
        """A try succeeded: resets the failure count; a half-open circuit closes."""
        await self._apply_many([("success", key)], timeout)

    async def record_failure(self, key: str, *, timeout: float | None = None) -> None:
        """A try failed: may open the circuit; a failed probe reopens it for a new cooldown."""
        await self._apply_many([("failure", key)], timeout)

    async def release(self, key: str, *, timeout: float | None = None) -> None:
        """Give back a probe claimed by :meth:`allow` that was not used (no verdict)."""
        await self.release_many([key], timeout=timeout)

    async def release_many(self, keys: Sequence[str], *, timeout: float | None = None) -> None:
        """:meth:`release` for several targets at once."""
        if keys:
            await self._apply_many([("release", key) for key in keys], timeout)

    async def status(self, key: str, *, timeout: float | None = None) -> CircuitStatus:
        """The circuit of ``key`` now (an elapsed cooldown turns open into half-open)."""
        replies = await self._apply_many([("status", key)], timeout)
        if replies is None:
            return CircuitStatus(key=key, state=CircuitState.CLOSED, now=self.clock())
        return replies[0].status

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
    ) -> list[StoreReply] | None:
        if not self.settings.enabled:
            return None
        replies = await self._from_store(ops, timeout)
        if replies is None:
            assert self._local is not None
            replies = await self._local.apply_many(ops, self._local.clock(), self.settings)
        for (_, key), reply in zip(ops, replies, strict=True):
            for old, new, reason in reply.changes:
                await self._notify(CircuitChange(key, old, new, reason))
        return replies

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
