"""A ProgressTracker never given to a call follows the stream most recently started in the
task that made it (seed 004's samples read such a tracker), over real provider streams."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from llm_dispatch import llm_stream
from llm_dispatch.streaming import CompletionLengths, ProgressStatus, ProgressTracker
from llm_dispatch.testing import FakeProviderServer, Script


def words(n: int) -> list[str]:
    return [f"w{i:02d} " for i in range(n)]


def writer(dispatcher: Any, **options: Any) -> Any:
    @llm_stream(dispatcher=dispatcher, providers=["openai"], **options)
    async def write(prompt: str) -> Any:
        yield "unused"

    return write


async def test_unattached_tracker_follows_the_stream_its_task_iterates(
    fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    fake_server.enqueue(Script(chunks=words(20), usage=(3, 20)))
    write = writer(make_dispatcher(), progress_tracker=ProgressTracker(lengths=CompletionLengths()))
    tracker = ProgressTracker()  # never given to a call, as in the seed's sample
    assert not tracker.attached
    readings: list[float] = []
    async with asyncio.timeout(10):
        stream = write("Write a detailed analysis")
        async for _ in stream:
            readings.append(tracker.get_progress())
    assert len(readings) == 20
    assert all(r > 0 for r in readings)
    assert readings == sorted(readings) and readings[-1] < 100
    # The figures are the stream's own, and the end is seen too.
    assert tracker.get_progress() == 100.0
    assert tracker.status is ProgressStatus.DONE
    assert stream.progress is not None and tracker.snapshot() == stream.progress


async def test_unattached_tracker_moves_to_the_next_stream_of_its_task(
    fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    fake_server.enqueue(Script(chunks=words(4)))
    fake_server.enqueue(Script(chunks=words(6)))
    write = writer(make_dispatcher())  # no tracker on the call at all
    tracker = ProgressTracker()
    async with asyncio.timeout(10):
        async for _ in write("first"):
            pass
        assert tracker.chunk_count == 4
        second = write("second")
        async for _ in second:
            break
        assert tracker.chunk_count == 1 and tracker.status is ProgressStatus.STREAMING
        await second.aclose()


async def test_unattached_tracker_ignores_streams_of_other_tasks(
    fake_server: FakeProviderServer, make_dispatcher: Any, caplog: pytest.LogCaptureFixture
) -> None:
    fake_server.enqueue(Script(chunks=words(5)))
    write = writer(make_dispatcher())
    tracker = ProgressTracker()

    async def elsewhere() -> None:
        async for _ in write("in another task"):
            pass

    async with asyncio.timeout(10):
        await asyncio.create_task(elsewhere())
    with caplog.at_level(logging.WARNING, logger="llm_dispatch"):
        assert tracker.get_progress() == 0.0
        assert tracker.status is ProgressStatus.WAITING
    # Reading a tracker that follows nothing says so, once.
    warnings = [r for r in caplog.records if getattr(r, "event", "") == "progress.follows_nothing"]
    assert len(warnings) == 1
    assert "never given to a call" in warnings[0].getMessage()


async def test_unattached_tracker_is_read_from_another_task(
    fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    # A poller in its own task (a progress display) reads the streams of the task that
    # made the tracker.
    fake_server.enqueue(Script(chunks=words(8)))
    write = writer(make_dispatcher())
    tracker = ProgressTracker()
    async with asyncio.timeout(10):
        async for _ in write("polled"):
            pass
        assert await asyncio.create_task(_read(tracker)) == 8


async def _read(tracker: ProgressTracker) -> int:
    return tracker.chunk_count


async def test_tracker_made_outside_a_task_follows_the_reading_task(
    fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    tracker = await asyncio.to_thread(ProgressTracker)  # made where no task runs
    fake_server.enqueue(Script(chunks=words(3)))
    write = writer(make_dispatcher())
    async with asyncio.timeout(10):
        async for _ in write("read here"):
            pass
    assert tracker.chunk_count == 3


async def test_attached_tracker_follows_only_its_calls(
    fake_server: FakeProviderServer, make_dispatcher: Any, caplog: pytest.LogCaptureFixture
) -> None:
    dispatcher = make_dispatcher()
    tracker = ProgressTracker()
    mine = writer(dispatcher, progress_tracker=tracker)
    other = writer(dispatcher)
    assert tracker.attached
    fake_server.enqueue(Script(chunks=words(5)))
    fake_server.enqueue(Script(chunks=words(2)))
    async with asyncio.timeout(10):
        async for _ in other("not followed"):
            pass
        assert tracker.chunk_count == 0 and tracker.current is None
        async for _ in mine("followed"):
            pass
    assert tracker.chunk_count == 2
    assert not [r for r in caplog.records if getattr(r, "event", "") == "progress.follows_nothing"]
