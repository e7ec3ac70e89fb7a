"""What hedging costs a call whose first target answers in time: time to first chunk with
``hedge_after`` set (the hedge never goes out) against the same call without it.

The fake provider server runs in a process of its own and answers every request at once
with ``--chunks`` chunks. Each call goes to a route of two targets (OpenAI, then Anthropic,
both read with ``parser: fast``); with ``hedge_after`` the first target's attempt opens in a
task of its own under a timer that never fires. After a warm-up, ``--samples`` rounds run
both variants once, in an order that alternates from round to round; a round's figure is
the difference between the two, which takes out whatever the machine was doing then. The
output gives the median and 90th percentile of those differences in milliseconds, and the
median time to first chunk without hedging for scale.

    python benchmarks/hedging.py [--samples 400] [--chunks 20]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from streams import make_dispatcher, start_server, stop_server

from llm_dispatch import llm_stream

TARGETS = ["openai_fast", "anthropic_fast"]


def _streamer(dispatcher: Any, policy: dict[str, Any]) -> Callable[[str], AsyncIterator[str]]:
    @llm_stream(dispatcher=dispatcher, providers=TARGETS, policy=policy)
    async def answer(prompt: str) -> AsyncIterator[str]:
        yield "unused"

    return answer


async def _first_chunk(answer: Callable[[str], AsyncIterator[str]]) -> float:
    """Seconds from the call to its first chunk (the stream is then read to its end)."""
    started = time.perf_counter()
    first: float | None = None
    async for _ in answer("hi"):
        if first is None:
            first = time.perf_counter() - started
    assert first is not None
    return first


async def measure(url: str, samples: int) -> tuple[list[float], list[float]]:
    """Per round: (hedge_after set - off) and off, in milliseconds."""
    dispatcher = make_dispatcher(url)
    try:
        await dispatcher.warm_up(TARGETS)
        off = _streamer(dispatcher, {})
        on = _streamer(dispatcher, {"hedge_after": 30.0})
        for _ in range(30):
            await _first_chunk(off)
            await _first_chunk(on)
        differences: list[float] = []
        plain: list[float] = []
        for round_ in range(samples):
            if round_ % 2:
                without, with_ = await _first_chunk(off), await _first_chunk(on)
            else:
                with_, without = await _first_chunk(on), await _first_chunk(off)
            differences.append((with_ - without) * 1000)
            plain.append(without * 1000)
        return differences, plain
    finally:
        await dispatcher.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=400)
    parser.add_argument("--chunks", type=int, default=20)
    args = parser.parse_args()
    proc, url = start_server(args.chunks)
    try:
        differences, plain = asyncio.run(measure(url, args.samples))
    finally:
        stop_server(proc)
    differences.sort()
    p90 = differences[int(len(differences) * 0.9)]
    print(f"time to first chunk without hedging: median {statistics.median(plain):.3f} ms")
    print(
        f"hedge_after set, not firing, minus without: median "
        f"{statistics.median(differences):.3f} ms, p90 {p90:.3f} ms ({args.samples} rounds)"
    )


if __name__ == "__main__":
    main()
