"""A progress tracker and a terminal progress bar on a slow stream.

python examples/progress.py
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

from llm_dispatch import llm_stream
from llm_dispatch.demo import demo_dispatcher
from llm_dispatch.streaming import ProgressBar, ProgressTracker
from llm_dispatch.testing import FakeProviderServer, Script


async def main() -> int:
    servers: list[FakeProviderServer] = []
    async with demo_dispatcher(servers.append) as dispatcher:
        tracker = ProgressTracker()

        @llm_stream(providers=["google"], dispatcher=dispatcher, progress_tracker=tracker)
        async def essay(prompt: str, max_tokens: int | None = None) -> Any:
            yield "offline stand-in"

        for attempt in range(2):
            if servers:  # a slow fake answer, so that there is something to watch
                words = [f"word{i} " for i in range(120)]
                servers[0].enqueue(Script(chunks=words, first_delay=0.3, chunk_delay=0.01))
            async with ProgressBar(tracker):
                stream = essay("Write a short essay about rivers")
                await stream.collect()
            snapshot = tracker.snapshot()
            print(
                f"run {attempt + 1}: expected {snapshot.expected_tokens} tokens "
                f"({snapshot.expected_source}), got {snapshot.tokens}; "
                f"first token after {snapshot.time_to_first_token_ms:.0f} ms"
            )
        # The second run's expected length was learned from the first one.
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
