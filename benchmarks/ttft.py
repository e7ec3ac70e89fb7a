"""Time to first chunk: the raw SDK against each ``@llm_stream`` variant, for each provider.

The fake provider server runs in a process of its own and answers every request with
``--chunks`` chunks (20: a short answer, since only its start is timed). For each provider
every variant of ``streams.py`` (the raw SDK, ``@llm_stream``, ``@llm_stream_with_metadata``
and, for each kind with a fast parser, ``@llm_stream`` with ``parser: fast``) streams a few
answers to warm up (imports, connections, first-call caches); then ``--samples`` rounds run
each variant once, in an order that alternates from round to round. A sample is the time from
the call to the first text chunk in the consumer's hands (the stream is then read to its end,
so that the connection goes back to the pool). Each round's figure for a variant is the
difference to the raw SDK's sample of the same round, which takes out whatever the machine
was doing at the time; the table gives their median and 90th percentile in milliseconds.
Target: at most 1 ms over the raw SDK.

    python benchmarks/ttft.py [--samples 300] [--chunks 20]
"""

from __future__ import annotations

import argparse
import asyncio
import math
import statistics
import time
from dataclasses import dataclass

from streams import (
    RAW,
    Streamer,
    close_raw_clients,
    make_dispatcher,
    make_variants,
    start_server,
    stop_server,
)

#: The target: a variant's median time to first chunk over the raw SDK's, in milliseconds.
TARGET_MS = 1.0


@dataclass(frozen=True)
class FirstChunk:
    """One row: a variant's time to first chunk, in milliseconds, and its difference to
    the raw SDK's, round by round."""

    provider: str
    variant: str
    samples: int
    median_ms: float
    p90_ms: float
    diff_median_ms: float
    diff_p90_ms: float


def percentile(values: list[float], q: float) -> float:
    """The ``q`` quantile (0-1) of ``values``, nearest rank."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


async def first_chunk(run: Streamer) -> float:
    """Seconds from the call to the first chunk the consumer receives."""
    start = time.perf_counter()
    n, first = await run()
    if not n:
        raise RuntimeError("the stream ended without a chunk")
    return first - start


async def measure_ttft(samples: int, chunks: int = 20) -> list[FirstChunk]:
    """Print the table and return its rows, provider by provider, ``raw SDK`` first."""
    proc, url = start_server(chunks)
    rows: list[FirstChunk] = []
    try:
        dispatcher = make_dispatcher(url)
        variants = make_variants(url, dispatcher)
        print(
            f"time to first chunk, {samples} interleaved rounds, {chunks}-chunk answers; "
            f"ms, difference to the raw SDK in the same round (target ≤ +{TARGET_MS:g} ms)\n"
        )
        print(
            f"{'provider':<10} {'variant':<27} {'median':>8} {'p90':>8} "
            f"{'Δ median':>9} {'Δ p90':>8}"
        )
        for provider in variants[RAW]:
            runs = {
                v: streamers[provider] for v, streamers in variants.items() if provider in streamers
            }
            for _ in range(3):
                for run in runs.values():
                    await first_chunk(run)
            times: dict[str, list[float]] = {v: [] for v in runs}
            diffs: dict[str, list[float]] = {v: [] for v in runs}
            for r in range(samples):
                order = list(runs) if r % 2 == 0 else list(reversed(runs))
                taken = {v: await first_chunk(runs[v]) for v in order}
                for variant, seconds in taken.items():
                    times[variant].append(seconds * 1e3)
                    diffs[variant].append((seconds - taken[RAW]) * 1e3)
            for variant in runs:
                row = FirstChunk(
                    provider,
                    variant,
                    samples,
                    statistics.median(times[variant]),
                    percentile(times[variant], 0.9),
                    statistics.median(diffs[variant]),
                    percentile(diffs[variant], 0.9),
                )
                rows.append(row)
                print(
                    f"{provider:<10} {variant:<27} {row.median_ms:8.3f} {row.p90_ms:8.3f} "
                    f"{row.diff_median_ms:+9.3f} {row.diff_p90_ms:+8.3f}"
                )
        await dispatcher.aclose()
        await close_raw_clients()
    finally:
        stop_server(proc)
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--samples", type=int, default=300, help="rounds of every variant")
    parser.add_argument("--chunks", type=int, default=20, help="chunks per answer")
    args = parser.parse_args()
    asyncio.run(measure_ttft(args.samples, args.chunks))
