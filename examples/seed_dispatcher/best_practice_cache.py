"""Seed 004, the LLM-Dispatcher streaming guide:
"Best Practices: Optimize for Performance",
as the guide writes it (but for the package name, `llm_dispatch`).

    LLM_DISPATCH_FAKE=1 python examples/seed_dispatcher/best_practice_cache.py
"""

# Added: the names the guide's sample uses without importing them.
import asyncio

from llm_dispatch import *
from llm_dispatch.cache import StreamingCache

# The guide's sample:

# Use caching for similar requests
@llm_stream(cache=StreamingCache())
async def cached_stream(prompt: str):
    return prompt


# Added: the guide shows only the definition; this calls it twice, and the second call is
# answered from the cache.
async def main():
    for call in (1, 2):
        stream = cached_stream("Write a haiku about memory")
        async for chunk in stream:
            print(chunk, end="", flush=True)
        print(f"\n[call {call}: {'from the cache' if stream.context.cached else stream.provider}]")


asyncio.run(main())
