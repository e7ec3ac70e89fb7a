"""LangChain-style StreamHandler doc (seed 002), "Batch buffering": tokens forwarded to
``on_token`` five at a time, the rest at the end.

The code is the seed's, with ``from streaming import StreamHandler`` spelt
``llm_dispatch.streaming`` (the fragment uses it without importing it). The lines after it
(not in the seed) stream one answer through it with
``llm_dispatch.Client(callbacks=[handler])``; with ``LLM_DISPATCH_FAKE=1`` the answer comes
from the built-in fake provider server on 127.0.0.1.

    LLM_DISPATCH_FAKE=1 python examples/seed_stream_handler/batch_handler.py
"""
# ruff: noqa: E402

from llm_dispatch.streaming import StreamHandler


# fmt: off
class BatchStreamHandler(StreamHandler):
    def __init__(self, on_token, batch_size=5):
        super().__init__(on_token)
        self.batch_size = batch_size
        self.buffer = []

    def on_llm_new_token(self, token, **kwargs):
        self.buffer.append(token)
        if len(self.buffer) >= self.batch_size:
            self.flush()

    def flush(self):
        if self.buffer:
            combined = ''.join(self.buffer)
            self.on_token(combined)
            self.buffer = []

    def on_llm_end(self, *args, **kwargs):
        self.flush()  # Send remaining tokens

# fmt: on
# -- not in the seed: one streamed answer through it -----------------------------------------
import asyncio

from llm_dispatch import Client

batches: list[str] = []
handler = BatchStreamHandler(on_token=batches.append)
result = asyncio.run(Client(callbacks=[handler]).stream_with_usage("Tell me about batching"))
for batch in batches[:2]:
    print(f"batch: {batch!r}")
print(f"{len(batches)} batches, last: {batches[-1]!r}")
print(f"Batches add up to the answer: {''.join(batches) == result.get_text()}")
