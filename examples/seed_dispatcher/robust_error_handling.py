"""Seed 004, the LLM-Dispatcher streaming guide:
"Robust Streaming with Error Handling",
as the guide writes it (but for the package name, `llm_dispatch`).

    LLM_DISPATCH_FAKE=1 python examples/seed_dispatcher/robust_error_handling.py
"""

# Added: the names the guide's sample uses without importing them.
import asyncio

from llm_dispatch import *

# The guide's sample:

from llm_dispatch.exceptions import StreamingError, ProviderError

@llm_stream(
    task_type=TaskType.TEXT_GENERATION,
    fallback_enabled=True,
    max_retries=3
)
async def robust_stream(prompt: str):
    """Stream with error handling and fallback."""
    # This is a placeholder - actual streaming would be handled internally
    chunks = ["Robust", " streaming", " with", " error", " handling"]

    for chunk in chunks:
        yield chunk

# Usage with error handling
async def main():
    try:
        async for chunk in robust_stream("Write a story"):
            print(chunk, end="", flush=True)
    except StreamingError as e:
        print(f"Streaming error: {e}")
        # Handle streaming-specific errors
    except ProviderError as e:
        print(f"Provider error: {e}")
        # Handle provider errors
    except Exception as e:
        print(f"Unexpected error: {e}")
        # Handle other errors

asyncio.run(main())
