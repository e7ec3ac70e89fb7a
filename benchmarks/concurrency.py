"""Many streams at once in one process: the raw SDK against each ``@llm_stream`` variant.

``--streams`` (500) concurrent streams of ``--chunks`` (200) chunks, for each provider: the
raw SDK, ``@llm_stream`` and, for each kind with a fast parser, ``@llm_stream`` with
``parser: fast`` (the variants of ``streams.py`` but ``@llm_stream_with_metadata``, whose
extra cost per chunk ``overhead.py`` measures). The fake provider server runs in
``--servers`` processes of its own (4), the streams spread over them in turn, so that the
server is not what limits the client. Each load runs in a fresh client process (this file,
run with ``--client``): it builds the clients, streams one answer per server to warm up,
and says ``ready``; on ``go`` it starts every stream at once and reports its CPU seconds
and wall time for the load, each stream's time from the call to its first chunk, and its
peak resident memory over what it held before the load (the kernel's high-water mark,
reset at ``ready``). A fresh process per load keeps one load's memory out of the next one's
figures. The loads run ``--rounds`` (3) times in an order that alternates from round to
round; the table gives medians.

The server's own CPU seconds over the load's wall time are printed as "server load": near
1.0, a server process was busy all the time and the client waited for it, and the figures
say as much about the server as about the client. Target: ``@llm_stream`` with
``parser: fast`` at most half the raw SDK's CPU on the same load.

    python benchmarks/concurrency.py [--streams 500] [--chunks 200] [--rounds 3] [--servers 4]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from typing import Any

from streams import (
    FAST,
    METADATA,
    RAW,
    close_raw_clients,
    make_dispatcher,
    make_variants,
    start_server,
    stop_server,
    variant_providers,
)

#: The target: the fast parser's CPU seconds over the raw SDK's on the same load.
TARGET_CPU_RATIO = 0.5
#: Deadlines far above what many streams at once on a busy 2-core machine take.
ROOMY_SECONDS = 300.0
ROOMY = {"timeouts": dict.fromkeys(("connect", "first_token", "idle"), ROOMY_SECONDS)}
_TICKS = os.sysconf("SC_CLK_TCK")
#: The fake server's listening backlog: aiohttp's default.
BACKLOG = 128


@dataclass(frozen=True)
class Load:
    """One row: medians over the rounds of one provider's variant under the load."""

    provider: str
    variant: str
    streams: int
    chunks: int
    cpu: float  # this process's CPU seconds for the load
    wall: float
    ttft_median_ms: float
    ttft_p90_ms: float
    rss_mib: float  # peak resident memory over the process's before the load
    server_load: float  # the busiest server process's CPU seconds over the wall time
    accept_queue: int  # the longest queue of connections a server had not yet accepted
    cpu_ratio: float  # to the raw SDK's CPU seconds on the same load


# The client, one load in a process of its own.


