"""Limit counts shared through Redis by every process that uses the same server.

Each operation is one Lua script over every scope of the request, so concurrent processes
cannot interleave a check and a write, and the provider's and the model's counts change
together. Times are the Redis server's (``TIME``), so the processes' clocks need not agree.
The script mirrors the rules of :class:`.limit_store.MemoryLimitStore`; the slots are
leases that expire unless renewed, so a process that dies gives its slots back.

Keys of scope ``S`` (``openai`` or ``openai/gpt-4o``) of provider ``P``, all with the hash
tag ``{P}`` so that one request's scopes share a cluster slot:

- ``<namespace>:{P}:S:sent``: sorted set, a request's ticket scored with the time it was
  sent (the sliding window);
- ``<namespace>:{P}:S:tokens``: hash, a ticket's tokens, and ``sum`` their total;
- ``<namespace>:{P}:S:slots``: sorted set, the ticket of each open stream scored with the
  time its lease ends;
- ``<namespace>:{P}:S:hold``: the time a provider's ``Retry-After`` hold ends.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..redis_client import close_store_client, store_client
from .limit_store import LimitStore, Refusal, Scope

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["RedisLimitStore"]

# KEYS: per scope, sent, tokens, slots, hold.
# ARGV: op, ticket, tokens, window, lease, seconds, then per scope: requests, tokens,
# concurrent allowance ('' for none).
# acquire returns {} when allowed, else {scope number, limit, retry_in ('' unknown)};
# numbers travel as strings because Redis truncates Lua numbers to integers.
_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local op, ticket = ARGV[1], ARGV[2]
local tokens = tonumber(ARGV[3])
local window = tonumber(ARGV[4])
local lease = tonumber(ARGV[5])
local n = #KEYS / 4
local function num(x) return string.format('%.6f', x) end
local function allowance(i, j) return tonumber(ARGV[6 + (i - 1) * 3 + j]) end

if op == 'acquire' then
  for i = 1, n do
    local sent, tok, slots, hold = KEYS[i*4-3], KEYS[i*4-2], KEYS[i*4-1], KEYS[i*4]
    local hold_until = tonumber(redis.call('GET', hold) or '0')
    if hold_until > now then return {tostring(i), 'retry_after', num(hold_until - now)} end
    local old = redis.call('ZRANGEBYSCORE', sent, '-inf', num(now - window))
    if #old > 0 then
      local freed = 0
      for _, m in ipairs(old) do
        freed = freed + tonumber(redis.call('HGET', tok, m) or '0')
        redis.call('HDEL', tok, m)
      end
      if freed ~= 0 then redis.call('HINCRBY', tok, 'sum', -freed) end
      redis.call('ZREMRANGEBYSCORE', sent, '-inf', num(now - window))
    end
    local requests, max_tokens, concurrent = allowance(i, 1), allowance(i, 2), allowance(i, 3)
    if requests then
      local count = redis.call('ZCARD', sent)
      if count + 1 > requests then
        local leaving = math.ceil(count + 1 - requests)
        local at = redis.call('ZRANGE', sent, leaving - 1, leaving - 1, 'WITHSCORES')
        return {tostring(i), 'requests_per_minute', num(tonumber(at[2]) + window - now)}
      end
    end
    if max_tokens then
      if tokens > max_tokens then return {tostring(i), 'tokens_per_minute', 'inf'} end
      local total = tonumber(redis.call('HGET', tok, 'sum') or '0')
      if total + tokens > max_tokens then
        local freed, retry_in = 0, 0
        local entries = redis.call('ZRANGE', sent, 0, -1, 'WITHSCORES')
        for k = 1, #entries, 2 do
          freed = freed + tonumber(redis.call('HGET', tok, entries[k]) or '0')
          retry_in = tonumber(entries[k + 1]) + window - now
          if total - freed + tokens <= max_tokens then break end
        end
        return {tostring(i), 'tokens_per_minute', num(retry_in)}
      end
    end
    if concurrent then
      redis.call('ZREMRANGEBYSCORE', slots, '-inf', num(now))
      if redis.call('ZCARD', slots) >= concurrent then
        return {tostring(i), 'max_concurrent', ''}
      end
    end
  end
  local keep_ms = math.floor((window + 60) * 1000)
  for i = 1, n do
    local sent, tok, slots = KEYS[i*4-3], KEYS[i*4-2], KEYS[i*4-1]
    local requests, max_tokens, concurrent = allowance(i, 1), allowance(i, 2), allowance(i, 3)
    if requests or max_tokens then
      redis.call('ZADD', sent, num(now), ticket)
      redis.call('PEXPIRE', sent, keep_ms)
    end
    if max_tokens then
      redis.call('HSET', tok, ticket, tokens)
      redis.call('HINCRBY', tok, 'sum', tokens)
      redis.call('PEXPIRE', tok, keep_ms)
    end
    if concurrent then
      redis.call('ZADD', slots, num(now + lease), ticket)
      redis.call('PEXPIRE', slots, math.floor((2 * lease + 60) * 1000))
    end
  end
  return {}
elseif op == 'release' then
  for i = 1, n do redis.call('ZREM', KEYS[i*4-1], ticket) end
elseif op == 'settle' then
  for i = 1, n do
    local tok = KEYS[i*4-2]
    local old = redis.call('HGET', tok, ticket)
    if old then
      redis.call('HSET', tok, ticket, tokens)
      redis.call('HINCRBY', tok, 'sum', tokens - tonumber(old))
    end
  end
elseif op == 'renew' then
  for i = 1, n do redis.call('ZADD', KEYS[i*4-1], 'XX', num(now + lease), ticket) end
elseif op == 'hold' then
  local hold = KEYS[4]
  local hold_until = now + tonumber(ARGV[6])
  if hold_until > tonumber(redis.call('GET', hold) or '0') then
    redis.call('SET', hold, num(hold_until), 'PX', math.max(1, math.ceil(tonumber(ARGV[6]) * 1000)))
  end
end
return {}
"""


