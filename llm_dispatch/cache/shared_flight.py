"""Single-flight across processes: identical calls share one provider stream through Redis.

:func:`shared_stream` is the producer of a process's own flight (:mod:`.singleflight`)
when the cache's backend is Redis. It claims the flight's lease (:mod:`.flight_board`):

- **Leader** (the claim succeeded): streams from the provider as a lone process would, and
  a publishing task of its own appends every event to the flight's Redis stream as it
  arrives (batched while Redis is slower than the provider, so the provider stream never
  waits for Redis), renews the lease every third of its time, and ends with a ``complete``
  or ``failed`` record. A leader whose local consumers all left ends the flight as failed.
- **Follower** (another process holds the lease): reads the leader's stream from its first
  record, live, yielding the same events. It never asks the provider.

When the leader fails (a ``failed`` record, or its lease expired because its process died,
which leaves no record), a follower that has yielded nothing claims the flight again: one
becomes the new leader, the others follow it, and their consumers see a clean miss. A
follower that has yielded events raises :class:`~llm_dispatch.errors.IncompleteStreamError`,
a mid-stream failure for the dispatcher's ``mid_stream`` policy; since every follower reads
the stream to its last record before giving up, they all hold the same text, and their
continuation requests (keyed by that text) share one flight in turn.

A Redis failure never fails the answer: it is reported (a throttled warning) and the
process streams on its own, as without shared flights: a leader streams on without
publishing (its followers then see its lease expire), a follower that has yielded nothing
asks the provider itself, and one that has yielded events fails mid-stream as above.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncGenerator, Callable
from contextlib import aclosing

from ..errors import IncompleteStreamError
from ..events import ProviderEvent
from .flight_board import Final, FlightBoard, FlightLeaseLost
from .flight_records import END, FAILED, FlightRecord, encode_event

__all__ = ["FlightLost", "Live", "shared_stream"]

#: Opens the provider stream (recorded when it is an answer to record).
Live = Callable[[], AsyncGenerator[ProviderEvent, None]]


class FlightLost(Exception):
    """The flight a follower read ended without completing (``redis``: Redis failed)."""

    def __init__(self, reason: str, *, redis: bool = False) -> None:
        super().__init__(reason)
        self.redis = redis


async def shared_stream(
    board: FlightBoard,
    flight: str,
    live: Live,
    *,
    provider: str,
    model: str,
    on_follow: Callable[[], None] | None = None,
) -> AsyncGenerator[ProviderEvent, None]:
    """The events of ``flight``: from ``live()`` when this process leads it, else from the
    leader's Redis stream (``on_follow`` is called before the first event followed)."""
    while True:
        token = secrets.token_hex(8)
        try:
            holder = await board.claim(flight, token)
        except Exception as exc:
            board.error(exc)
            holder = ""
        if holder in (token, ""):
            async with aclosing(_lead(board, flight, token, live) if holder else live()) as lead:
                async for event in lead:
                    yield event
            return
        delivered = False
        try:
            async with aclosing(_follow(board, flight, holder)) as follow:
                async for event in follow:
                    if not delivered and on_follow is not None:
                        on_follow()
                    delivered = True
                    yield event
            return
        except FlightLost as lost:
            if delivered:
                raise IncompleteStreamError(
                    f"the process leading this shared stream stopped: {lost}",
                    provider=provider,
                    model=model,
                ) from lost
            if lost.redis:
                async with aclosing(live()) as alone:
                    async for event in alone:
                        yield event
                return
            # A clean miss: claim the flight again (one follower leads, the others follow).


async def _lead(
    board: FlightBoard, flight: str, token: str, live: Live
) -> AsyncGenerator[ProviderEvent, None]:
    publisher = _Publisher(board, flight, token)
    reason = "cancelled"
    try:
        async with aclosing(live()) as events:
            async for event in events:
                publisher.add(event)
                yield event
        reason = ""
    except Exception as exc:
        reason = type(exc).__name__
        raise
    finally:
        publisher.end(reason)


class _Publisher:
    """Appends a leader's events to its stream and renews its lease, in a task of its own."""

    def __init__(self, board: FlightBoard, flight: str, token: str) -> None:
        self._board, self._flight, self._token = board, flight, token
        self._pending: list[tuple[str, str]] = []
        self._final: Final = ""
        self._stopped = False
        self._wake = asyncio.Event()
        board.start(self._run())

    def add(self, event: ProviderEvent) -> None:
        if not self._stopped:
            self._pending.append(encode_event(event))
            self._wake.set()

    def end(self, failure: str) -> None:
        """The provider stream ended: completed (``failure`` empty) or failed."""
        self._pending.append((FAILED, failure) if failure else (END, ""))
        self._final = "failed" if failure else "done"
        self._wake.set()

    async def _run(self) -> None:
        board = self._board
        while True:
            try:
                async with asyncio.timeout(board.lease / 3):
                    await self._wake.wait()
            except TimeoutError:
                pass  # nothing to append: renew the lease
            self._wake.clear()
            records, self._pending = self._pending, []
            final = self._final
            try:
                held = await board.publish(self._flight, self._token, records, final)
            except Exception as exc:
                board.error(exc)
                held = False
            else:
                if not held:
                    board.error(FlightLeaseLost("a shared flight's lease ended before renewal"))
            if not held:
                self._stopped = True
                self._pending.clear()
                return
            if final:
                return


async def _follow(
    board: FlightBoard, flight: str, token: str
) -> AsyncGenerator[ProviderEvent, None]:
    """The events of leader ``token``'s stream; raises :class:`FlightLost` unless it ends
    complete."""
    after, leader_gone = "0-0", False
    while True:
        try:
            records = await board.read(flight, token, after, block=not leader_gone)
            if not records and not leader_gone:
                # Nothing new for a while: is the leader still there?
                leader_gone = await board.holder(flight) != token
                continue
        except Exception as exc:  # the Redis client's errors, a timeout, an unknown record
            board.error(exc)
            raise FlightLost(type(exc).__name__, redis=True) from exc
        if not records:
            # The lease is gone, so the leader can add nothing more: this was all of it.
            raise FlightLost("its lease ended before the stream did")
        for entry_id, record in records:
            after = entry_id
            event = _event_of(record)
            if event is None:
                return
            yield event


def _event_of(record: FlightRecord) -> ProviderEvent | None:
    """The record's event; None at a complete end; raises :class:`FlightLost` at a failed one."""
    if record.end == "complete":
        return None
    if record.end == "failed":
        raise FlightLost(f"its provider stream failed ({record.reason or 'no reason given'})")
    assert record.event is not None
    return record.event
