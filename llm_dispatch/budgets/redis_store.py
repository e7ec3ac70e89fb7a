"""Budget counters shared through Redis by every process that uses the same server.

Each counter is one hash: field ``spent`` (settled nano-USD) and one field per live hold,
``h:<token>`` = ``<amount>:<hold until, epoch ms>``. A reservation is one Lua script over
every counter it concerns (check them all, then hold on all, or refuse and hold nothing),
a settlement another; Redis runs a script without interleaving another client's commands,
so processes cannot both pass a cap that only one of them fits under. The keys share the
namespace as hash tag (``{llm_dispatch:budget}:...``), so a script's keys are in one
cluster slot. Each key expires a while after its window ended (``Counter.expires_at``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..redis_client import close_store_client, store_client
from .store import BudgetStore, Counter, Refusal, Tally

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["RedisBudgetStore"]

# Shared by both scripts: drop the lapsed holds of one key, return (spent, held).
_TALLY = """
local function tally(key, now)
  local spent, held = 0, 0
  local fields = redis.call('HGETALL', key)
  for j = 1, #fields, 2 do
    local name, value = fields[j], fields[j + 1]
    if name == 'spent' then
      spent = tonumber(value)
    elseif string.sub(name, 1, 2) == 'h:' then
      local sep = string.find(value, ':', 1, true)
      if tonumber(string.sub(value, sep + 1)) <= now then
        redis.call('HDEL', key, name)
      else
        held = held + tonumber(string.sub(value, 1, sep - 1))
      end
    end
  end
  return spent, held
end
"""

# KEYS: the counters. ARGV: now (ms), token, amount, hold until (ms), then per key its cap
# and its expiry (epoch ms). Returns {0} when held, else {index (1-based), spent, held}.
_RESERVE = (
    _TALLY
    + """
local now = tonumber(ARGV[1])
local amount = tonumber(ARGV[3])
for i, key in ipairs(KEYS) do
  local spent, held = tally(key, now)
  if spent + held + amount > tonumber(ARGV[3 + 2 * i]) then
    return {i, spent, held}
  end
end
for i, key in ipairs(KEYS) do
  redis.call('HSET', key, 'h:' .. ARGV[2], ARGV[3] .. ':' .. ARGV[4])
  redis.call('PEXPIREAT', key, ARGV[4 + 2 * i])
end
return {0}
"""
)

# KEYS: the counters. ARGV: token, cost, then per key its expiry (epoch ms).
_SETTLE = """
for i, key in ipairs(KEYS) do
  redis.call('HDEL', key, 'h:' .. ARGV[1])
  if tonumber(ARGV[2]) > 0 then
    redis.call('HINCRBY', key, 'spent', ARGV[2])
    redis.call('PEXPIREAT', key, ARGV[2 + i])
  end
end
return 0
"""

# KEYS: the counters. ARGV: now (ms). Returns spent, held for each key in turn.
_READ = (
    _TALLY
    + """
local out = {}
for _, key in ipairs(KEYS) do
  local spent, held = tally(key, tonumber(ARGV[1]))
  table.insert(out, spent)
  table.insert(out, held)
end
return out
"""
)


def _ms(seconds: float) -> int:
    return int(seconds * 1000)


class RedisBudgetStore(BudgetStore):
    """Counters shared through Redis by every process using ``namespace``."""

    def __init__(
        self,
        url: str = "redis://127.0.0.1:6379/0",
        namespace: str = "llm_dispatch:budget",
        *,
        client: Redis | None = None,
    ) -> None:
        self._connection = store_client(url, client)
        client = self._connection.redis
        self.namespace = namespace
        self._client = client
        self._reserve = client.register_script(_RESERVE)
        self._settle = client.register_script(_SETTLE)
        self._read = client.register_script(_READ)

    def key_for(self, counter: Counter) -> str:
        """The Redis key of ``counter``."""
        return f"{{{self.namespace}}}:{counter.key}"

    async def reserve(
        self,
        counters: Sequence[Counter],
        token: str,
        amount: int,
        now: float,
        hold_until: float,
    ) -> Refusal | None:
        args: list[Any] = [_ms(now), token, amount, _ms(hold_until)]
        for counter in counters:
            args += [counter.cap, _ms(counter.expires_at)]
        reply = await self._reserve(keys=[self.key_for(c) for c in counters], args=args)
        if int(reply[0]) == 0:
            return None
        return Refusal(int(reply[0]) - 1, int(reply[1]), int(reply[2]))

    async def settle(self, counters: Sequence[Counter], token: str, cost: int) -> None:
        args: list[Any] = [token, cost, *(_ms(c.expires_at) for c in counters)]
        await self._settle(keys=[self.key_for(c) for c in counters], args=args)

    async def read(self, counters: Sequence[Counter], now: float) -> list[Tally]:
        if not counters:
            return []
        reply = await self._read(keys=[self.key_for(c) for c in counters], args=[_ms(now)])
        return [Tally(int(reply[i]), int(reply[i + 1])) for i in range(0, len(reply), 2)]

    async def aclose(self) -> None:
        await close_store_client(self._connection)
