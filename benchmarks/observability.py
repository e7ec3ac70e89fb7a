"""What switching the observability on costs a stream: ``@llm_stream`` with it off and on.

The fake provider server runs in its own process and answers every request with N chunks.
For each provider, the same ``@llm_stream`` stream (read with the SDK, and with ``parser:
fast`` where the kind has it) runs interleaved with the observability off and on, several
rounds; on is every part of :func:`llm_dispatch.observability.instrument`: spans into the
OpenTelemetry SDK (a ``SimpleSpanProcessor`` and its in-memory exporter), the GenAI
metrics into its in-memory reader, and the Prometheus metrics on a registry of their own.
The table gives medians of this process's CPU time per stream, and the difference on − off
per stream and per chunk. Nothing of the observability runs per chunk, so the difference is
a cost per stream: spread over 2,000 chunks it is close to nothing, over 20 it shows.

    python benchmarks/observability.py [--chunks 2000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client import CollectorRegistry
from streams import (
    FAST,
    STREAM,
    Streamer,
    dispatched_streamers,
    fast_providers,
    make_dispatcher,
    start_server,
    stop_server,
)

from llm_dispatch import stream_hooks
from llm_dispatch.observability import Instrumentation, instrument


def observe_in_memory() -> Instrumentation:
    """Every part of the observability on, into the SDK's in-memory span exporter and metric
    reader and a Prometheus registry of its own."""
    exporter = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    meter_provider = MeterProvider(metric_readers=[InMemoryMetricReader()])
    return instrument(
        tracer_provider=tracer_provider,
        meter_provider=meter_provider,
        prometheus_registry=CollectorRegistry(),
    )


async def cpu_of(run: Streamer, chunks: int) -> float:
    cpu = time.process_time()
    n, _ = await run()
    assert n >= chunks - 1, f"streamed {n} chunks"
    return time.process_time() - cpu


async def main(chunks: int, rounds: int) -> None:
    proc, url = start_server(chunks)
    instrumentation = observe_in_memory()
    # The hooks instrument() installed: put in place before each observed stream, taken
    # away before each other one (outside the measured time).
    observed = stream_hooks.installed()
    try:
        dispatcher = make_dispatcher(url)
        variants = {
            STREAM: dispatched_streamers(dispatcher, metadata=False),
            FAST: dispatched_streamers(
                dispatcher,
                metadata=False,
                providers={name: f"{name}_fast" for name in fast_providers()},
            ),
        }
        print(f"{chunks} chunks per stream, {rounds} rounds, off and on interleaved; medians\n")
        print(
            f"{'provider':<10} {'variant':<25} {'off cpu ms':>10} {'on cpu ms':>10} "
            f"{'on − off µs':>12} {'µs/chunk':>9}"
        )
        for variant, streamers in variants.items():
            for provider, run in streamers.items():
                for hooks in (stream_hooks.NO_HOOKS, observed):  # warm up
                    stream_hooks.install(hooks)
                    await run()
                samples: dict[bool, list[float]] = {False: [], True: []}
                for r in range(rounds):
                    for on in (False, True) if r % 2 == 0 else (True, False):
                        stream_hooks.install(observed if on else stream_hooks.NO_HOOKS)
                        samples[on].append(await cpu_of(run, chunks))
                off = statistics.median(samples[False])
                on_ = statistics.median(samples[True])
                print(
                    f"{provider:<10} {variant:<25} {off * 1e3:10.2f} {on_ * 1e3:10.2f} "
                    f"{(on_ - off) * 1e6:12.0f} {(on_ - off) / chunks * 1e6:9.3f}"
                )
        await dispatcher.aclose()
    finally:
        stream_hooks.install(observed)
        instrumentation.uninstrument()
        stop_server(proc)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--chunks", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    asyncio.run(main(args.chunks, args.rounds))
