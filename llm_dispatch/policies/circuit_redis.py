"""Circuit state shared through Redis by every process that uses the same server.

Each operation is one Lua script, so concurrent processes cannot interleave a read and a
write; several operations of one request go in one pipeline (one round trip). The script
mirrors the rules of :func:`.circuit_store._step`.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..redis_client import close_store_client, store_client
from ..settings.models import CircuitSettings
from .circuit_store import CircuitState, CircuitStatus, CircuitStore, Clock, Operation, StoreReply

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["RedisCircuitStore"]

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
        self._connection = store_client(url, client)
        client = self._connection.redis
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
        await close_store_client(self._connection)


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
