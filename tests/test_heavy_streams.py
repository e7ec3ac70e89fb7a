"""Many streams in one process, and consumers leaving at random points: nothing is left
behind. File descriptors and asyncio tasks return to their baseline once the dispatcher is
closed, every answer arrives whole, and the fake server records every disconnect."""

from __future__ import annotations

import asyncio
import os
import random
import resource
import time
from typing import Any

import pytest

from llm_dispatch import StreamingCallbacks, llm_stream
from llm_dispatch.testing import FakeProviderServer, Script

pytestmark = pytest.mark.heavy

KINDS = ["openai", "anthropic", "google"]
#: Deadlines far above what 500 streams at once on a busy 2-core machine take.
ROOMY = {"timeouts": {"first_token": 60, "idle": 30, "total": 240}}


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def rss_mib() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def other_tasks() -> int:
    return len(asyncio.all_tasks() - {asyncio.current_task()})


async def settled(fds: int, tasks: int, within: float = 15.0) -> tuple[int, int]:
    """Wait until the fds and tasks are back to the baseline (closed sockets take a moment
    on the server's side); returns the last counts."""
    deadline = time.monotonic() + within
    while True:
        now = (open_fds(), other_tasks())
        if (now[0] <= fds and now[1] <= tasks) or time.monotonic() > deadline:
            return now
        await asyncio.sleep(0.1)


def asker(dispatcher: Any, target: str, callbacks: Any = None) -> Any:
    @llm_stream(dispatcher=dispatcher, providers=[target], callbacks=callbacks, timeout=240)
    async def ask(prompt: str) -> Any:
        yield "unused"

    return ask


@pytest.mark.timeout(600)
async def test_500_streams_of_200_chunks_leave_nothing_behind(
    fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    streams, chunks = 500, [f"c{j} " for j in range(200)]
    fake_server.default = Script(chunks=chunks)
    fds, tasks, rss_before = open_fds(), other_tasks(), rss_mib()
    dispatcher = make_dispatcher(defaults=ROOMY)
    await dispatcher.warm_up()
    asks = [asker(dispatcher, kind) for kind in KINDS]

    async def one(i: int) -> str:
        async with asyncio.timeout(300):
            return "".join([c async for c in asks[i % len(asks)](f"question {i}")])

    started = time.monotonic()
    peak_fds = 0

    async def watch() -> None:
        nonlocal peak_fds
        while True:
            peak_fds = max(peak_fds, open_fds())
            await asyncio.sleep(0.05)

    watcher = asyncio.create_task(watch())
    texts = await asyncio.gather(*(one(i) for i in range(streams)))
    wall = time.monotonic() - started
    watcher.cancel()
    await asyncio.gather(watcher, return_exceptions=True)
    rss_after = rss_mib()
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    assert texts == ["".join(chunks)] * streams
    assert len(fake_server.requests) == streams
    assert all(r.completed for r in fake_server.requests)
    await dispatcher.aclose()
    left_fds, left_tasks = await settled(fds, tasks)
    print(
        f"\nload: {streams} concurrent streams x {len(chunks)} chunks in {wall:.1f} s; "
        f"RSS {rss_before:.0f} -> {rss_after:.0f} MiB (process peak {peak_rss:.0f} MiB); "
        f"fds {fds} -> peak {peak_fds} -> {left_fds} after close; "
        f"tasks {tasks} -> {left_tasks} after close"
    )
    assert left_fds <= fds, f"{left_fds - fds} file descriptors left open"
    assert left_tasks <= tasks, f"{left_tasks - tasks} asyncio tasks left running"


@pytest.mark.timeout(600)
async def test_consumers_leaving_at_random_points_leave_nothing_behind(
    fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    rng = random.Random(7)
    streams, length = 150, 100
    chunks = [f"w{j} " for j in range(length)]
    fds, tasks = open_fds(), other_tasks()
    dispatcher = make_dispatcher(defaults=ROOMY)
    await dispatcher.warm_up()
    # (stream, provider, how the consumer leaves, after how many chunks)
    plan = [
        (i, KINDS[i % 3], rng.choice(["cancel", "break", "aclose"]), rng.randint(1, length // 2))
        for i in range(streams)
    ]
    for i, kind, _, _ in plan:
        # Slow enough that no answer can end before its consumer leaves.
        fake_server.enqueue(Script(chunks=chunks, chunk_delay=0.02), provider=kind, model=f"m{i}")
    errors: dict[int, list[dict[str, Any]]] = {i: [] for i in range(streams)}
    ends: dict[int, int] = dict.fromkeys(range(streams), 0)

    async def one(i: int, kind: str, how: str, at: int) -> str:
        def on_error(exc: BaseException, metadata: dict[str, Any]) -> None:
            errors[i].append(metadata)

        def on_end(metadata: dict[str, Any]) -> None:
            ends[i] += 1

        callbacks = StreamingCallbacks(on_error=on_error, on_stream_end=on_end)
        stream = asker(dispatcher, f"{kind}/m{i}", callbacks)(f"question {i}")
        received: list[str] = []
        reached = asyncio.Event()

        async def consume() -> None:
            async for chunk in stream:
                received.append(chunk)
                if len(received) == at:
                    if how == "break":
                        break
                    if how == "aclose":
                        await stream.aclose()
                        return
                    reached.set()

        async with asyncio.timeout(120):
            if how == "cancel":
                task = asyncio.create_task(consume())
                await reached.wait()
                task.cancel()
                with pytest.raises(asyncio.CancelledError):
                    await task
            else:
                await consume()
        return "".join(received)

    texts = await asyncio.gather(*(one(*item) for item in plan))

    by_model = {r.model: r for r in fake_server.requests}
    assert len(by_model) == streams
    for (i, _, how, at), text in zip(plan, texts, strict=True):
        where = f"stream {i} ({how} after {at})"
        assert text == "".join(chunks[:at]) or (
            how == "cancel" and "".join(chunks).startswith(text) and len(text) >= at
        ), where
        request = by_model[f"m{i}"]
        await request.wait_done(30)
        assert request.disconnected and not request.completed, where
        assert ends[i] == 0 and len(errors[i]) == 1, where
        assert errors[i][0]["cancelled"] is True, where
    await dispatcher.aclose()
    left_fds, left_tasks = await settled(fds, tasks)
    counts = {how: sum(1 for p in plan if p[2] == how) for how in ("cancel", "break", "aclose")}
    print(
        f"\ncancellation: {streams} streams left at random chunks ({counts}); every "
        f"disconnect recorded; fds {fds} -> {left_fds}, tasks {tasks} -> {left_tasks}"
    )
    assert left_fds <= fds, f"{left_fds - fds} file descriptors left open"
    assert left_tasks <= tasks, f"{left_tasks - tasks} asyncio tasks left running"
