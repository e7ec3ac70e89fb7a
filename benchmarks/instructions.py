"""Instructions per chunk of the raw SDK and each ``@llm_stream`` variant of ``streams.py``.

``python benchmarks/overhead.py --instructions`` runs :func:`count_instructions`: the fake
server runs natively in two processes of its own (N chunks per answer, and 2N), and for each
provider and variant the client side (this file, run as a script) runs twice under valgrind's
callgrind, once against each server. The client starts with instrumentation off (valgrind
alone makes Python ~7x slower, callgrind ~35x), builds the dispatcher and the SDK clients,
streams one answer as a warm-up (imports, the connection, first-call caches), and says
``ready``; :func:`count_instructions` switches instrumentation on with ``callgrind_control``,
the client streams one answer and says ``streamed K``, instrumentation is switched off and
the client exits. So each count covers one warm stream, and the difference of the two counts,
divided by N, is the instructions one chunk costs: whatever a stream costs once (the request,
the response's head, the end) is in both counts and cancels. The server's work is in neither.

Instruction counts do not depend on the machine's load, so the figures repeat to well under
1% where CPU times vary by several percent; they are not times (a cache miss costs more than
an add), but they are the same code's work, and the ratios are what to compare.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import select
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from streams import (
    FAST,
    METADATA,
    MODELS,
    RAW,
    STREAM,
    make_dispatcher,
    make_variants,
    start_server,
    stop_server,
    variant_providers,
)

# The client's --variant values and the names make_variants gives them.
VARIANTS = {"raw": RAW, "llm_stream": STREAM, "metadata": METADATA, "fast": FAST}
# A client under callgrind that has not finished by then is killed (a few minutes is usual).
CLIENT_TIMEOUT = 1200.0


def total_ir(text: str) -> int:
    """The total ``Ir`` (instructions executed) of a callgrind out file's ``text``.

    The file names its events on an ``events:`` line; ``totals:`` (or, without it,
    ``summary:``) holds one count per event, trailing zeros left out.
    """
    events: list[str] | None = None
    totals: list[str] | None = None
    summary: list[str] | None = None
    for line in text.splitlines():
        key, _, rest = line.partition(":")
        if key == "events":
            events = rest.split()
        elif key == "totals":
            totals = rest.split()
        elif key == "summary":
            summary = rest.split()
    values = totals if totals is not None else summary
    if events is None or values is None:
        raise ValueError("not a callgrind out file: no events: line, or no totals:/summary:")
    if "Ir" not in events:
        raise ValueError(f"callgrind counted no Ir (events: {' '.join(events)})")
    index = events.index("Ir")
    return int(values[index]) if index < len(values) else 0


# The client side, run under valgrind.


def _wait_for(word: str) -> None:
    # callgrind_control reaches the process through valgrind's gdbserver, which a process
    # blocked in a system call hears only if vgdb may ptrace it; one that wakes every 50 ms
    # hears it either way.
    while not select.select([sys.stdin], [], [], 0.05)[0]:
        pass
    line = sys.stdin.readline().strip()
    if line != word:
        raise SystemExit(f"expected {word!r} on stdin, got {line!r}")


async def client(url: str, provider: str, variant: str) -> None:
    dispatcher = make_dispatcher(url)
    run = make_variants(url, dispatcher)[VARIANTS[variant]][provider]
    await run()
    print(f"ready {os.getpid()}", flush=True)
    _wait_for("go")
    n, _ = await run()
    print(f"streamed {n}", flush=True)
    _wait_for("stop")
    await dispatcher.aclose()


# The driver, run natively.


@dataclass(frozen=True)
class Job:
    provider: str
    variant: str
    chunks: int
    url: str


def _control(pid: int, state: str) -> None:
    done = subprocess.run(
        ["callgrind_control", f"--instr={state}", str(pid)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    if done.returncode != 0 or "OK" not in done.stdout:
        raise RuntimeError(f"callgrind_control --instr={state} {pid}: {done.stdout}{done.stderr}")


def run_job(job: Job, out_dir: Path) -> int:
    """The instructions one warm stream of ``job`` costs the client, counted by callgrind."""
    stem = out_dir / f"{job.provider}-{job.variant}-{job.chunks}"
    out, log = stem.with_suffix(".out"), stem.with_suffix(".log")
    command = [
        "valgrind",
        "--tool=callgrind",
        "--instr-atstart=no",
        f"--callgrind-out-file={out}",
        f"--log-file={log}",
        sys.executable,
        __file__,
        f"--url={job.url}",
        f"--provider={job.provider}",
        f"--variant={job.variant}",
    ]
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    proc = subprocess.Popen(
        command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env
    )
    watchdog = threading.Timer(CLIENT_TIMEOUT, proc.kill)
    watchdog.start()
    assert proc.stdin is not None and proc.stdout is not None

    def expect(word: str) -> str:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line.startswith(word + " "):
            proc.kill()
            proc.wait()
            tail = log.read_text()[-2000:] if log.exists() else ""
            raise RuntimeError(f"{job}: expected {word!r}, got {line!r}\n{tail}")
        return line.split()[1]

    def send(word: str) -> None:
        assert proc.stdin is not None
        proc.stdin.write(word + "\n")
        proc.stdin.flush()

    try:
        pid = int(expect("ready"))
        _control(pid, "on")
        send("go")
        n = int(expect("streamed"))
        _control(pid, "off")
        send("stop")
        code = proc.wait()
    finally:
        watchdog.cancel()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    if code != 0:
        raise RuntimeError(f"{job}: the client exited {code}\n{log.read_text()[-2000:]}")
    if n < job.chunks - 1:
        raise RuntimeError(f"{job}: streamed {n} chunks of {job.chunks}")
    return total_ir(out.read_text())


@dataclass(frozen=True)
class Instructions:
    """One row of the table: the instructions one warm stream of N and of 2N chunks cost."""

    provider: str
    variant: str
    chunks: int
    ir_n: int
    ir_2n: int
    ratio: float  # per chunk, to the raw SDK's of the same provider

    @property
    def per_chunk(self) -> float:
        return (self.ir_2n - self.ir_n) / self.chunks

    @property
    def fixed(self) -> float:
        return self.ir_n - self.per_chunk * self.chunks


def missing_tools() -> list[str]:
    """The valgrind programs this mode needs that are not on the PATH."""
    return [tool for tool in ("valgrind", "callgrind_control") if shutil.which(tool) is None]


def measure_instructions(chunks: int, jobs: int) -> list[Instructions]:
    """Count every provider's every variant, print the table and return its rows."""
    started = time.perf_counter()
    servers = []
    variants = variant_providers()
    try:
        urls: dict[int, str] = {}
        for n in (chunks, 2 * chunks):
            proc, urls[n] = start_server(n)
            servers.append(proc)
        todo = [
            Job(provider, variant, n, urls[n])
            for provider in MODELS
            for variant, name in VARIANTS.items()
            if provider in variants[name]
            for n in (chunks, 2 * chunks)
        ]
        with (
            tempfile.TemporaryDirectory(prefix="callgrind-") as tmp,
            ThreadPoolExecutor(jobs) as pool,
        ):
            results = list(pool.map(lambda job: run_job(job, Path(tmp)), todo))
    finally:
        for proc in servers:
            stop_server(proc)
    ir = {(j.provider, j.variant, j.chunks): c for j, c in zip(todo, results, strict=True)}
    print(
        f"callgrind, the client process only: one warm stream of N={chunks} and one of "
        f"{2 * chunks} chunks;\nIr/chunk = (Ir(2N) - Ir(N)) / N, fixed = Ir(N) - N * Ir/chunk\n"
    )
    print(
        f"{'provider':<10} {'variant':<27} {'Ir (N)':>13} {'Ir (2N)':>13} "
        f"{'Ir/chunk':>10} {'fixed Ir':>11} {'×':>7}"
    )
    rows: list[Instructions] = []
    for provider in MODELS:
        base = (ir[provider, "raw", 2 * chunks] - ir[provider, "raw", chunks]) / chunks
        for variant, name in VARIANTS.items():
            if (provider, variant, chunks) not in ir:
                continue
            one, two = ir[provider, variant, chunks], ir[provider, variant, 2 * chunks]
            row = Instructions(provider, name, chunks, one, two, (two - one) / chunks / base)
            rows.append(row)
            print(
                f"{provider:<10} {name:<27} {one:13,d} {two:13,d} {row.per_chunk:10,.0f} "
                f"{row.fixed:11,.0f} {row.ratio:7.3f}"
            )
    took = time.perf_counter() - started
    print(f"\n{len(todo)} callgrind runs, {jobs} at a time: {took:.0f} s")
    return rows


def count_instructions(chunks: int, jobs: int) -> int:
    """Print the instructions-per-chunk table; the exit status (2: valgrind is missing)."""
    missing = missing_tools()
    if missing:
        print(
            f"--instructions needs valgrind ({' and '.join(missing)} not found; "
            "Debian: apt-get install valgrind)",
            file=sys.stderr,
        )
        return 2
    measure_instructions(chunks, jobs)
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description="The client side of overhead.py --instructions: one warm stream, under "
        "callgrind, between 'ready'/'go' and 'streamed'/'stop' on stdout/stdin."
    )
    parser.add_argument("--url", required=True, help="the fake server's URL")
    parser.add_argument("--provider", required=True, choices=list(MODELS))
    parser.add_argument("--variant", required=True, choices=list(VARIANTS))
    args = parser.parse_args()
    asyncio.run(client(args.url, args.provider, args.variant))
