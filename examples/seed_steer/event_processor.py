"""Seed 003 (Steer LLM SDK guide), "Advanced Event Processing", as the guide writes it.

    LLM_DISPATCH_FAKE=1 python examples/seed_steer/event_processor.py
"""

import asyncio

from llm_dispatch import SteerLLMClient
from llm_dispatch.streaming import StreamingOptions, create_event_processor

client = SteerLLMClient()  # wrapper: the guide made this client in an earlier sample

# Create a custom event processor
processor = create_event_processor(
    add_correlation=True,      # Add correlation IDs
    add_timestamp=True,        # Add timestamps to events
    add_metrics=True,          # Track streaming metrics
    event_types=["delta", "usage"],  # Filter specific events
    background=False           # Process synchronously
)

# Use with streaming options
options = StreamingOptions(
    event_processor=processor,
    enable_usage_aggregation=True
)


async def main() -> None:  # wrapper: the guide's code uses await at top level
    response = await client.stream_with_usage(
        "Generate content",
        model="gpt-4",
        streaming_options=options
    )
    # Not in the guide: what the processor tracked.
    print("Text:", response.get_text())
    print("Metrics:", processor.metrics)


asyncio.run(main())
