"""What a budget check costs a call: one reservation and one settlement, per attempt.

    .venv/bin/python benchmarks/budgets.py                          # in-process counters
    .venv/bin/python benchmarks/budgets.py --store redis://127.0.0.1:6379/0

A dispatcher with three caps over one attempt (its provider per day and per month, its
scope per day) reserves the attempt's estimate (the prompt's tokens estimated, the output
priced at ``max_tokens``) and settles it, ``--rounds`` times; the mean time of the pair is
printed. A call without budgets pays nothing: no budget, no wrapper around opening.
The Redis keys are written under a namespace of their own and deleted afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid
from typing import Any

from llm_dispatch import Dispatcher
from llm_dispatch.attempt import Attempt
from llm_dispatch.budgets import BUDGET_SCOPE
from llm_dispatch.policies.timeouts import Watchdog
from llm_dispatch.providers.base import ModelPrice
from llm_dispatch.request import Message, Request
from llm_dispatch.routing.target import Target
from llm_dispatch.run import Run

PRICE = {"input": 0.15, "output": 0.60}


async def measure(store: str, rounds: int) -> float:
    """Mean seconds of one reserve + settle on ``store``."""
    namespace = f"bench-budget-{uuid.uuid4().hex[:8]}"
    config: dict[str, Any] = {
        "providers": {
            "openai": {
                "kind": "openai",
                "api_key": "unused",
                "default_model": "gpt-4o-mini",
                "prices": {"gpt-4o-mini": PRICE},
            }
        },
        "budgets": [
            {"provider": "openai", "per_day": 1e6, "per_month": 1e7},
            {"scope": "*", "per_day": 1e6},
        ],
        "defaults": {"budgets": {"store": store, "namespace": namespace}},
    }
    dispatcher = Dispatcher(config)
    budgets = dispatcher.budgets
    request = Request(
        messages=(Message(role="user", content="Write a haiku about spending. " * 10),),
        max_tokens=200,
    )
    ctx = dispatcher.new_context(request)
    ctx.values[BUDGET_SCOPE] = "tenant-a"
    run = Run(ctx, (), dispatcher.config.defaults, Watchdog(None))
    target = Target("openai", "gpt-4o-mini", price=ModelPrice(**PRICE))
    provider = dispatcher.provider("openai")  # never opened: only its attempt is held
    attempt = Attempt(run, target, provider, request, dispatcher.config.defaults.timeouts, 0)
    try:
        for _ in range(max(rounds // 10, 10)):  # warm: connections, scripts loaded
            held = await budgets.reserve(attempt)
            assert held is not None
            await budgets.settle(held, 1e-6)
        started = time.perf_counter()
        for _ in range(rounds):
            held = await budgets.reserve(attempt)
            assert held is not None
            await budgets.settle(held, 1e-6)
        return (time.perf_counter() - started) / rounds
    finally:
        if store != "memory":
            from redis.asyncio import Redis

            client = Redis.from_url(store)
            keys = [k async for k in client.scan_iter(match=f"{{{namespace}}}:*")]
            if keys:
                await client.unlink(*keys)
            await client.aclose()
        await dispatcher.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", default="memory", help="memory or a redis:// URL")
    parser.add_argument("--rounds", type=int, default=2000)
    args = parser.parse_args()
    seconds = asyncio.run(measure(args.store, args.rounds))
    where = "memory" if args.store == "memory" else "redis"
    print(f"{where}: {seconds * 1e6:,.0f} µs per reserve + settle (3 caps), {args.rounds} rounds")


if __name__ == "__main__":
    main()