def _status_kib(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def _reset_peak_rss() -> bool:
    """Reset the kernel's high-water mark of this process's resident memory."""
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
    except OSError:
        return False
    return True


async def client(urls: list[str], provider: str, variant: str, streams: int) -> None:
    dispatchers = [make_dispatcher(url, defaults=ROOMY) for url in urls]
    runs = [
        make_variants(url, dispatcher, ROOMY_SECONDS)[variant][provider]
        for url, dispatcher in zip(urls, dispatchers, strict=True)
    ]
    for run in runs:
        await run()
    gc.collect()
    before = _status_kib("VmRSS")
    reset = _reset_peak_rss()
    print("ready", flush=True)
    if sys.stdin.readline().strip() != "go":
        raise SystemExit("expected 'go' on stdin")

    async def one(i: int) -> tuple[int, float]:
        start = time.perf_counter()
        n, first = await runs[i % len(runs)]()
        return n, first - start

    wall, cpu = time.perf_counter(), time.process_time()
    done = await asyncio.gather(*(one(i) for i in range(streams)))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    peak = _status_kib("VmHWM") if reset else _status_kib("VmRSS")
    result = {
        "cpu": cpu,
        "wall": wall,
        "chunks": [n for n, _ in done],
        "ttft": [seconds for _, seconds in done],
        "rss_kib": peak - before,
    }
    print(json.dumps(result), flush=True)
    for dispatcher in dispatchers:
        await dispatcher.aclose()
    await close_raw_clients()


# The driver.


def _cpu_seconds(pid: int) -> float:
    """User and system CPU seconds of process ``pid`` so far."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS


class AcceptQueues(threading.Thread):
    """Watches the servers' listening sockets in the kernel's table of TCP sockets for the
    longest queue of connections not yet accepted. Past :data:`BACKLOG` the queue is full:
    the kernel drops a new connection's first packet, which the client sends again a second
    or more later."""

    def __init__(self, ports: set[int]) -> None:
        super().__init__(daemon=True)
        self.ports = ports
        self.peak = 0
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.wait(0.02):
            self.poll()

    def poll(self) -> None:
        with open("/proc/net/tcp") as table:
            next(table)
            for line in table:
                fields = line.split()
                if fields[3] != "0A" or int(fields[1].rsplit(":", 1)[1], 16) not in self.ports:
                    continue
                queued = fields[4].split(":")[1]  # listening: the accept queue's length
                self.peak = max(self.peak, int(queued, 16))

    def stop(self) -> None:
        self._done.set()
        self.join()


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(q * len(ordered) + 0.999999) - 1)]


def run_load(
    urls: list[str], server_pids: list[int], provider: str, variant: str, streams: int, chunks: int
) -> dict[str, Any]:
    """One load in a fresh client process; its figures and the busiest server's load."""
    command = [sys.executable, __file__, "--client", "--urls", ",".join(urls)]
    command += ["--provider", provider, "--variant", variant, "--streams", str(streams)]
    proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert proc.stdin is not None and proc.stdout is not None
    try:
        line = proc.stdout.readline()
        if line.strip() != "ready":
            raise RuntimeError(f"{provider}/{variant}: the client said {line!r}")
        queues = AcceptQueues({int(url.rsplit(":", 1)[1]) for url in urls})
        queues.start()
        before = [_cpu_seconds(pid) for pid in server_pids]
        proc.stdin.write("go\n")
        proc.stdin.flush()
        line = proc.stdout.readline()
        after = [_cpu_seconds(pid) for pid in server_pids]
        queues.stop()
        if not line:
            raise RuntimeError(f"{provider}/{variant}: the client exited {proc.wait()}")
        result: dict[str, Any] = json.loads(line)
        if proc.wait(timeout=60) != 0:
            raise RuntimeError(f"{provider}/{variant}: the client exited {proc.returncode}")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    short = [n for n in result["chunks"] if n < chunks - 1]
    if short:
        raise RuntimeError(f"{provider}/{variant}: {len(short)} streams ended short: {short[:5]}")
    result["server_load"] = max(b - a for a, b in zip(before, after, strict=True)) / result["wall"]
    result["accept_queue"] = queues.peak
    return result


def measure_concurrency(streams: int, chunks: int, rounds: int, servers: int) -> list[Load]:
    """Print the table and return its rows, provider by provider, ``raw SDK`` first."""
    started = [start_server(chunks) for _ in range(servers)]
    urls = [url for _, url in started]
    pids = [proc.pid for proc, _ in started]
    loads = [
        (provider, variant)
        for variant, providers in variant_providers().items()
        if variant != METADATA
        for provider in providers
    ]
    samples: dict[tuple[str, str], list[dict[str, Any]]] = {load: [] for load in loads}
    try:
        for r in range(rounds):
            for load in loads if r % 2 == 0 else reversed(loads):
                samples[load].append(run_load(urls, pids, *load, streams, chunks))
    finally:
        for proc, _ in started:
            stop_server(proc)
    print(
        f"{streams} concurrent streams x {chunks} chunks in one process, {servers} server "
        f"processes, {rounds} rounds interleaved; medians\n"
    )
    print(
        f"{'provider':<10} {'variant':<27} {'cpu s':>7} {'wall s':>7} {'ttft ms':>8} "
        f"{'p90 ms':>8} {'rss MiB':>8} {'server':>7} {'cpu ×':>6}"
    )
    rows: list[Load] = []
    for provider in variant_providers()[RAW]:
        base = statistics.median(s["cpu"] for s in samples[provider, RAW])
        for provider_, variant in loads:
            if provider_ != provider:
                continue
            got = samples[provider, variant]
            cpu = statistics.median(s["cpu"] for s in got)
            row = Load(
                provider,
                variant,
                streams,
                chunks,
                cpu,
                statistics.median(s["wall"] for s in got),
                statistics.median(statistics.median(s["ttft"]) * 1e3 for s in got),
                statistics.median(_quantile(s["ttft"], 0.9) * 1e3 for s in got),
                statistics.median(s["rss_kib"] for s in got) / 1024,
                statistics.median(s["server_load"] for s in got),
                max(s["accept_queue"] for s in got),
                cpu / base,
            )
            rows.append(row)
            print(
                f"{provider:<10} {variant:<27} {row.cpu:7.2f} {row.wall:7.2f} "
                f"{row.ttft_median_ms:8.1f} {row.ttft_p90_ms:8.1f} {row.rss_mib:8.1f} "
                f"{row.server_load:7.2f} {row.cpu_ratio:6.3f}"
            )
    print(
        f"\nservers: CPU over wall at most {max(row.server_load for row in rows):.2f}; "
        f"accept queue at most {max(row.accept_queue for row in rows)} (full past {BACKLOG})"
    )
    for row in rows:
        if row.variant == FAST:
            verdict = "met" if row.cpu_ratio <= TARGET_CPU_RATIO else "not met"
            print(
                f"{row.provider}: parser: fast uses {row.cpu_ratio:.2f} x the raw SDK's CPU "
                f"(target ≤ {TARGET_CPU_RATIO:g}): {verdict}"
            )
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--streams", type=int, default=500)
    parser.add_argument("--chunks", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--servers", type=int, default=4, help="fake server processes")
    parser.add_argument("--client", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--urls", help=argparse.SUPPRESS)
    parser.add_argument("--provider", help=argparse.SUPPRESS)
    parser.add_argument("--variant", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:
        asyncio.run(client(args.urls.split(","), args.provider, args.variant, args.streams))
    else:
        measure_concurrency(args.streams, args.chunks, args.rounds, args.servers)
