"""Seed 003 (Steer LLM SDK guide), "OpenAI Streaming", as the guide writes it.

    LLM_DISPATCH_FAKE=1 python examples/seed_steer/openai_streaming.py
"""

import asyncio

from llm_dispatch import SteerLLMClient

# OpenAI-specific optimizations
from llm_dispatch.streaming import StreamingOptions

client = SteerLLMClient()  # wrapper: the guide made this client in an earlier sample

openai_options = StreamingOptions(
    enable_usage_aggregation=True,
    prefer_tiktoken=True,  # Use accurate token counting
    aggregator_type="tiktoken"
)


async def main() -> None:  # wrapper: the guide's code uses await at top level
    response = await client.stream_with_usage(
        "Generate text",
        model="gpt-4",
        streaming_options=openai_options
    )
    # Not in the guide: the usage, and who counted it (the provider, or an estimate).
    print(f"[{response.provider}/{response.model}] usage: {response.usage}")
    print(f"counted by: {response.token_counter}")


asyncio.run(main())
