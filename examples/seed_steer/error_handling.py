"""Seed 003 (Steer LLM SDK guide), "Error Handling", as the guide writes it.

    LLM_DISPATCH_FAKE=1 python examples/seed_steer/error_handling.py
"""

import asyncio

from llm_dispatch import ProviderError, SteerLLMClient

client = SteerLLMClient()  # wrapper: the guide made this client in an earlier sample


async def main() -> None:  # wrapper: the guide's code uses await at top level
    try:
        response = await client.stream_with_usage(
            "Generate text",
            model="gpt-4",
            max_tokens=100
        )
    except ProviderError as e:
        print(f"Provider error: {e}")
        print(f"Provider: {e.provider}")
        print(f"Status code: {e.status_code}")
        print(f"Is retryable: {e.is_retryable}")
        
        # Handle specific error types
        if e.status_code == 429:
            print("Rate limit exceeded, please retry later")
        elif e.is_retryable:
            print("Transient error, retrying...")
    except Exception as e:
        print(f"Unexpected error: {e}")
    # Not in the guide: show the answer when there was no error.
    else:
        print("Answer:", response.get_text())


asyncio.run(main())
