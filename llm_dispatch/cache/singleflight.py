"""Single-flight streams: identical requests in flight at once share one producer.

The first consumer of a key starts the producer (the factory's async iterator) in a task of
its own; every item goes into a shared buffer. Each consumer, whenever it joined, replays
the buffer from the first item and then follows live, so every consumer sees the whole
stream. A consumer that stops early (break, cancel, timeout) only leaves: the producer goes
on while anyone still listens, and is cancelled and closed (``aclose``, which closes the
provider's connection) as soon as the last consumer leaves. An error of the producer is
raised to every consumer; a producer cancelled from outside while consumers still listen
raises :class:`~llm_dispatch.errors.SharedStreamCancelled` to them. The flight is
forgotten when it ends, so a later call starts afresh (and normally finds the answer in the
cache by then).

The producer runs in its own task precisely so that cancelling one consumer never throws
``CancelledError`` into the shared provider stream.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Hashable
from typing import Generic, TypeVar

from ..errors import SharedStreamCancelled

__all__ = ["SingleFlight"]

T = TypeVar("T")


class _Flight(Generic[T]):
    """One shared production: its buffer, its state and who listens."""

    __slots__ = ("buffer", "changed", "consumers", "done", "error", "task")

    def __init__(self) -> None:
        self.buffer: list[T] = []
        self.done = False
        self.error: BaseException | None = None
        self.consumers = 0
        self.changed = asyncio.Event()
        self.task: asyncio.Task[None] | None = None

    def wake(self) -> None:
        # set() resolves every current waiter; clear() re-arms the event for the next item.
        self.changed.set()
        self.changed.clear()


class SingleFlight(Generic[T]):
    """Shares one async iterator among the concurrent callers of the same key."""

    def __init__(self) -> None:
        self._flights: dict[Hashable, _Flight[T]] = {}

    def __len__(self) -> int:
        """Number of flights in progress."""
        return len(self._flights)

    def in_flight(self, key: Hashable) -> bool:
        return key in self._flights

    def listeners(self, key: Hashable) -> int:
        """Consumers currently attached to the flight of ``key`` (0 when none)."""
        flight = self._flights.get(key)
        return flight.consumers if flight else 0

    async def stream(
        self, key: Hashable, factory: Callable[[], AsyncIterator[T]]
    ) -> AsyncIterator[T]:
        """Iterate the shared stream of ``key``; ``factory`` runs only if none is in flight.

        Joining happens when iteration starts, so a stream object that is never iterated
        neither starts nor holds a producer.
        """
        flight = self._flights.get(key)
        if flight is None:
            flight = _Flight()
            self._flights[key] = flight
            flight.task = asyncio.create_task(
                self._produce(key, flight, factory), name=f"singleflight:{key!r}"
            )
        flight.consumers += 1
        position = 0
        try:
            while True:
                if position < len(flight.buffer):
                    item = flight.buffer[position]
                    position += 1
                    yield item
                    continue
                if flight.done:
                    if flight.error is not None:
                        raise flight.error
                    return
                await flight.changed.wait()
        finally:
            flight.consumers -= 1
            if flight.consumers == 0 and not flight.done:
                await self._abandon(key, flight)

    async def _abandon(self, key: Hashable, flight: _Flight[T]) -> None:
        """The last consumer left early: stop the producer and wait until it is closed."""
        if self._flights.get(key) is flight:
            # A caller arriving from now on starts a new flight instead of joining this one.
            del self._flights[key]
        task = flight.task
        if task is not None and not task.done():
            task.cancel()
            await asyncio.wait({task})

    async def _produce(
        self, key: Hashable, flight: _Flight[T], factory: Callable[[], AsyncIterator[T]]
    ) -> None:
        iterator: AsyncIterator[T] | None = None
        try:
            iterator = factory()
            async for item in iterator:
                flight.buffer.append(item)
                flight.wake()
        except asyncio.CancelledError:
            flight.error = SharedStreamCancelled(f"the shared stream {key!r} was cancelled")
            raise
        except Exception as exc:
            flight.error = exc
        finally:
            flight.done = True
            if self._flights.get(key) is flight:
                del self._flights[key]
            flight.wake()
            aclose = getattr(iterator, "aclose", None)
            if aclose is not None:
                # Closing is best effort: a generator that fails while closing must not
                # hide the outcome every consumer is waiting for.
                with contextlib.suppress(Exception):
                    await aclose()
