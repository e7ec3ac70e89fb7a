"""Seed 004, the LLM-Dispatcher streaming guide:
"Content Generation with Progress",
as the guide writes it (but for the package name, `llm_dispatch`).

    LLM_DISPATCH_FAKE=1 python examples/seed_dispatcher/content_generation_progress.py
"""

# Added: the names the guide's sample uses without importing them.
import asyncio

from llm_dispatch import *

# The guide's sample:

from llm_dispatch.streaming import ProgressTracker

@llm_stream(
    task_type=TaskType.TEXT_GENERATION,
    progress_tracker=ProgressTracker()
)
async def stream_content_generation(topic: str, length: str = "medium"):
    """Generate content with progress tracking."""
    # This is a placeholder - actual streaming would be handled internally
    chunks = [
        f"# {topic}\n\n",
        "## Introduction\n",
        "This article explores ",
        f"the topic of {topic}. ",
        "Let's dive into the details...\n\n",
        "## Main Content\n",
        "The key points to consider ",
        "are as follows...\n\n",
        "## Conclusion\n",
        "In summary, ",
        f"{topic} is an important topic ",
        "that deserves attention."
    ]

    for chunk in chunks:
        yield chunk

# Usage with progress
async def main():
    progress_tracker = ProgressTracker()

    print("Generating content...")
    async for chunk in stream_content_generation("Artificial Intelligence", "long"):
        print(chunk, end="", flush=True)
        progress = progress_tracker.get_progress()
        if progress > 0:
            print(f"\nProgress: {progress:.1f}%", end="\r", flush=True)

asyncio.run(main())
