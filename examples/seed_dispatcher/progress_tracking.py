"""Seed 004, the LLM-Dispatcher streaming guide:
"Streaming with Progress Tracking",
as the guide writes it (but for the package name, `llm_dispatch`).

    LLM_DISPATCH_FAKE=1 python examples/seed_dispatcher/progress_tracking.py
"""

# Added: the names the guide's sample uses without importing them.
import asyncio

from llm_dispatch import TaskType

# The guide's sample:

from llm_dispatch import llm_stream
from llm_dispatch.streaming import ProgressTracker

@llm_stream(
    task_type=TaskType.TEXT_GENERATION,
    progress_tracker=ProgressTracker()
)
async def stream_with_progress(prompt: str):
    """Stream with progress tracking."""
    # This is a placeholder - actual streaming would be handled internally
    chunks = ["Chunk 1", "Chunk 2", "Chunk 3", "Chunk 4", "Chunk 5"]

    for i, chunk in enumerate(chunks):
        yield chunk
        # Progress would be automatically tracked

# Usage with progress
async def main():
    progress_tracker = ProgressTracker()

    async for chunk in stream_with_progress("Write a detailed analysis"):
        print(chunk, end="", flush=True)
        print(f"\nProgress: {progress_tracker.get_progress():.1f}%")

asyncio.run(main())
