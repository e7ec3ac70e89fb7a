"""Single-flight across OS processes: each process (tests/shared_flight_worker.py) builds its
own dispatcher and cache on the real Redis, against this test's fake provider server; the
server's request count says how many provider streams the processes needed between them.

Heavy: starting three Python processes that import the provider SDKs takes most of half a
minute on a busy two-core machine. The same sharing between separate caches of one process
is tested in test_cache_shared_flight.py, in the default run."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis
from conftest import fake_providers

from llm_dispatch.testing import FakeProviderServer, Script

try:
    from cache_fixtures import REDIS_URL, redis_is_up, unique_namespace
except ImportError:  # tests/ imported as a package
    from tests.cache_fixtures import REDIS_URL, redis_is_up, unique_namespace

pytestmark = [
    pytest.mark.heavy,
    pytest.mark.redis,
    pytest.mark.timeout(240),
    pytest.mark.skipif(not redis_is_up(), reason="no Redis server on 127.0.0.1:6379"),
]

REPO = Path(__file__).resolve().parent.parent
WORKER = Path(__file__).resolve().parent / "shared_flight_worker.py"
ANSWER = " ".join(f"w{i}" for i in range(40)) + "."
LEASE = 2.0  # seconds a dead leader holds its flight: short, with room for a busy machine


class Worker:
    """One worker process and what it printed."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.chunks: list[str] = []
        self.result: str | None = None
        self.finished_at = 0.0

    async def line(self) -> str:
        assert self.proc.stdout is not None
        raw = await self.proc.stdout.readline()
        if not raw:
            assert self.proc.stderr is not None
            err = (await self.proc.stderr.read()).decode()[-3000:]
            raise AssertionError(f"the worker ended early: {err}")
        return raw.decode().rstrip("\n")

    async def go(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(b"go\n")
        await self.proc.stdin.drain()

    async def next_chunk(self) -> None:
        """Read until one more chunk (or the end) was printed."""
        line = await self.line()
        kind, _, value = line.partition(" ")
        if kind == "chunk":
            self.chunks.append(json.loads(value))
        elif kind == "text":
            self.result = json.loads(value)
            self.finished_at = time.monotonic()
        else:
            raise AssertionError(f"the worker failed: {line}")

    async def finish(self) -> str:
        while self.result is None:
            await self.next_chunk()
        await self.proc.wait()
        return self.result


@pytest.fixture
async def namespace() -> AsyncIterator[str]:
    ns = unique_namespace()
    yield ns
    client = aioredis.Redis.from_url(REDIS_URL)
    keys = [k async for k in client.scan_iter(match=f"{ns}:*")]
    if keys:
        await client.unlink(*keys)
    await client.aclose()


@pytest.fixture
async def spawn(fake_server: FakeProviderServer, namespace: str) -> AsyncIterator[Any]:
    providers = json.dumps(fake_providers(fake_server))
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    workers: list[Worker] = []

    async def start(prompt: str) -> Worker:
        proc = await asyncio.create_subprocess_exec(
            *(sys.executable, str(WORKER), providers, namespace, str(LEASE), prompt),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=REPO,
            env=env,
        )
        worker = Worker(proc)
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        if worker.proc.returncode is None:
            worker.proc.kill()
            await worker.proc.wait()


async def until(condition: Callable[[], bool]) -> None:
    """Wait until ``condition()`` holds (the fake server's state has no event to wait on)."""
    while True:
        if condition():
            return
        await asyncio.sleep(0.01)


async def ready(workers: list[Worker]) -> None:
    """Wait until every worker has imported, connected and warmed up (on a busy machine,
    Python and the SDKs take a while to import)."""
    async with asyncio.timeout(90):
        lines = await asyncio.gather(*(w.line() for w in workers))
    assert lines == ["ready"] * len(workers)


async def test_three_processes_asking_at_once_make_one_provider_request(
    spawn: Any, fake_server: FakeProviderServer
) -> None:
    fake_server.enqueue(Script(text=ANSWER, chunk_delay=0.04), provider="openai")
    workers = [await spawn("Three processes, one answer") for _ in range(3)]
    await ready(workers)
    await asyncio.gather(*(w.go() for w in workers))
    async with asyncio.timeout(60):
        texts = await asyncio.gather(*(w.finish() for w in workers))
    print(f"\nthree processes printed {texts!r}; provider requests: {len(fake_server.requests)}")
    assert texts == [ANSWER] * 3
    assert len(fake_server.requests) == 1


async def test_the_leader_killed_mid_stream_is_continued_once_for_its_followers(
    spawn: Any, fake_server: FakeProviderServer
) -> None:
    fake_server.enqueue(Script(text=ANSWER, chunk_delay=0.1), provider="openai")
    fake_server.enqueue(
        Script(text=ANSWER, continuation="follow", chunk_delay=0.01), provider="anthropic"
    )
    prompt = "Killed halfway, continued once"
    leader, *followers = [await spawn(prompt) for _ in range(3)]
    await ready([leader, *followers])
    await leader.go()
    async with asyncio.timeout(30):
        await until(lambda: bool(fake_server.requests) and fake_server.requests[0].chunks_sent >= 4)
        await asyncio.gather(*(f.go() for f in followers))
        # Each follower has delivered part of the answer: now the leader dies.
        await asyncio.gather(*(f.next_chunk() for f in followers))
    assert fake_server.requests[0].chunks_sent < len(ANSWER.split())
    leader.proc.kill()
    killed_at = time.monotonic()
    # Noticing takes the lease (LEASE) plus a read's block; the continuation is quick.
    async with asyncio.timeout(LEASE + 30):
        texts = await asyncio.gather(*(f.finish() for f in followers))
    recovered = max(f.finished_at for f in followers) - killed_at
    print(
        f"\nfollowers printed {texts!r} ({recovered:.1f} s after the kill); provider "
        f"requests: {[(r.provider, r.partial_answer is not None) for r in fake_server.requests]}"
    )
    assert texts == [ANSWER] * 2
    assert all("".join(f.chunks) == ANSWER for f in followers)  # nothing twice, nothing lost
    openai, *rest = fake_server.requests
    assert openai.provider == "openai" and openai.partial_answer is None
    # One continuation, asked by one follower for both, from the text both delivered.
    assert [r.provider for r in rest] == ["anthropic"]
    partial = rest[0].partial_answer
    assert partial and ANSWER.startswith(partial) and len(partial) < len(ANSWER)
