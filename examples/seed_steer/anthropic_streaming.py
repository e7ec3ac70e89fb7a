"""Seed 003 (Steer LLM SDK guide), "Anthropic Streaming", as the guide writes it.

    LLM_DISPATCH_FAKE=1 python examples/seed_steer/anthropic_streaming.py
"""

import asyncio

from llm_dispatch import SteerLLMClient
from llm_dispatch.streaming import StreamingOptions

client = SteerLLMClient()  # wrapper: the guide made this client in an earlier sample

# Anthropic-specific settings
anthropic_options = StreamingOptions(
    enable_usage_aggregation=True,
    aggregator_type="character",  # Anthropic doesn't support tiktoken
    read_timeout=60.0  # Anthropic can be slower
)


async def main() -> None:  # wrapper: the guide's code uses await at top level
    response = await client.stream_with_usage(
        "Generate text",
        model="claude-3-opus",
        streaming_options=anthropic_options
    )
    # Not in the guide: where it went, and the usage.
    print(f"[{response.provider}/{response.model}] usage: {response.usage}")
    print(f"counted by: {response.token_counter}")


asyncio.run(main())
