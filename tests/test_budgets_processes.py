"""One budget shared by three OS processes through the real Redis: each process
(tests/budget_worker.py) builds its own dispatcher against this test's fake provider
server and makes its calls at once; together they never pass the cap, counted both by
what the fake server served and by the spend settled in Redis.

Heavy: starting three Python processes that import the provider SDKs takes a while on a
busy two-core machine. The same race between two connections of one process is in
test_budgets_redis.py, in the default run."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from redis.asyncio import Redis

from llm_dispatch import Dispatcher
from llm_dispatch.testing import FakeProviderServer, Script

try:
    from budget_fixtures import budget_config
    from cache_fixtures import REDIS_URL, redis_is_up
except ImportError:  # tests/ imported as a package
    from tests.budget_fixtures import budget_config
    from tests.cache_fixtures import REDIS_URL, redis_is_up

pytestmark = [
    pytest.mark.heavy,
    pytest.mark.redis,
    pytest.mark.timeout(240),
    pytest.mark.skipif(not redis_is_up(), reason="no Redis server on 127.0.0.1:6379"),
]

REPO = Path(__file__).resolve().parent.parent
WORKER = Path(__file__).resolve().parent / "budget_worker.py"
CAP = 0.1  # USD a day for the scope "shared"
CALLS = 8  # per process, all at once: 24 calls of 0.010 USD (estimated 0.011) for room for 9


@pytest.fixture
async def namespace() -> AsyncIterator[str]:
    ns = f"test-budget-{uuid.uuid4().hex[:12]}"
    yield ns
    client = Redis.from_url(REDIS_URL)
    keys = [k async for k in client.scan_iter(match=f"{{{ns}}}:*")]
    if keys:
        await client.unlink(*keys)
    await client.aclose()


async def test_three_processes_sharing_a_budget_never_pass_its_cap(
    fake_server: FakeProviderServer, namespace: str, clean_provider_env: None
) -> None:
    # Slow enough that calls of different processes hold their estimates at the same time.
    fake_server.default = Script(chunks=["a ", "b ", "c"], chunk_delay=0.05, usage=(5, 5))
    config = budget_config(
        fake_server,
        [{"scope": "shared", "per_day": CAP}],
        # A generous bound on each round trip: this test is about sharing, and a store that
        # does not answer in time would leave each process on its own counters.
        defaults={"budgets": {"store": REDIS_URL, "namespace": namespace, "store_timeout": 10}},
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    procs = [
        await asyncio.create_subprocess_exec(
            *(sys.executable, str(WORKER), json.dumps(config), str(CALLS)),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=REPO,
            env=env,
        )
        for _ in range(3)
    ]
    try:
        async with asyncio.timeout(120):
            for proc in procs:
                assert proc.stdout is not None
                line = (await proc.stdout.readline()).decode().strip()
                assert line == "ready", (await proc.stderr.read()).decode()[-3000:]  # type: ignore[union-attr]
            for proc in procs:
                assert proc.stdin is not None
                proc.stdin.write(b"go\n")
                await proc.stdin.drain()
            outputs = [await proc.communicate() for proc in procs]
    finally:
        for proc in procs:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()

    lines = [line for out, _ in outputs for line in out.decode().splitlines()]
    assert lines.count("done shared") == 3, outputs  # no process fell back on its own counters
    results = [line for line in lines if not line.startswith("done")]
    costs = [float(line.split()[1]) for line in results if line.startswith("ok ")]
    refused = [line for line in results if line == "refused scope shared"]
    assert len(costs) + len(refused) == 3 * CALLS, [
        r for r in results if not r.startswith(("ok", "refused"))
    ]
    # Every call the processes saw succeed was one request the provider served, and the
    # cap was reached (some calls were refused) but never passed.
    assert len(fake_server.requests) == len(costs)
    assert refused and costs
    assert sum(costs) <= CAP
    # The spend settled in Redis is what the calls cost, nothing held any more.
    reader = Dispatcher(config)
    try:
        [status] = await reader.budgets.status(scope="shared")
    finally:
        await reader.aclose()
    print(
        f"\nserved {len(costs)} calls, refused {len(refused)}; settled {status.spent_usd:.6f}"
        f" of {CAP} USD"
    )
    assert status.spent_usd == pytest.approx(sum(costs))
    assert status.spent_usd <= CAP and status.reserved_usd == 0
