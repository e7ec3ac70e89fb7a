"""Seed 003 (Steer LLM SDK guide), "Memory-Efficient Streaming", as the guide writes it.

    LLM_DISPATCH_FAKE=1 python examples/seed_steer/memory_efficient.py
"""

import asyncio

from llm_dispatch import SteerLLMClient

client = SteerLLMClient()  # wrapper: the guide made this client in an earlier sample


async def process_chunk_externally(chunk):  # wrapper: the guide leaves this to the reader
    await asyncio.sleep(0)


async def process_large_stream():
    """Process a large stream without storing all content."""
    word_count = 0
    char_count = 0
    
    async for chunk in client.stream(
        "Write a 1000-word essay",
        model="gpt-4",
        max_tokens=2000
    ):
        # Process chunk without storing
        words = chunk.split()
        word_count += len(words)
        char_count += len(chunk)
        
        # Could write to file, send to another service, etc.
        await process_chunk_externally(chunk)
    
    print(f"Processed {word_count} words, {char_count} characters")


asyncio.run(process_large_stream())  # wrapper: the guide defines the function only
