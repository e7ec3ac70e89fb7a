"""Seed 003 (Steer LLM SDK guide), "Custom Event Transformers", as the guide writes it.

    LLM_DISPATCH_FAKE=1 python examples/seed_steer/content_filter_transformer.py
"""

import asyncio

from llm_dispatch import SteerLLMClient
from llm_dispatch.streaming import (
    EventTransformer,
    StreamDeltaEvent,
    StreamingOptions,
    create_event_processor,
)


class ContentFilterTransformer(EventTransformer):
    """Filter sensitive content from streaming responses."""
    
    def __init__(self, banned_words):
        self.banned_words = set(w.lower() for w in banned_words)
    
    async def transform(self, event):
        if isinstance(event, StreamDeltaEvent):
            text = event.delta.get_text()
            if text:
                # Simple word filtering
                words = text.split()
                filtered = [
                    "***" if w.lower() in self.banned_words else w 
                    for w in words
                ]
                event.delta.value = " ".join(filtered)
        return event

# Create processor with custom transformer
processor = create_event_processor()
processor.add_transformer(ContentFilterTransformer(["badword"]))

options = StreamingOptions(event_processor=processor)


async def main() -> None:  # not in the guide: a call that uses these options
    client = SteerLLMClient()
    response = await client.stream_with_usage(
        "Say a badword here", model="gpt-4", streaming_options=options
    )
    print("Filtered:", response.get_text())


asyncio.run(main())
