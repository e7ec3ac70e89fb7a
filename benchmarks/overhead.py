"""Per-chunk overhead of ``@llm_stream`` against the raw SDK, for each provider.

The fake provider server runs in its own process, answering every request with 2,000 chunks.
For each provider the raw SDK stream and the same stream through ``@llm_stream`` (and
``@llm_stream_with_metadata``; for OpenAI also ``@llm_stream`` with ``parser: fast``, the
library reading the raw body itself) are run interleaved, several rounds, in this one process. Two
ratios are printed: wall time, and this process's CPU time. CPU time is the honest one: the
server's work happens elsewhere, so the client's CPU seconds are exactly what the SDK, and the
dispatcher on top of it, cost.

    python benchmarks/overhead.py [--chunks 2000] [--rounds 7]
"""

from __future__ import annotations

import argparse
import asyncio
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

from llm_dispatch import Dispatcher, llm_stream, llm_stream_with_metadata

MODELS = {"openai": "gpt-4o-mini", "anthropic": "claude-haiku-4-5", "google": "gemini-2.5-flash"}
KEY = "bench-key"


def start_server(chunks: int) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "llm_dispatch.testing", "--chunks", str(chunks)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    found = re.search(r"http://127\.0\.0\.1:\d+", line)
    if found is None:
        proc.kill()
        raise RuntimeError(f"fake server did not start: {line!r}")
    return proc, found.group(0)


def raw_streamers(url: str) -> dict[str, Callable[[], Awaitable[int]]]:
    import anthropic
    import openai
    from google import genai
    from google.genai import types

    oa = openai.AsyncOpenAI(api_key=KEY, base_url=f"{url}/v1", max_retries=0)
    an = anthropic.AsyncAnthropic(api_key=KEY, base_url=url, max_retries=0)
    go = genai.Client(
        api_key=KEY,
        http_options=types.HttpOptions(
            base_url=url, retry_options=types.HttpRetryOptions(attempts=1)
        ),
    )
    messages = [{"role": "user", "content": "benchmark"}]

    async def openai_raw() -> int:
        n = 0
        stream = await oa.chat.completions.create(
            model=MODELS["openai"],
            messages=messages,
            stream=True,  # type: ignore[arg-type]
            stream_options={"include_usage": True},
        )
        async for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content:
                n += 1
        return n

    async def anthropic_raw() -> int:
        n = 0
        stream = await an.messages.create(
            model=MODELS["anthropic"],
            max_tokens=4096,
            messages=messages,  # type: ignore[arg-type]
            stream=True,
        )
        async for event in stream:
            if event.type == "content_block_delta":
                n += 1
        return n

    async def google_raw() -> int:
        n = 0
        async for chunk in await go.aio.models.generate_content_stream(
            model=MODELS["google"], contents="benchmark"
        ):
            if chunk.text:
                n += 1
        return n

    return {"openai": openai_raw, "anthropic": anthropic_raw, "google": google_raw}


def dispatched_streamers(
    dispatcher: Dispatcher, *, metadata: bool, providers: dict[str, str] | None = None
) -> dict[str, Callable[[], Awaitable[int]]]:
    """A run per provider of the table: ``providers`` maps the table's name to the configured
    provider it goes through (default: the same name, each of MODELS)."""
    decorator = llm_stream_with_metadata if metadata else llm_stream
    result: dict[str, Callable[[], Awaitable[int]]] = {}
    for name, configured in (providers or {name: name for name in MODELS}).items():

        @decorator(providers=[configured], dispatcher=dispatcher)
        async def answer(prompt: str) -> Any:
            yield "unused"

        async def run(answer: Any = answer) -> int:
            n = 0
            async for _ in answer("benchmark"):
                n += 1
            return n

        result[name] = run
    return result


async def measure(run: Callable[[], Awaitable[int]]) -> tuple[float, float, int]:
    wall, cpu = time.perf_counter(), time.process_time()
    n = await run()
    return time.perf_counter() - wall, time.process_time() - cpu, n


async def main(chunks: int, rounds: int) -> None:
    proc, url = start_server(chunks)
    try:
        providers: dict[str, Any] = {
            name: {"kind": name, "api_key": KEY, "base_url": base, "default_model": model}
            for name, model, base in (
                ("openai", MODELS["openai"], f"{url}/v1"),
                ("anthropic", MODELS["anthropic"], url),
                ("google", MODELS["google"], url),
            )
        }
        providers["openai_fast"] = {**providers["openai"], "kind": "openai", "parser": "fast"}
        dispatcher = Dispatcher({"providers": providers})
        variants = {
            "raw SDK": raw_streamers(url),
            "@llm_stream": dispatched_streamers(dispatcher, metadata=False),
            "@llm_stream_with_metadata": dispatched_streamers(dispatcher, metadata=True),
            "@llm_stream parser: fast": dispatched_streamers(
                dispatcher, metadata=False, providers={"openai": "openai_fast"}
            ),
        }
        print(f"{chunks} chunks per stream, {rounds} rounds, interleaved; medians\n")
        print(
            f"{'provider':<10} {'variant':<27} {'wall ms':>9} {'cpu ms':>9} "
            f"{'cpu µs/chunk':>13} {'wall ×':>7} {'cpu ×':>7}"
        )
        for provider in MODELS:
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
            base_wall = statistics.median(w for w, _ in samples["raw SDK"])
            base_cpu = statistics.median(c for _, c in samples["raw SDK"])
            for variant, values in samples.items():
                wall = statistics.median(w for w, _ in values)
                cpu = statistics.median(c for _, c in values)
                print(
                    f"{provider:<10} {variant:<27} {wall * 1e3:9.1f} {cpu * 1e3:9.1f} "
                    f"{cpu / chunks * 1e6:13.1f} {wall / base_wall:7.3f} {cpu / base_cpu:7.3f}"
                )
        await dispatcher.aclose()
    finally:
        proc.terminate()
        proc.wait(timeout=10)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--chunks", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    asyncio.run(main(args.chunks, args.rounds))
