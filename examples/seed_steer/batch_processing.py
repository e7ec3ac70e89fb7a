"""Seed 003 (Steer LLM SDK guide), "Batch Processing with Streaming", as the guide writes it.

    LLM_DISPATCH_FAKE=1 python examples/seed_steer/batch_processing.py
"""

import asyncio

from llm_dispatch import SteerLLMClient

client = SteerLLMClient()  # wrapper: the guide made this client in an earlier sample


async def stream_request(prompt, model="gpt-4"):
    """Stream a single request."""
    chunks = []
    async for chunk in client.stream(prompt, model=model):
        chunks.append(chunk)
    return "".join(chunks)

# Process multiple prompts concurrently
prompts = [
    "Write a haiku about Python",
    "Write a haiku about JavaScript",
    "Write a haiku about Rust"
]


async def main() -> None:  # wrapper: the guide's code uses await at top level
    # Stream all concurrently
    tasks = [stream_request(p) for p in prompts]
    results = await asyncio.gather(*tasks)

    for prompt, result in zip(prompts, results):
        print(f"\nPrompt: {prompt}")
        print(f"Result: {result}")


asyncio.run(main())
