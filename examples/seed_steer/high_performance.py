"""Seed 003 (Steer LLM SDK guide), "High-Performance Streaming", as the guide writes it.

    LLM_DISPATCH_FAKE=1 python examples/seed_steer/high_performance.py
"""

import asyncio

from llm_dispatch import SteerLLMClient
from llm_dispatch.streaming import StreamingOptions

client = SteerLLMClient()  # wrapper: the guide made this client in an earlier sample
received = []


def process_chunk(chunk):  # wrapper: the guide leaves "your processing logic" to the reader
    received.append(chunk)


# Optimize for speed
fast_options = StreamingOptions(
    enable_usage_aggregation=False,    # Skip token counting
    enable_json_stream_handler=False,  # No JSON parsing
    connection_timeout=3.0,            # Fail fast
    read_timeout=20.0,                 # Reasonable timeout
    retry_on_connection_error=False    # No retries
)


async def main() -> None:  # wrapper: the guide's code uses async for at top level
    # Use simple streaming without usage tracking
    async for chunk in client.stream(
        "Generate text quickly",
        model="gpt-4",
        streaming_options=fast_options
    ):
        process_chunk(chunk)  # Your processing logic
    # Not in the guide: what arrived.
    print(f"{len(received)} chunks: {''.join(received)}")


asyncio.run(main())
