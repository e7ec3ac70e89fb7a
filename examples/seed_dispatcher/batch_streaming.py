"""Seed 004, the LLM-Dispatcher streaming guide:
"Batch Streaming",
as the guide writes it (but for the package name, `llm_dispatch`).

    LLM_DISPATCH_FAKE=1 python examples/seed_dispatcher/batch_streaming.py
"""

# Added: the names the guide's sample uses without importing them.
import asyncio

from llm_dispatch import *

# The guide's sample:

async def batch_stream(requests: list):
    """Stream multiple requests efficiently."""
    switch = get_global_switch()

    # Group requests by provider for efficiency
    grouped_requests = switch.group_requests_by_provider(requests)

    for provider, provider_requests in grouped_requests.items():
        # Stream each provider's requests
        for request in provider_requests:
            async for chunk in switch.stream_request(request):
                yield chunk

# Usage
requests = [
    TaskRequest(prompt="Write a story", task_type=TaskType.TEXT_GENERATION),
    TaskRequest(prompt="Explain AI", task_type=TaskType.TEXT_GENERATION),
    TaskRequest(prompt="Code example", task_type=TaskType.CODE_GENERATION)
]

async def main():
    async for chunk in batch_stream(requests):
        print(chunk, end="", flush=True)

asyncio.run(main())
