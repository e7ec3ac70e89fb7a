"""Run every benchmark and write their figures into the benchmark page.

In order: the per-chunk cost (``overhead.py``: CPU and wall time, then instructions under
callgrind when valgrind is installed), the time to first chunk (``ttft.py``), many streams at
once (``concurrency.py``), the metadata embedding (``embedding.py``) and the cache
(``cache.py``). Each prints its own table as it goes. Then the page (``--out``,
``docs/benchmarks.md``) gets the figures as Markdown tables between two HTML comments,
replacing the ones there (the rest of the page is left as it is), and a chart of the CPU
figures next to it (``benchmarks.png``) unless ``--no-chart``.

    python benchmarks/run_all.py [--quick] [--out docs/benchmarks.md] [--no-chart]
                                 [--redis redis://127.0.0.1:6379/0]

``--quick`` runs every benchmark with few rounds and small sizes and counts no
instructions: a smoke run of a minute or two, whose figures say little.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import os
import platform
import sys
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The package of this checkout, here and in every process the benchmarks start.
sys.path.insert(0, str(ROOT))
os.environ["PYTHONPATH"] = os.pathsep.join(
    [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
)

from cache import measure_cache  # noqa: E402
from concurrency import measure_concurrency  # noqa: E402
from embedding import measure_embedding  # noqa: E402
from instructions import measure_instructions, missing_tools  # noqa: E402
from overhead import measure_overhead  # noqa: E402
from report import Results, render, splice  # noqa: E402
from ttft import measure_ttft  # noqa: E402

CHART = "benchmarks.png"


@dataclass(frozen=True)
class Sizes:
    """How much each benchmark runs."""

    chunks: int = 2000
    rounds: int = 7
    instruction_chunks: int = 200
    jobs: int = 2
    samples: int = 300
    first_chunks: int = 20
    streams: int = 500
    stream_chunks: int = 200
    load_rounds: int = 3
    servers: int = 4
    repeat: int = 300
    cache_sizes: tuple[int, ...] = (1_000, 10_000)
    lookups: int = 2_000
    replays: int = 200


QUICK = Sizes(
    chunks=200,
    rounds=2,
    samples=20,
    streams=20,
    stream_chunks=20,
    load_rounds=1,
    servers=1,
    repeat=20,
    cache_sizes=(100,),
    lookups=50,
    replays=20,
)


def machine() -> dict[str, str]:
    """What the figures were measured on."""
    model = "unknown"
    try:
        with open("/proc/cpuinfo") as info:
            model = next(
                line.split(":", 1)[1].strip() for line in info if line.startswith("model name")
            )
    except (OSError, StopIteration):
        pass
    sdks = ", ".join(
        f"{name} {metadata.version(name)}" for name in ("openai", "anthropic", "google-genai")
    )
    return {
        "CPUs": f"{os.cpu_count()} ({model})",
        "Python": f"{platform.python_version()} ({platform.system()} {platform.machine()})",
        "SDKs": sdks,
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


def load_average() -> str:
    one, five, _ = os.getloadavg()
    return f"{one:.1f} (5 min: {five:.1f})"


def run(sizes: Sizes, quick: bool, redis: str | None) -> Results:
    started = time.perf_counter()
    load_before = load_average()
    print("== per-chunk cost: CPU and wall time (overhead.py)", flush=True)
    overhead = asyncio.run(measure_overhead(sizes.chunks, sizes.rounds))
    missing = missing_tools()
    instructions = []
    if quick:
        note = "Instructions per chunk: not counted (`--quick`)."
    elif missing:
        note = f"Instructions per chunk: not counted ({' and '.join(missing)} not installed)."
    else:
        note = (
            f"Instructions per chunk: callgrind, one warm stream of {sizes.instruction_chunks} "
            f"and one of {2 * sizes.instruction_chunks} chunks, the difference per chunk."
        )
    print(f"\n== {note}" if quick or missing else "\n== instructions per chunk", flush=True)
    if not quick and not missing:
        instructions = measure_instructions(sizes.instruction_chunks, sizes.jobs)
    print("\n== time to first chunk (ttft.py)", flush=True)
    ttft = asyncio.run(measure_ttft(sizes.samples, sizes.first_chunks))
    print("\n== many streams at once (concurrency.py)", flush=True)
    loads = measure_concurrency(
        sizes.streams, sizes.stream_chunks, sizes.load_rounds, sizes.servers
    )
    print("\n== embedding (embedding.py)", flush=True)
    embedding = measure_embedding(sizes.repeat)
    print("\n== cache (cache.py)", flush=True)
    backends = ["memory", *([redis] if redis else [])]
    cache = asyncio.run(
        measure_cache(backends, list(sizes.cache_sizes), sizes.lookups, sizes.replays)
    )
    took = time.perf_counter() - started
    about = machine()
    about["load average"] = f"{load_before} at the start, {load_average()} at the end"
    about["run time"] = f"{took / 60:.1f} min"
    return Results(
        command="",
        machine=about,
        overhead=overhead,
        overhead_setup=(
            f"`overhead.py`: one stream of {sizes.chunks:,} chunks at a time, {sizes.rounds} "
            "rounds of every variant interleaved, medians; × is the ratio to the raw SDK "
            "of the same provider in this run."
        ),
        instructions=instructions,
        instructions_note=note,
        ttft=ttft,
        ttft_setup=(
            f"`ttft.py`: {sizes.samples} interleaved rounds of {sizes.first_chunks}-chunk "
            "answers on warm connections, from the call to the first chunk the consumer "
            "receives; Δ is the difference to the raw SDK's sample of the same round. "
            "Target: Δ median ≤ +1 ms."
        ),
        concurrency=loads,
        concurrency_setup=(
            f"`concurrency.py`: {sizes.streams} concurrent streams × {sizes.stream_chunks} "
            f"chunks in one client process, a fresh one per load; {sizes.servers} fake "
            f"server process(es); {sizes.load_rounds} round(s) interleaved, medians. "
            "Server load: the busiest server process's CPU seconds over the wall time; "
            "accept queue: the most connections a server's listening socket held not yet "
            "accepted (full past 128: a connection then waits a second or more)."
        ),
        embedding=embedding,
        cache=cache,
        cache_setup=(
            f"`cache.py`: lookups in a cache of {', '.join(f'{n:,}' for n in sizes.cache_sizes)}"
            f" entries in one partition, {sizes.lookups:,} of each kind, median ms."
        ),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="few rounds, small sizes")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.md")
    parser.add_argument("--no-chart", action="store_true", help="draw no chart")
    parser.add_argument("--redis", metavar="URL", help="also run the cache benchmark on Redis")
    args = parser.parse_args()
    os.chdir(ROOT)
    command = "python benchmarks/run_all.py" + (" --quick" if args.quick else "")
    command += f" --redis {args.redis}" if args.redis else ""
    results = run(QUICK if args.quick else Sizes(), args.quick, args.redis)
    results.command = command
    out: Path = args.out
    if not args.no_chart:
        from chart import draw

        draw(results.overhead, results.concurrency, out.parent / CHART, results.machine["date"])
        results.chart = CHART
    page = out.read_text(encoding="utf-8") if out.exists() else "# Benchmarks\n"
    out.write_text(splice(page, render(results)), encoding="utf-8")
    print(f"\nwrote {out}" + ("" if args.no_chart else f" and {out.parent / CHART}"))


if __name__ == "__main__":
    main()
