"""LangChain-style StreamHandler doc (seed 002), "Token Accumulation with Statistics": a
StreamHandler subclass that also hears ``on_llm_start`` / ``on_llm_end`` and reports the
token count and speed.

The code is the seed's, with ``from streaming import StreamHandler`` spelt
``llm_dispatch.streaming``. The last lines (not in the seed) stream one answer through it
with ``llm_dispatch.Client(callbacks=[handler])``; with ``LLM_DISPATCH_FAKE=1`` the answer
comes from the built-in fake provider server on 127.0.0.1.

    LLM_DISPATCH_FAKE=1 python examples/seed_stream_handler/statistics_handler.py
"""
# ruff: noqa: E402, I001, F541

# fmt: off
from llm_dispatch.streaming import StreamHandler
import time

class StatisticsStreamHandler(StreamHandler):
    def __init__(self, on_token):
        super().__init__(on_token)
        self.token_count = 0
        self.start_time = None
        self.tokens_per_second = 0

    def on_llm_start(self, *args, **kwargs):
        """Track when generation starts"""
        self.start_time = time.time()
        self.token_count = 0

    def on_llm_new_token(self, token, **kwargs):
        """Track tokens and calculate speed"""
        super().on_llm_new_token(token, **kwargs)
        self.token_count += 1

        if self.start_time:
            elapsed = time.time() - self.start_time
            self.tokens_per_second = self.token_count / elapsed if elapsed > 0 else 0

    def on_llm_end(self, *args, **kwargs):
        """Print statistics when done"""
        print(f"\n\nStatistics:")
        print(f"  Total tokens: {self.token_count}")
        print(f"  Speed: {self.tokens_per_second:.2f} tokens/sec")

# Usage
def print_token(token):
    print(token, end='', flush=True)

handler = StatisticsStreamHandler(on_token=print_token)

# fmt: on
# -- not in the seed: one streamed answer through it -----------------------------------------
import asyncio

from llm_dispatch import Client

result = asyncio.run(Client(callbacks=[handler]).stream_with_usage("Count to ten"))
print(f"The handler counted {handler.token_count} tokens of {len(result.get_text())} characters")
