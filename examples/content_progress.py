"""Content generation with a progress tracker, and the function's arguments in the prompt.

    LLM_DISPATCH_FAKE=1 python examples/content_progress.py

``topic`` is the prompt, ``length`` a labelled line after it. The tracker given to the
decorator follows each call; read it while the stream runs.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

from llm_dispatch import TaskType, llm_stream
from llm_dispatch.streaming import ProgressTracker

progress_tracker = ProgressTracker()


@llm_stream(task_type=TaskType.TEXT_GENERATION, progress_tracker=progress_tracker)
async def stream_content_generation(topic: str, length: str = "medium") -> Any:
    yield "offline stand-in"


async def main() -> int:
    print("Generating content...")
    async for chunk in stream_content_generation("Artificial Intelligence", "long"):
        print(chunk, end="", flush=True)
    print(f"\nProgress: {progress_tracker.get_progress():.1f}%")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
