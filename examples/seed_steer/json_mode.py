"""Seed 003 (Steer LLM SDK guide), "JSON Mode Streaming", as the guide writes it.

    LLM_DISPATCH_FAKE=1 python examples/seed_steer/json_mode.py
"""

import asyncio

from llm_dispatch import SteerLLMClient
from llm_dispatch.streaming import JSON_MODE_OPTIONS

client = SteerLLMClient()  # wrapper: the guide made this client in an earlier sample


async def main() -> None:  # wrapper: the guide's code uses await at top level
    # Generate structured data
    response = await client.stream_with_usage(
        "Generate a JSON object with user data including name, age, and email",
        model="gpt-4",
        response_format={"type": "json_object"},
        streaming_options=JSON_MODE_OPTIONS
    )

    # Get the parsed JSON
    json_data = response.get_json()
    print(json_data)
    # Output: {'name': 'John Doe', 'age': 30, 'email': 'john@example.com'}

    # The raw text is still available
    print(response.get_text())


asyncio.run(main())
