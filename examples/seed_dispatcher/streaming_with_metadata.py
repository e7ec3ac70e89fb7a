"""Seed 004, the LLM-Dispatcher streaming guide:
"Streaming with Metadata",
as the guide writes it (but for the package name, `llm_dispatch`).

    LLM_DISPATCH_FAKE=1 python examples/seed_dispatcher/streaming_with_metadata.py
"""

# Added: the names the guide's sample uses without importing them.
import asyncio

# The guide's sample:

from llm_dispatch import llm_stream_with_metadata, TaskType

@llm_stream_with_metadata(task_type=TaskType.TEXT_GENERATION)
async def stream_with_metadata(prompt: str):
    """Stream with additional metadata."""
    # This is a placeholder - actual streaming would be handled internally
    chunks = [
        {"chunk": "Chunk 1: ", "chunk_index": 0, "provider": "openai", "model": "gpt-4"},
        {"chunk": "Chunk 2: ", "chunk_index": 1, "provider": "openai", "model": "gpt-4"},
        {"chunk": "Chunk 3: ", "chunk_index": 2, "provider": "openai", "model": "gpt-4"}
    ]

    for chunk_data in chunks:
        yield chunk_data

# Usage
async def main():
    async for metadata in stream_with_metadata("Write a story"):
        print(f"[{metadata['provider']}:{metadata['model']}] {metadata['chunk']}")

asyncio.run(main())
