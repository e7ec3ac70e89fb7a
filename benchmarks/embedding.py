"""Benchmark of the metadata embedding: one ~4,000-character answer streamed in ~1,000
token-sized chunks through ``StreamingHandler``.

Run: ``.venv/bin/python benchmarks/embedding.py [--repeat N]``

Prints the per-chunk cost, the whole stream (handler creation, every chunk, trailer),
extraction, verification and stripping of the signed text, and the payload size in
invisible characters. Targets: whole stream < 0.5 ms, verify < 0.2 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import re
import statistics
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from llm_dispatch.context import StreamContext
from llm_dispatch.embedding import EmbeddingStage, StreamingHandler, UnicodeMetadata
from llm_dispatch.embedding.compact import utc_timestamp
from llm_dispatch.embedding.verify import strip
from llm_dispatch.request import Message, Request

KEY = "benchmark-key-0123456789"
SEED_METADATA = {
    "model": "gpt-4",
    "organization": "MyCompany",
    "timestamp": "2025-06-01T12:34:56.789012+00:00",
    "version": "1.0.0",
}

_PROSE = (
    "the provider streams tokens while the dispatcher routes retries and signs every "
    "answer with invisible provenance so that readers can verify where a text came from "
    "and whether anyone changed it after generation including punctuation, numbers like "
    "42 and 3.14, code such as sorted(items, key=len) and unicode like café or naïve."
)
_WORDS = tuple(_PROSE.split(" "))


def answer(chars: int = 4000) -> str:
    """A deterministic English-like answer of about ``chars`` characters."""
    words: list[str] = []
    size = 0
    i = 0
    while size < chars:
        word = _WORDS[(i * 7) % len(_WORDS)]
        words.append(word + ("." if i % 13 == 12 else ""))
        size += len(words[-1]) + 1
        i += 1
    return " ".join(words)[:chars]


def tokenize(text: str) -> list[str]:
    """Token-sized chunks (~4 characters), like an LLM's stream deltas."""
    return re.findall(r" ?[^\s]{1,4}|\s+", text)


def timed(func: Callable[[], Any], repeat: int) -> tuple[float, float]:
    """Median and best wall time of ``func`` in microseconds."""
    samples: list[float] = []
    gc.disable()
    try:
        for _ in range(repeat):
            start = time.perf_counter_ns()
            func()
            samples.append((time.perf_counter_ns() - start) / 1000)
    finally:
        gc.enable()
    return statistics.median(samples), min(samples)


@dataclass(frozen=True)
class Embedding:
    """The figures: medians in µs (per chunk in ns), payloads in invisible characters."""

    chars: int
    chunks: int
    stream_us: float
    stream_best_us: float
    hot_ns: float  # per chunk after the header
    loop_ns: float  # per chunk of a bare loop appending it
    stage_us: float
    extract_us: float
    verify_us: float
    strip_us: float
    payload: int
    spread_payload: int
    dispatch_payload: int

    @property
    def stream_ns_per_chunk(self) -> float:
        return self.stream_us * 1000 / self.chunks


