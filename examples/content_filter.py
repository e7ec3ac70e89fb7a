"""Filtering what a stream delivers, through the stage protocol.

Two ways: an ``EventTransformer`` (one chunk at a time), and ``BannedWordsFilter``,
which also catches a word that a chunk boundary cuts in two. Callbacks see the filtered
text, since they run after every stage that changes it.

    python examples/content_filter.py
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

from llm_dispatch import llm_stream
from llm_dispatch.demo import demo_dispatcher
from llm_dispatch.streaming import BannedWordsFilter, EventTransformer, StreamDeltaEvent
from llm_dispatch.testing import FakeProviderServer, Script

# What the fake provider answers (a real model answers what it likes).
SCRIPTED = ["The cat was ", "graci", "ously rude: ", "rude, ", "rude and ", "RUDE."]


class ContentFilterTransformer(EventTransformer):
    """A transformer: masks whole words found inside one chunk."""

    def __init__(self, banned_words: list[str]) -> None:
        self.banned_words = {w.lower() for w in banned_words}

    async def transform(self, event: StreamDeltaEvent) -> StreamDeltaEvent | None:
        words = event.delta.get_text().split(" ")
        masked = ["***" if w.strip(".,:").lower() in self.banned_words else w for w in words]
        event.delta.value = " ".join(masked)
        return event


async def main() -> int:
    servers: list[FakeProviderServer] = []
    async with demo_dispatcher(servers.append) as dispatcher:
        for stage in (ContentFilterTransformer(["graciously"]), BannedWordsFilter(["graciously"])):
            if servers:
                servers[0].enqueue(Script(chunks=SCRIPTED))

            @llm_stream(providers=["openai"], dispatcher=dispatcher, stages=[stage])
            async def answer(prompt: str) -> Any:
                yield "offline stand-in"

            stream = answer("Describe the cat, using the word 'graciously'.")
            text = "".join([chunk async for chunk in stream])
            print(f"{type(stage).__name__:>26}: {text}")
            print(f"{'provider sent':>26}: {stream.context.raw_text}\n")
        if servers:
            print("(the fake answer splits 'graciously' across two chunks: the per-chunk")
            print(" transformer misses it, the filter holds the partial word back and masks it)")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