class RedisLimitStore(LimitStore):
    """Limit counts shared through Redis by every process using ``namespace``."""

    def __init__(
        self,
        url: str = "redis://127.0.0.1:6379/0",
        namespace: str = "llm_dispatch:limits",
        *,
        client: Redis | None = None,
    ) -> None:
        self._connection = store_client(url, client)
        client = self._connection.redis
        self.clock = time.time
        self.namespace = namespace
        self._client = client
        self._script = client.register_script(_LUA)

    def keys_for(self, scope: Scope) -> list[str]:
        """The Redis keys of ``scope`` (see the module docstring)."""
        base = f"{self.namespace}:{{{scope.provider}}}:{scope.key}"
        return [f"{base}:sent", f"{base}:tokens", f"{base}:slots", f"{base}:hold"]

    async def _run(
        self,
        op: str,
        scopes: Sequence[Scope],
        ticket: str = "",
        tokens: int = 0,
        window: float = 0.0,
        lease: float = 0.0,
        seconds: float = 0.0,
        client: Any = None,
    ) -> Any:
        keys = [key for scope in scopes for key in self.keys_for(scope)]
        args: list[Any] = [op, ticket, tokens, f"{window:.6f}", f"{lease:.6f}", f"{seconds:.6f}"]
        for scope in scopes:
            args += [_number(scope.requests), _number(scope.tokens), _number(scope.concurrent)]
        return await self._script(keys=keys, args=args, client=client)

    async def acquire(
        self, scopes: Sequence[Scope], ticket: str, tokens: int, window: float, lease: float
    ) -> Refusal | None:
        reply = await self._run("acquire", scopes, ticket, tokens, window, lease)
        if not reply:
            return None
        number, limit, retry_in = reply
        return Refusal(scopes[int(number) - 1], str(limit), float(retry_in) if retry_in else None)

    async def release(self, scopes: Sequence[Scope], ticket: str) -> None:
        await self._run("release", scopes, ticket)

    async def settle(self, scopes: Sequence[Scope], ticket: str, tokens: int) -> None:
        await self._run("settle", scopes, ticket, tokens)

    async def hold(self, scope: Scope, seconds: float) -> None:
        await self._run("hold", [scope], seconds=seconds)

    async def renew(self, leases: Sequence[tuple[Sequence[Scope], str]], lease: float) -> None:
        """Every lease in one pipeline (one round trip)."""
        async with self._client.pipeline(transaction=False) as pipe:
            for scopes, ticket in leases:
                await self._run("renew", scopes, ticket, lease=lease, client=pipe)
            await pipe.execute()

    async def in_use(self, scope: Scope) -> int:
        """Slots of ``scope`` held now (expired leases not counted)."""
        slots = self.keys_for(scope)[2]
        return int(await self._client.zcount(slots, f"({time.time():.6f}", "+inf"))

    async def aclose(self) -> None:
        await close_store_client(self._connection)


def _number(value: float | None) -> str:
    return "" if value is None else repr(float(value))
