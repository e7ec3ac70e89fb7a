"""Seed 003 (Steer LLM SDK guide), "Streaming with Usage Data", as the guide writes it.

    LLM_DISPATCH_FAKE=1 python examples/seed_steer/streaming_with_usage.py
"""

import asyncio

from llm_dispatch import SteerLLMClient

client = SteerLLMClient()  # wrapper: the guide made this client in an earlier sample


async def main() -> None:  # wrapper: the guide's code uses await at top level
    # Stream and collect usage data
    response = await client.stream_with_usage(
        "Write a haiku about coding",
        model="gpt-4",
        max_tokens=50
    )

    # Access the complete text
    print("Text:", response.get_text())

    # Access usage data
    print("Tokens used:", response.usage)
    # Output: {'prompt_tokens': 12, 'completion_tokens': 17, 'total_tokens': 29}

    # Access cost information if available
    if response.cost_usd:
        print(f"Cost: ${response.cost_usd:.4f}")


asyncio.run(main())
