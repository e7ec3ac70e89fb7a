"""The seeded soak: 1,000 streams, 50 at a time, each with a random provider, fault and
mid-stream policy from a fixed seed, every one checked against the invariant of
reliability.py, with canary API keys that must show in no log record or error. Prints a
summary (completed, interrupted, failed by kind, wall time)."""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from typing import Any

import pytest
from faults import FAULTS
from reliability import (
    FALLBACK,
    FIRST_TOKEN,
    PROVIDERS,
    WHOLE,
    WIRE,
    check_invariant,
    policy_defaults,
    provider_entries,
    run_stream,
)

from llm_dispatch import StreamInterrupted
from llm_dispatch.testing import FakeProviderServer, Script

pytestmark = pytest.mark.heavy

SEED = 20261207
STREAMS = 1000
CONCURRENCY = 50
#: Faults that need a provider of their own (a closed port) are left to the matrix.
#: Deadlines for 50 streams at once on a busy machine, still below the faults' delays.
DEADLINE = FIRST_TOKEN * 3
SOAK_FAULTS = [name for name, fault in FAULTS.items() if not fault.refused]


@pytest.mark.timeout(900)
async def test_soak(
    fake_server: FakeProviderServer, make_dispatcher: Any, secret_canary: Any
) -> None:
    rng = random.Random(SEED)
    plan = [
        (i, rng.choice(PROVIDERS), rng.choice(SOAK_FAULTS), rng.choice(["raise", "continue"]))
        for i in range(STREAMS)
    ]
    entries = provider_entries(fake_server, secret_canary.keys)
    dispatchers = {
        policy: make_dispatcher(
            providers=entries, defaults=policy_defaults(policy, first_token=DEADLINE, idle=DEADLINE)
        )
        for policy in ("raise", "continue")
    }
    # Each stream asks for a model of its own, so that its scripts answer only it.
    for i, provider, fault, _ in plan:
        model = f"soak-{i}"
        key = secret_canary.keys[WIRE[provider]]
        fake_server.enqueue(*FAULTS[fault].scripts(key), provider=WIRE[provider], model=model)
        fake_server.enqueue(
            Script(text=WHOLE, continuation="follow"),
            provider=WIRE[FALLBACK[provider]],
            model=model,
        )
    # A request a script did not foresee (a retry after a deadline the load made an attempt
    # miss) is answered with the same answer: the invariant still makes it computable.
    fake_server.default = Script(text=WHOLE, continuation="follow")
    summary: Counter[str] = Counter()
    unexpected: list[str] = []
    slots = asyncio.Semaphore(CONCURRENCY)

    async def one(i: int, provider: str, fault: str, policy: str) -> None:
        async with slots:
            outcome = await run_stream(dispatchers[policy], provider, model=f"soak-{i}")
        where = f"stream {i}: {provider}, {fault}, mid_stream={policy}"
        try:
            check_invariant(outcome)
        except AssertionError as exc:
            raise AssertionError(f"{where}: {exc}") from None
        spec = FAULTS[fault]
        if outcome.error is None:
            summary["completed"] += 1
            if spec.fails is not None or (spec.mid_stream and policy == "raise"):
                unexpected.append(f"{where}: completed")
            return
        secret_canary.check(outcome.error)
        if isinstance(outcome.error, StreamInterrupted):
            summary["interrupted"] += 1
            # Under continue, only a continuation that failed on every target interrupts.
        else:
            summary[f"failed: {type(outcome.error).__name__}"] += 1
        if spec.fails is None and not (spec.mid_stream and policy == "raise"):
            unexpected.append(f"{where}: {type(outcome.error).__name__}: {outcome.error}")

    started = time.monotonic()
    async with asyncio.TaskGroup() as group:
        for item in plan:
            group.create_task(one(*item))
    wall = time.monotonic() - started

    print(
        f"\nsoak: {STREAMS} streams, concurrency {CONCURRENCY}, seed {SEED}: "
        + ", ".join(f"{k} {v}" for k, v in sorted(summary.items()))
        + f"; wall time {wall:.1f} s"
    )
    if unexpected:
        print(f"soak: {len(unexpected)} streams ended otherwise than their fault says:")
        print("\n".join(unexpected[:20]))
    assert sum(summary.values()) == STREAMS
    # The faults decide every outcome but the few a deadline missed under this load may
    # change (the invariant above held for those too).
    assert len(unexpected) <= STREAMS // 100, unexpected[:20]
