"""Seed 003 (Steer LLM SDK guide), "xAI Streaming", as the guide writes it.

The guide's client knows xAI; here a model is served by a configured provider that names
it, so the wrapper configures one (an OpenAI-compatible server). Without it, the same call
is refused before anything is sent, as the end of this script shows.

    LLM_DISPATCH_FAKE=1 python examples/seed_steer/xai_streaming.py
"""

import asyncio

from llm_dispatch import NoProviderAvailable, SteerLLMClient
from llm_dispatch.streaming import StreamingOptions

# wrapper: a client whose configuration has an xAI provider serving grok-2
client = SteerLLMClient(
    {
        "providers": {
            "xai": {
                "kind": "openai",
                "base_url": "https://api.x.ai/v1",
                "api_key": "${XAI_API_KEY}",
                "models": ["grok-2"],
            }
        }
    }
)

# xAI-specific configuration
xai_options = StreamingOptions(
    enable_usage_aggregation=True,
    aggregator_type="character",
    connection_timeout=10.0,  # xAI may need more time
    read_timeout=45.0
)


async def main() -> None:  # wrapper: the guide's code uses await at top level
    response = await client.stream_with_usage(
        "Generate text",
        model="grok-2",
        streaming_options=xai_options
    )
    # Not in the guide: where it went; then the same call on a client with no xAI provider.
    print(f"[{response.provider}/{response.model}] {response.get_text()}")
    await client.aclose()
    try:
        await SteerLLMClient().stream_with_usage(
            "Generate text", model="grok-2", streaming_options=xai_options
        )
    except NoProviderAvailable as exc:
        print(f"without an xAI provider: {exc}")


asyncio.run(main())
