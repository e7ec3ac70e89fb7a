"""Seed 003 (Steer LLM SDK guide), "Event Callbacks", as the guide writes it.

    LLM_DISPATCH_FAKE=1 python examples/seed_steer/event_callbacks.py
"""

import asyncio

from llm_dispatch import SteerLLMClient

client = SteerLLMClient()  # wrapper: the guide made this client in an earlier sample


# Define event handlers
async def on_start(event):
    print(f"[STARTED] Model: {event.model}, Provider: {event.provider}")

async def on_delta(event):
    print(f"[CHUNK {event.chunk_index}] {event.delta.get_text()}")

async def on_usage(event):
    print(f"[USAGE] {event.usage}")

async def on_complete(event):
    print(f"[COMPLETE] Duration: {event.metadata.get('duration_ms')}ms")

async def on_error(event):
    print(f"[ERROR] {event.error_type}: {event.error}")


async def main() -> None:  # wrapper: the guide's code uses await at top level
    # Stream with callbacks
    response = await client.stream_with_usage(
        "Explain quantum computing",
        model="gpt-4",
        on_start=on_start,
        on_delta=on_delta,
        on_usage=on_usage,
        on_complete=on_complete,
        on_error=on_error
    )


asyncio.run(main())
