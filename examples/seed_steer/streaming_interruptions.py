"""Seed 003 (Steer LLM SDK guide), "Handling Streaming Interruptions", as the guide writes it.

    LLM_DISPATCH_FAKE=1 python examples/seed_steer/streaming_interruptions.py
"""

import asyncio

from llm_dispatch import SteerLLMClient

client = SteerLLMClient()  # wrapper: the guide made this client in an earlier sample

collected_text = []

async def safe_stream():
    try:
        async for chunk in client.stream("Generate a long story", model="gpt-4"):
            collected_text.append(chunk)
            print(chunk, end="", flush=True)
    except asyncio.CancelledError:
        print("\n[Stream cancelled]")
        # Save partial response
        partial = "".join(collected_text)
        print(f"Collected {len(partial)} characters before cancellation")
    except Exception as e:
        print(f"\n[Stream error: {e}]")


async def main() -> None:  # wrapper: the guide's code uses await at top level
    # Run with timeout
    try:
        await asyncio.wait_for(safe_stream(), timeout=5.0)
    except asyncio.TimeoutError:
        print("\n[Stream timed out]")
    # Not in the guide: what was collected.
    print(f"\n[{len(''.join(collected_text))} characters collected]")


asyncio.run(main())
