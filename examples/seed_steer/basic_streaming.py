"""Seed 003 (Steer LLM SDK guide), "Basic Streaming", as the guide writes it.

    LLM_DISPATCH_FAKE=1 python examples/seed_steer/basic_streaming.py
"""

import asyncio

from llm_dispatch import SteerLLMClient

client = SteerLLMClient()


async def main() -> None:  # wrapper: the guide's code uses async for at top level
    # Stream text chunks
    async for chunk in client.stream("Tell me a story", model="gpt-4"):
        print(chunk, end="", flush=True)


asyncio.run(main())
