"""Seed 004, the LLM-Dispatcher streaming guide:
"Anthropic Streaming",
as the guide writes it (but for the package name, `llm_dispatch`).

    LLM_DISPATCH_FAKE=1 python examples/seed_dispatcher/anthropic_streaming.py
"""

# Added: the names the guide's sample uses without importing them.
import asyncio

from llm_dispatch import *

# The guide's sample:

@llm_stream(
    task_type=TaskType.TEXT_GENERATION,
    providers=["anthropic"],
    model="claude-3-sonnet"
)
async def anthropic_stream(prompt: str):
    """Stream using Anthropic's streaming API."""
    # This is a placeholder - actual streaming would be handled internally
    chunks = ["Anthropic", " streaming", " response", " chunks"]

    for chunk in chunks:
        yield chunk

# Usage
async def main():
    async for chunk in anthropic_stream("Write a creative story"):
        print(chunk, end="", flush=True)

asyncio.run(main())
