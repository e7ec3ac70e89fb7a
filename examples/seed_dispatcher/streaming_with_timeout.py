"""Seed 004, the LLM-Dispatcher streaming guide:
"Streaming with Timeout",
as the guide writes it (but for the package name, `llm_dispatch`).

    LLM_DISPATCH_FAKE=1 python examples/seed_dispatcher/streaming_with_timeout.py
"""

# Added: the names the guide's sample uses without importing them.
import asyncio

from llm_dispatch import *

# The guide's sample:

@llm_stream(
    task_type=TaskType.TEXT_GENERATION,
    timeout=30,  # 30 seconds timeout
    fallback_enabled=True
)
async def stream_with_timeout(prompt: str):
    """Stream with timeout protection."""
    # This is a placeholder - actual streaming would be handled internally
    chunks = ["Streaming", " with", " timeout", " protection"]

    for chunk in chunks:
        yield chunk

# Usage
async def main():
    try:
        async for chunk in stream_with_timeout("Write a long story"):
            print(chunk, end="", flush=True)
    except asyncio.TimeoutError:
        print("Streaming timed out")
    except Exception as e:
        print(f"Error: {e}")

asyncio.run(main())
