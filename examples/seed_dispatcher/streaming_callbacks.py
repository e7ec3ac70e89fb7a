"""Seed 004, the LLM-Dispatcher streaming guide:
"Streaming with Callbacks",
as the guide writes it (but for the package name, `llm_dispatch`).

    LLM_DISPATCH_FAKE=1 python examples/seed_dispatcher/streaming_callbacks.py
"""

# Added: the names the guide's sample uses without importing them.
import asyncio

from llm_dispatch import TaskType

# The guide's sample:

from llm_dispatch import llm_stream
from llm_dispatch.streaming import StreamingCallbacks

def on_chunk_received(chunk: str, metadata: dict):
    """Callback when a chunk is received."""
    print(f"Received chunk: {chunk[:50]}...")

def on_stream_start(metadata: dict):
    """Callback when streaming starts."""
    print(f"Streaming started with {metadata['provider']}:{metadata['model']}")

def on_stream_end(metadata: dict):
    """Callback when streaming ends."""
    print(f"Streaming completed. Total tokens: {metadata['total_tokens']}")

callbacks = StreamingCallbacks(
    on_chunk_received=on_chunk_received,
    on_stream_start=on_stream_start,
    on_stream_end=on_stream_end
)

@llm_stream(
    task_type=TaskType.TEXT_GENERATION,
    callbacks=callbacks
)
async def stream_with_callbacks(prompt: str):
    """Stream with custom callbacks."""
    # This is a placeholder - actual streaming would be handled internally
    chunks = ["Chunk 1", "Chunk 2", "Chunk 3"]

    for chunk in chunks:
        yield chunk

# Usage
async def main():
    async for chunk in stream_with_callbacks("Write a story"):
        # Chunks are automatically processed by callbacks
        pass

asyncio.run(main())
