"""Limits shared by three OS processes through the real Redis: each process
(tests/limits_worker.py) builds its own dispatcher against this test's fake provider
server; the server's arrival times and its peak of streams at once say whether the
requests-per-window and concurrency limits held across the processes together.

Heavy: starting three Python processes that import the provider SDKs takes a while on a
busy two-core machine. The same sharing between two dispatchers of one process is tested in
test_limits_redis.py, in the default run."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis
from conftest import fake_providers

from llm_dispatch import llm_stream
from llm_dispatch.testing import FakeProviderServer, Script

try:
    from cache_fixtures import REDIS_URL, redis_is_up
except ImportError:  # tests/ imported as a package
    from tests.cache_fixtures import REDIS_URL, redis_is_up

pytestmark = [
    pytest.mark.heavy,
    pytest.mark.redis,
    pytest.mark.timeout(240),
    pytest.mark.skipif(not redis_is_up(), reason="no Redis server on 127.0.0.1:6379"),
]

REPO = Path(__file__).resolve().parent.parent
WORKER = Path(__file__).resolve().parent / "limits_worker.py"
PER_WINDOW = 5  # requests_per_minute 300 over the workers' one-second window
MAX_CONCURRENT = 2
CALLS = 8  # per process
# A request reaches the server some milliseconds after the limiter admitted it, more on a
# busy machine: arrivals are counted over a window this much shorter than the limiter's.
TRANSIT_SLACK = 0.25


@pytest.fixture
async def namespace() -> AsyncIterator[str]:
    ns = f"test-limits-{uuid.uuid4().hex[:12]}"
    yield ns
    client = aioredis.Redis.from_url(REDIS_URL)
    keys = [k async for k in client.scan_iter(match=f"{ns}:*")]
    if keys:
        await client.unlink(*keys)
    await client.aclose()


async def start_worker(
    providers: dict[str, Any], namespace: str, calls: int = CALLS, lease: float = 30.0
) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        *(sys.executable, str(WORKER), json.dumps(providers), namespace, str(calls), str(lease)),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )


async def line_of(proc: asyncio.subprocess.Process) -> str:
    assert proc.stdout is not None and proc.stderr is not None
    raw = await proc.stdout.readline()
    if not raw:
        err = (await proc.stderr.read()).decode()[-3000:]
        raise AssertionError(f"the worker ended early: {err}")
    return raw.decode().rstrip("\n")


async def test_three_processes_share_the_request_and_concurrency_limits(
    fake_server: FakeProviderServer, namespace: str
) -> None:
    fake_server.default = Script(chunks=["a ", "b ", "c ", "d"], chunk_delay=0.05)
    providers = fake_providers(fake_server)
    providers["openai"]["limits"] = {
        "requests_per_minute": PER_WINDOW * 60,
        "max_concurrent": MAX_CONCURRENT,
    }
    workers = [await start_worker(providers, namespace) for _ in range(3)]
    try:
        async with asyncio.timeout(120):
            assert await asyncio.gather(*(line_of(w) for w in workers)) == ["ready"] * 3
        for worker in workers:
            assert worker.stdin is not None
            worker.stdin.write(b"go\n")
            await worker.stdin.drain()
        async with asyncio.timeout(120):
            results = await asyncio.gather(*(line_of(w) for w in workers))
    finally:
        for worker in workers:
            if worker.returncode is None:
                worker.kill()
            await worker.wait()
    assert results == [f"done {json.dumps(['openai'] * CALLS)}"] * 3, results

    arrivals = sorted(r.received_at for r in fake_server.requests_for("openai"))
    assert len(arrivals) == 3 * CALLS
    busiest = max(
        sum(1 for t in arrivals if start <= t < start + 1.0 - TRANSIT_SLACK) for start in arrivals
    )
    span = arrivals[-1] - arrivals[0]
    print(
        f"\n{len(arrivals)} requests over {span:.2f}s; at most {busiest} within "
        f"{1.0 - TRANSIT_SLACK:g}s; peak streams at once: {fake_server.peak_in_flight}"
    )
    assert busiest <= PER_WINDOW
    assert fake_server.peak_in_flight <= MAX_CONCURRENT
    # 24 requests at 5 per sliding second: the last cannot arrive before 4 windows passed
    # after the first was admitted.
    assert span >= 4.0 - TRANSIT_SLACK


async def test_the_slot_of_a_killed_process_frees_itself_with_its_lease(
    fake_server: FakeProviderServer, namespace: str, make_dispatcher: Any
) -> None:
    # One chunk, then a gap far longer than the test: the worker holds its slot until killed.
    fake_server.enqueue(Script(chunks=["held ", "never"], chunk_delay=60), provider="openai")
    providers = fake_providers(fake_server)
    limits = {"max_concurrent": 1, "on_limit": "fallback"}
    providers["openai"]["limits"] = limits
    lease = 3.0  # renewed every second: it ends between 2 and 3 seconds after the kill
    worker = await start_worker(providers, namespace, calls=0, lease=lease)
    try:
        async with asyncio.timeout(120):
            assert await line_of(worker) == "ready"
            assert worker.stdin is not None
            worker.stdin.write(b"go\n")
            await worker.stdin.drain()
            assert await line_of(worker) == "streaming"
    finally:
        worker.kill()  # SIGKILL: nothing runs in the worker after this, no release
        await worker.wait()
    killed_at = asyncio.get_running_loop().time()

    shared = {"store": REDIS_URL, "namespace": namespace, "lease": lease}
    openai = {**fake_providers(fake_server)["openai"], "limits": limits}
    dispatcher = make_dispatcher(providers={"openai": openai}, defaults={"limits": shared})

    @llm_stream(dispatcher=dispatcher, providers=["openai", "anthropic"], timeout=20)
    async def ask(prompt: str):  # type: ignore[no-untyped-def]
        yield "unused"

    async def served_by(prompt: str) -> str:
        stream = ask(prompt)
        await stream.collect()
        return str(stream.provider)

    loop = asyncio.get_running_loop()
    asked_after = loop.time() - killed_at
    served = [await served_by("while the dead process's lease lasts")]
    await asyncio.sleep(max(0.0, killed_at + lease + 0.3 - loop.time()))
    served.append(await served_by("once it expired"))
    print(f"\nserved {served}; the first call started {asked_after:.2f}s after the kill")
    # The second call must reach openai: the dead process's slot freed itself. The first
    # went elsewhere, unless a very busy machine started it after the lease could end.
    assert served[1] == "openai"
    if asked_after < lease - lease / 3 - 0.2:
        assert served[0] == "anthropic"
