"""Run the fake provider server standalone for manual tries and benchmarks.

    python -m llm_dispatch.testing --port 8765
    python -m llm_dispatch.testing --chunks 2000     # every answer: 2,000 word chunks

It prints the environment variables that point the SDKs at it (any API key works).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys

from .script import Script
from .server import FakeProviderServer


def environment_block(server: FakeProviderServer) -> str:
    """Shell lines that point the three SDKs (and this library) at ``server``."""
    from ..offline import FAKE_API_KEY

    lines = [
        f"# fake provider server on {server.url}: paste these into another shell",
        f"export OPENAI_BASE_URL={server.openai_base_url}",
        f"export OPENAI_API_KEY={FAKE_API_KEY}",
        f"export ANTHROPIC_BASE_URL={server.anthropic_base_url}",
        f"export ANTHROPIC_API_KEY={FAKE_API_KEY}",
        f"export GOOGLE_GEMINI_BASE_URL={server.google_base_url}",
        f"export GEMINI_API_KEY={FAKE_API_KEY}",
        "# (or skip all this: LLM_DISPATCH_FAKE=1 runs a fake server inside your process)",
    ]
    return "\n".join(lines)


async def _serve(port: int, chunks: int | None, chunk_delay: float) -> None:
    server = FakeProviderServer(port=port)
    if chunks is not None:
        server.default = Script(chunks=[f"tok{i} " for i in range(chunks)], chunk_delay=chunk_delay)
    elif chunk_delay:
        server.default = Script(chunk_delay=chunk_delay)
    async with server:
        print(environment_block(server), flush=True)
        await asyncio.Event().wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m llm_dispatch.testing", description=__doc__)
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: any free)")
    parser.add_argument(
        "--chunks", type=int, default=None, help="answer every request with N chunks"
    )
    parser.add_argument("--chunk-delay", type=float, default=0.0, help="seconds between chunks")
    args = parser.parse_args(argv)
    try:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(_serve(args.port, args.chunks, args.chunk_delay))
    except OSError as exc:
        reason = os.strerror(exc.errno) if exc.errno else str(exc)
        print(f"error: cannot listen on 127.0.0.1:{args.port}: {reason}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