def measure_embedding(repeat: int) -> Embedding:
    """Print the figures and return them."""
    text = answer()
    chunks = tokenize(text)
    assert "".join(chunks) == text
    last = len(chunks) - 1

    def whole_stream() -> str:
        handler = StreamingHandler(SEED_METADATA, hmac_secret_key=KEY)
        process = handler.process_chunk
        out = [process(c) for c in chunks[:last]]
        out.append(process(chunks[last], is_final=True))
        return "".join(out)

    signed = whole_stream()
    assert UnicodeMetadata.verify(signed, KEY).valid

    # The hot path alone: chunks after the header went out.
    def hot_path() -> None:
        handler = StreamingHandler(SEED_METADATA, hmac_secret_key=KEY)
        handler.process_chunk("Warm up ")
        process = handler.process_chunk
        for c in chunks:
            process(c)

    def bare_loop() -> None:
        out = []
        for c in chunks:
            out.append(c)

    # The dispatcher's view: one stage, awaited hooks, a fresh context per stream.
    stage = EmbeddingStage(hmac_key=KEY)
    request = Request(messages=(Message(role="user", content="q"),))

    async def stage_stream() -> None:
        ctx = StreamContext(request=request, request_id="r", provider="openai", model="m")
        await stage.on_start(ctx)
        on_chunk = stage.on_chunk
        for c in chunks:
            await on_chunk(ctx, c)
        await stage.on_end(ctx)

    loop = asyncio.new_event_loop()
    stage_med, _ = timed(lambda: loop.run_until_complete(stage_stream()), repeat)
    loop.close()

    stream_med, stream_best = timed(whole_stream, repeat)
    hot_med, _ = timed(hot_path, repeat)
    loop_med, _ = timed(bare_loop, repeat)
    extract_med, extract_best = timed(lambda: UnicodeMetadata.extract_metadata(signed), repeat)
    verify_med, verify_best = timed(lambda: UnicodeMetadata.verify(signed, KEY), repeat)
    strip_med, _ = timed(lambda: strip(signed), repeat)

    payload = len(signed) - len(text)
    result = UnicodeMetadata.verify(signed, KEY)
    (h0, h1) = result.header_spans[0]
    assert result.trailer_span is not None
    t0, t1 = result.trailer_span

    dispatch_meta = {
        "provider": "openai",
        "model": "gpt-4o",
        "task_type": "code_generation",
        "request_id": uuid.uuid4().hex,
        "timestamp": utc_timestamp(),
    }
    handler = StreamingHandler(dispatch_meta, hmac_secret_key=KEY)
    out = [handler.process_chunk(c) for c in chunks]
    handler.update_metadata({"contributors": ["openai"], "cached": False})
    dispatch_payload = handler.finalize()["payload_characters"]

    spread = StreamingHandler(SEED_METADATA, hmac_secret_key=KEY, encode_first_chunk_only=False)
    for c in chunks:
        spread.process_chunk(c)
    spread_summary = spread.finalize()

    n = len(chunks)
    rows = [
        ("answer", f"{len(text)} characters in {n} chunks"),
        (
            "whole stream",
            f"{stream_med:8.1f} µs median, {stream_best:.1f} µs best "
            "(new handler, every chunk, trailer; target < 500 µs)",
        ),
        ("per chunk, whole stream", f"{stream_med * 1000 / n:8.0f} ns"),
        (
            "per chunk, after the header",
            f"{hot_med * 1000 / n:8.0f} ns "
            f"(a bare loop appending the chunk: {loop_med * 1000 / n:.0f} ns)",
        ),
        (
            "EmbeddingStage, whole stream",
            f"{stage_med:8.1f} µs median ({stage_med * 1000 / n:.0f} ns per chunk, "
            "awaited on_chunk included)",
        ),
        ("extract_metadata", f"{extract_med:8.1f} µs median, {extract_best:.1f} µs best"),
        ("verify", f"{verify_med:8.1f} µs median, {verify_best:.1f} µs best (target < 200 µs)"),
        ("strip", f"{strip_med:8.1f} µs median"),
        (
            "payload, a 4-field dict",
            f"{payload:5d} invisible characters "
            f"(header {h1 - h0}, trailer {t1 - t0}; target ≤ 200)",
        ),
        (
            "payload, spread header",
            f"{spread_summary['payload_characters']:5d} invisible characters "
            f"({spread_summary['header_pieces']} header pieces + trailer)",
        ),
        (
            "payload, dispatcher metadata",
            f"{dispatch_payload:5d} invisible characters (provider, model, task_type, "
            "request_id, timestamp; contributors, cached in the trailer)",
        ),
    ]
    for label, value in rows:
        print(f"{label + ':':30s} {value}")
    del out
    return Embedding(
        chars=len(text),
        chunks=n,
        stream_us=stream_med,
        stream_best_us=stream_best,
        hot_ns=hot_med * 1000 / n,
        loop_ns=loop_med * 1000 / n,
        stage_us=stage_med,
        extract_us=extract_med,
        verify_us=verify_med,
        strip_us=strip_med,
        payload=payload,
        spread_payload=spread_summary["payload_characters"],
        dispatch_payload=dispatch_payload,
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=300)
    measure_embedding(parser.parse_args().repeat)
