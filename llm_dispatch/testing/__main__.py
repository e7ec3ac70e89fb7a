"""Run the fake provider server standalone for manual tries and benchmarks.

    python -m llm_dispatch.testing --port 8765
    python -m llm_dispatch.testing --chunks 2000     # every answer: 2,000 word chunks

Point an SDK at it with the printed base URLs (any API key works).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys

from .script import Script
from .server import FakeProviderServer


async def _serve(port: int, chunks: int | None, chunk_delay: float) -> None:
    async with FakeProviderServer(port=port) as server:
        if chunks is not None:
            server.default = Script(
                chunks=[f"tok{i} " for i in range(chunks)], chunk_delay=chunk_delay
            )
        elif chunk_delay:
            server.default = Script(chunk_delay=chunk_delay)
        print(f"fake provider server listening on {server.url}", flush=True)
        print(f"  OPENAI_BASE_URL={server.openai_base_url}", flush=True)
        print(f"  ANTHROPIC_BASE_URL={server.anthropic_base_url}", flush=True)
        print(f"  GOOGLE_GEMINI_BASE_URL={server.google_base_url}", flush=True)
        await asyncio.Event().wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m llm_dispatch.testing", description=__doc__)
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: any free)")
    parser.add_argument(
        "--chunks", type=int, default=None, help="answer every request with N chunks"
    )
    parser.add_argument("--chunk-delay", type=float, default=0.0, help="seconds between chunks")
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args.port, args.chunks, args.chunk_delay))
    return 0


if __name__ == "__main__":
    sys.exit(main())
