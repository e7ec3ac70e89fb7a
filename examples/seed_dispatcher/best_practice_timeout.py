"""Seed 004, the LLM-Dispatcher streaming guide:
"Best Practices: Use Appropriate Timeouts",
as the guide writes it (but for the package name, `llm_dispatch`).

    LLM_DISPATCH_FAKE=1 python examples/seed_dispatcher/best_practice_timeout.py
"""

# Added: the names the guide's sample uses without importing them.
import asyncio

from llm_dispatch import *

# The guide's sample:

@llm_stream(timeout=60)  # Set reasonable timeout
async def stream_with_timeout(prompt: str):
    return prompt


# Added: the guide shows only the definition; this calls it.
async def main():
    async for chunk in stream_with_timeout("Write a haiku about patience"):
        print(chunk, end="", flush=True)


asyncio.run(main())
