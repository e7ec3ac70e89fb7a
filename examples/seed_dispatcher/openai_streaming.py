"""Seed 004, the LLM-Dispatcher streaming guide:
"OpenAI Streaming",
as the guide writes it (but for the package name, `llm_dispatch`).

    LLM_DISPATCH_FAKE=1 python examples/seed_dispatcher/openai_streaming.py
"""

# Added: the names the guide's sample uses without importing them.
import asyncio

from llm_dispatch import *

# The guide's sample:

@llm_stream(
    task_type=TaskType.TEXT_GENERATION,
    providers=["openai"],
    model="gpt-4"
)
async def openai_stream(prompt: str):
    """Stream using OpenAI's streaming API."""
    # This is a placeholder - actual streaming would be handled internally
    chunks = ["OpenAI", " streaming", " response", " chunks"]

    for chunk in chunks:
        yield chunk

# Usage
async def main():
    async for chunk in openai_stream("Write a technical explanation"):
        print(chunk, end="", flush=True)

asyncio.run(main())
