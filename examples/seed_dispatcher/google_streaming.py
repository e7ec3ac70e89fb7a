"""Seed 004, the LLM-Dispatcher streaming guide:
"Google Streaming",
as the guide writes it (but for the package name, `llm_dispatch`).

    LLM_DISPATCH_FAKE=1 python examples/seed_dispatcher/google_streaming.py
"""

# Added: the names the guide's sample uses without importing them.
import asyncio

from llm_dispatch import *

# The guide's sample:

@llm_stream(
    task_type=TaskType.TEXT_GENERATION,
    providers=["google"],
    model="gemini-2.5-pro"
)
async def google_stream(prompt: str):
    """Stream using Google's streaming API."""
    # This is a placeholder - actual streaming would be handled internally
    chunks = ["Google", " streaming", " response", " chunks"]

    for chunk in chunks:
        yield chunk

# Usage
async def main():
    async for chunk in google_stream("Write a summary"):
        print(chunk, end="", flush=True)

asyncio.run(main())
