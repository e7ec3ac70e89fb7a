"""The Redis side of shared flights: who leads a flight, and the stream it writes.

For a flight ``f`` of namespace ``ns``:

- ``{ns}:f:{f}`` (the *lease*) holds the token of the process leading it, with a time to
  live of ``flight_lease`` seconds that the leader keeps renewing; it is claimed with an
  atomic set-if-absent, so exactly one process leads;
- ``{ns}:f:{f}:{token}`` is that leader's Redis stream of records (:mod:`.flight_records`).
  It gets a time to live with its first record, refreshed with every write and renewal.

A leader writes only while it holds the lease (checked in the same script as the write), so
once the lease is gone nothing is added to its stream any more: a follower that finds the
lease gone has only to read what is left. After a complete end the lease stays for one more
lease time, so that a process arriving just then reads the finished stream instead of asking
the provider again; after a failed end it is deleted at once, so that a follower can lead.
Either way the stream expires two lease times after its end record.

Every call is bounded by the cache's ``backend_timeout`` (a blocking read by its block time
on top); errors are raised to :mod:`.shared_flight`, which falls back to the process's own
flight.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Coroutine, Sequence
from typing import Any, Literal

from .flight_records import FlightRecord, decode_record

__all__ = ["Final", "FlightBoard", "FlightLeaseLost"]

# Claim the lease when it is free; either way, return the token of whoever holds it.
_CLAIM = """
local holder = redis.call('GET', KEYS[1])
if holder then return holder end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return ARGV[1]
"""

# Append records and renew (or end) the lease, only while ARGV[1] holds it.
_PUBLISH = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
for i = 5, #ARGV, 2 do
  redis.call('XADD', KEYS[2], '*', 'k', ARGV[i], 'v', ARGV[i + 1])
end
if ARGV[4] == 'failed' then
  redis.call('DEL', KEYS[1])
else
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]))
end
redis.call('PEXPIRE', KEYS[2], tonumber(ARGV[3]))
return 1
"""

# Records read per round trip by a follower.
_READ_COUNT = 512

Final = Literal["", "done", "failed"]


class FlightLeaseLost(RuntimeError):
    """A leader found its lease gone (it was not renewed in time) and stopped publishing."""


def _text(value: bytes | str | None) -> str | None:
    return value.decode("utf-8") if isinstance(value, bytes) else value


class FlightBoard:
    """Shared flights on one Redis client (of one event loop)."""

    def __init__(
        self,
        client: Any,
        namespace: str,
        *,
        lease: float,
        timeout: float,
        on_error: Callable[[str, BaseException], None],
    ) -> None:
        self._client = client
        self._ns = namespace
        #: Seconds a lease lasts without renewal; the leader renews every third of it.
        self.lease = lease
        self.timeout = timeout
        #: How long a follower's read waits for a record before it checks the lease: below
        #: the client's socket timeout (``backend_timeout``), and a fraction of the lease.
        self.block = min(lease / 3, timeout / 2)
        self._on_error = on_error
        self._claim = client.register_script(_CLAIM)
        self._publish = client.register_script(_PUBLISH)
        self._tasks: set[asyncio.Task[None]] = set()

    def lease_key(self, flight: str) -> str:
        return f"{self._ns}:f:{flight}"

    def stream_key(self, flight: str, token: str) -> str:
        return f"{self._ns}:f:{flight}:{token}"

    def error(self, exc: BaseException) -> None:
        """Report a Redis failure (a throttled warning and an error count)."""
        self._on_error("flight", exc)

    async def claim(self, flight: str, token: str) -> str:
        """Lead ``flight`` with ``token`` if nobody does; the token of its leader."""
        async with asyncio.timeout(self.timeout):
            holder = await self._claim(
                keys=[self.lease_key(flight)], args=[token, int(self.lease * 1000)]
            )
        return _text(holder) or ""

    async def holder(self, flight: str) -> str | None:
        """The token of the process leading ``flight`` now, if any."""
        async with asyncio.timeout(self.timeout):
            return _text(await self._client.get(self.lease_key(flight)))

    async def publish(
        self, flight: str, token: str, records: Sequence[tuple[str, str]], final: Final
    ) -> bool:
        """Append ``records`` and renew the lease (``final``: end it); False when ``token``
        no longer holds the lease (nothing was written then)."""
        lease_ms = int(self.lease * 1000)
        args: list[str | int] = [token, lease_ms, 2 * lease_ms if final else 3 * lease_ms, final]
        for kind, value in records:
            args += [kind, value]
        async with asyncio.timeout(self.timeout):
            held = await self._publish(
                keys=[self.lease_key(flight), self.stream_key(flight, token)], args=args
            )
        return bool(held)

    async def read(
        self, flight: str, token: str, after: str, *, block: bool
    ) -> list[tuple[str, FlightRecord]]:
        """The records of leader ``token``'s stream after id ``after`` (``block``: waiting
        up to :attr:`block` seconds for one). Raises ``ValueError`` for an unknown record."""
        key = self.stream_key(flight, token)
        wait = max(1, int(self.block * 1000)) if block else None
        async with asyncio.timeout(self.timeout + (self.block if block else 0.0)):
            reply = await self._client.xread({key: after}, count=_READ_COUNT, block=wait)
        records: list[tuple[str, FlightRecord]] = []
        streams = reply.items() if isinstance(reply, dict) else (reply or ())
        for _, entries in streams:
            for entry_id, fields in entries:
                records.append((_text(entry_id) or after, decode_record(fields)))
        return records

    def start(self, work: Coroutine[Any, Any, None]) -> None:
        """Run ``work`` (a leader's publishing) in a task of its own, kept until done."""
        task = asyncio.get_running_loop().create_task(work, name="llm_dispatch:cache-flight")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self) -> None:
        """Give the publishing in progress ``backend_timeout`` to end, then stop it."""
        if not self._tasks:
            return
        tasks = set(self._tasks)
        _, pending = await asyncio.wait(tasks, timeout=self.timeout)
        for task in pending:
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(*pending, return_exceptions=True)
