"""Per-chunk overhead of ``@llm_stream`` against the raw SDK, for each provider.

The fake provider server runs in its own process, answering every request with 2,000 chunks.
For each provider the raw SDK stream and the same stream through ``@llm_stream`` (and
``@llm_stream_with_metadata``; for each provider whose kind has a fast parser also
``@llm_stream`` with ``parser: fast``, the library reading the raw body itself) are run
interleaved, several rounds, in this one process. Two ratios are printed: wall time, and this
process's CPU time. CPU time is the honest one: the server's work happens elsewhere, so the
client's CPU seconds are exactly what the SDK, and the dispatcher on top of it, cost.

With ``--instructions`` it counts instructions instead, under valgrind's callgrind, which
repeats to well under 1% where times vary by several percent (see ``instructions.py``);
``--chunks`` is then N, 200 unless given, and each stream runs once with N and once with 2N
chunks.

With ``--observed`` every stream runs with the observability on
(:func:`llm_dispatch.observability.instrument`: spans, GenAI metrics and Prometheus metrics
into in-memory exporters of the OpenTelemetry SDK and a registry of their own); the raw SDK
rows are not observed. ``observability.py`` compares off and on interleaved.

    python benchmarks/overhead.py [--chunks 2000] [--rounds 7] [--observed]
    python benchmarks/overhead.py --instructions [--chunks 200] [--jobs 2]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
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


@dataclass(frozen=True)
class Overhead:
    """One row of the table: medians of one stream's wall and CPU seconds, and their ratios
    to the raw SDK's stream of the same provider."""

    provider: str
    variant: str
    chunks: int
    wall: float
    cpu: float
    wall_ratio: float
    cpu_ratio: float

    @property
    def cpu_us_per_chunk(self) -> float:
        return self.cpu / self.chunks * 1e6


async def measure(run: Streamer) -> tuple[float, float, int]:
    wall, cpu = time.perf_counter(), time.process_time()
    n, _ = await run()
    return time.perf_counter() - wall, time.process_time() - cpu, n


async def measure_overhead(chunks: int, rounds: int) -> list[Overhead]:
    """Print the table and return its rows, provider by provider, ``raw SDK`` first."""
    proc, url = start_server(chunks)
    rows: list[Overhead] = []
    try:
        dispatcher = make_dispatcher(url)
        variants = make_variants(url, dispatcher)
        print(f"{chunks} chunks per stream, {rounds} rounds, interleaved; medians\n")
        print(
            f"{'provider':<10} {'variant':<27} {'wall ms':>9} {'cpu ms':>9} "
            f"{'cpu µs/chunk':>13} {'wall ×':>7} {'cpu ×':>7}"
        )
        for provider in variants[RAW]:
            runs = {
                v: streamers[provider] for v, streamers in variants.items() if provider in streamers
            }
            for run in runs.values():  # warm up: imports, connections
                await run()
            samples: dict[str, list[tuple[float, float]]] = {v: [] for v in runs}
            for r in range(rounds):
                order = list(runs) if r % 2 == 0 else list(reversed(runs))
                for variant in order:
                    wall, cpu, n = await measure(runs[variant])
                    assert n >= chunks - 1, f"{variant}/{provider} streamed {n} chunks"
                    samples[variant].append((wall, cpu))
            base_wall = statistics.median(w for w, _ in samples[RAW])
            base_cpu = statistics.median(c for _, c in samples[RAW])
            for variant, values in samples.items():
                wall = statistics.median(w for w, _ in values)
                cpu = statistics.median(c for _, c in values)
                row = Overhead(
                    provider, variant, chunks, wall, cpu, wall / base_wall, cpu / base_cpu
                )
                rows.append(row)
                print(
                    f"{provider:<10} {variant:<27} {wall * 1e3:9.1f} {cpu * 1e3:9.1f} "
                    f"{row.cpu_us_per_chunk:13.1f} {row.wall_ratio:7.3f} {row.cpu_ratio:7.3f}"
                )
        await dispatcher.aclose()
        await close_raw_clients()
    finally:
        stop_server(proc)
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--chunks", type=int, default=None, help="2000; 200 with --instructions")
    parser.add_argument("--rounds", type=int, default=None, help="7 (not with --instructions)")
    parser.add_argument(
        "--instructions", action="store_true", help="count instructions under callgrind"
    )
    parser.add_argument(
        "--jobs", type=int, default=None, help="callgrind processes at a time: 2 (--instructions)"
    )
    parser.add_argument(
        "--observed", action="store_true", help="with the observability on (not --instructions)"
    )
    args = parser.parse_args()
    if args.instructions and args.observed:
        parser.error("--observed times streams; --instructions counts without it")
    if args.observed:
        from observability import observe_in_memory

        observe_in_memory()
    if args.instructions and args.rounds is not None:
        parser.error("--rounds times streams; --instructions runs each stream once")
    if not args.instructions and args.jobs is not None:
        parser.error("--jobs is for --instructions")
    if args.instructions:
        from instructions import count_instructions

        sys.exit(count_instructions(args.chunks or 200, args.jobs or 2))
    asyncio.run(measure_overhead(args.chunks or 2000, args.rounds or 7))
