"""SingleFlight: concurrent identical streams share one producer."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest

from llm_dispatch.cache import SingleFlight


class Source:
    """A factory of slow async generators that records how it was used."""

    def __init__(self, items: int = 10, delay: float = 0.005, fail_at: int | None = None) -> None:
        self.items = items
        self.delay = delay
        self.fail_at = fail_at
        self.started = 0
        self.closed = 0
        self.produced = 0

    def __call__(self) -> AsyncIterator[str]:
        return self._run()

    async def _run(self) -> AsyncIterator[str]:
        self.started += 1
        try:
            for i in range(self.items):
                await asyncio.sleep(self.delay)
                if self.fail_at == i:
                    raise ConnectionError("provider dropped the stream")
                self.produced += 1
                yield f"chunk{i} "
        finally:
            self.closed += 1


async def drain(flight: SingleFlight[str], source: Source, key: str = "k") -> list[str]:
    return [item async for item in flight.stream(key, source)]


async def test_twenty_concurrent_consumers_share_one_producer() -> None:
    flight: SingleFlight[str] = SingleFlight()
    source = Source(items=20)
    results = await asyncio.gather(*(drain(flight, source) for _ in range(20)))
    assert source.started == 1
    expected = [f"chunk{i} " for i in range(20)]
    assert all(r == expected for r in results)
    assert len(flight) == 0  # forgotten once done


async def test_late_joiner_sees_the_stream_from_its_first_item() -> None:
    flight: SingleFlight[str] = SingleFlight()
    source = Source(items=10, delay=0.01)
    first = asyncio.create_task(drain(flight, source))
    await asyncio.sleep(0.055)  # about five items produced
    assert flight.in_flight("k") and source.produced >= 3
    late = await drain(flight, source)
    assert late == await first == [f"chunk{i} " for i in range(10)]
    assert source.started == 1


async def test_one_consumer_cancelling_does_not_stop_the_others() -> None:
    flight: SingleFlight[str] = SingleFlight()
    source = Source(items=10, delay=0.01)
    quitter = asyncio.create_task(drain(flight, source))
    stayers = [asyncio.create_task(drain(flight, source)) for _ in range(3)]
    await asyncio.sleep(0.035)
    quitter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await quitter
    results = await asyncio.gather(*stayers)
    assert all(r == [f"chunk{i} " for i in range(10)] for r in results)
    assert source.started == 1 and source.produced == 10


async def test_breaking_early_leaves_the_others_streaming() -> None:
    flight: SingleFlight[str] = SingleFlight()
    source = Source(items=6)

    async def take_two() -> list[str]:
        got: list[str] = []
        stream = flight.stream("k", source)
        async for item in stream:
            got.append(item)
            if len(got) == 2:
                break
        await stream.aclose()  # type: ignore[attr-defined]
        return got

    short, full = await asyncio.gather(take_two(), drain(flight, source))
    assert short == ["chunk0 ", "chunk1 "]
    assert len(full) == 6 and source.produced == 6


async def test_producer_is_closed_when_every_consumer_left() -> None:
    flight: SingleFlight[str] = SingleFlight()
    source = Source(items=1000, delay=0.01)
    consumers = [asyncio.create_task(drain(flight, source)) for _ in range(3)]
    await asyncio.sleep(0.035)
    for task in consumers:
        task.cancel()
    for task in consumers:
        with contextlib.suppress(asyncio.CancelledError):
            await task
    # The last consumer waits for the producer's close: nothing is left running.
    assert source.closed == 1
    assert source.produced < 1000
    assert len(flight) == 0
    produced = source.produced
    await asyncio.sleep(0.05)
    assert source.produced == produced


async def test_error_reaches_every_consumer() -> None:
    flight: SingleFlight[str] = SingleFlight()
    source = Source(items=10, fail_at=3)
    results = await asyncio.gather(
        *(drain(flight, source) for _ in range(5)), return_exceptions=True
    )
    assert all(isinstance(r, ConnectionError) for r in results)
    assert source.started == 1 and source.closed == 1
    assert len(flight) == 0


async def test_consumers_receive_items_before_the_error() -> None:
    flight: SingleFlight[str] = SingleFlight()
    source = Source(items=10, fail_at=3)
    got: list[str] = []
    with pytest.raises(ConnectionError):
        async for item in flight.stream("k", source):
            got.append(item)
    assert got == ["chunk0 ", "chunk1 ", "chunk2 "]


async def test_a_finished_flight_is_not_reused() -> None:
    flight: SingleFlight[str] = SingleFlight()
    source = Source(items=3)
    await drain(flight, source)
    await drain(flight, source)
    assert source.started == 2


async def test_different_keys_do_not_share() -> None:
    flight: SingleFlight[str] = SingleFlight()
    source = Source(items=3)
    await asyncio.gather(drain(flight, source, "a"), drain(flight, source, "b"))
    assert source.started == 2


async def test_a_stream_never_iterated_starts_nothing() -> None:
    flight: SingleFlight[str] = SingleFlight()
    source = Source(items=3)
    stream = flight.stream("k", source)
    await asyncio.sleep(0.01)
    assert source.started == 0 and len(flight) == 0
    del stream


async def test_listeners_are_counted() -> None:
    flight: SingleFlight[str] = SingleFlight()
    source = Source(items=5, delay=0.01)
    tasks = [asyncio.create_task(drain(flight, source)) for _ in range(4)]
    await asyncio.sleep(0.015)
    assert flight.listeners("k") == 4
    await asyncio.gather(*tasks)
    assert flight.listeners("k") == 0
