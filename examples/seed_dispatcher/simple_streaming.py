"""Seed 004, the LLM-Dispatcher streaming guide:
"Simple Streaming",
as the guide writes it (but for the package name, `llm_dispatch`).

    LLM_DISPATCH_FAKE=1 python examples/seed_dispatcher/simple_streaming.py
"""

from llm_dispatch import llm_stream, TaskType

@llm_stream(task_type=TaskType.TEXT_GENERATION)
async def stream_text(prompt: str):
    """Stream text generation in real-time."""
    # This is a placeholder - actual streaming would be handled internally
    chunks = [
        "This is a streaming response. ",
        "Each chunk is delivered ",
        "as it becomes available. ",
        "This provides a better ",
        "user experience for long responses."
    ]

    for chunk in chunks:
        yield chunk

# Usage
async def main():
    async for chunk in stream_text("Write a long story about space exploration"):
        print(chunk, end="", flush=True)

# Run the async function
import asyncio
asyncio.run(main())
