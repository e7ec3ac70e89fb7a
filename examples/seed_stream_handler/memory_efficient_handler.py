"""LangChain-style StreamHandler doc (seed 002), "Memory Management": a handler that
forwards every token and runs the garbage collector every ``max_buffer_size`` tokens.

The code is the seed's, with ``from streaming import StreamHandler`` spelt
``llm_dispatch.streaming`` (the fragment uses it without importing it). The lines after it
(not in the seed) stream one answer through it — with ``max_buffer_size=10`` so that a short
answer reaches it — via ``llm_dispatch.Client(callbacks=[handler])``; with
``LLM_DISPATCH_FAKE=1`` the answer comes from the built-in fake provider server on 127.0.0.1.

    LLM_DISPATCH_FAKE=1 python examples/seed_stream_handler/memory_efficient_handler.py
"""
# ruff: noqa: E402

from llm_dispatch.streaming import StreamHandler


# fmt: off
class MemoryEfficientHandler(StreamHandler):
    def __init__(self, on_token, max_buffer_size=1000):
        super().__init__(on_token)
        self.max_buffer_size = max_buffer_size
        self.token_count = 0

    def on_llm_new_token(self, token, **kwargs):
        super().on_llm_new_token(token, **kwargs)
        self.token_count += 1

        # Periodically clear resources
        if self.token_count % self.max_buffer_size == 0:
            import gc
            gc.collect()

# fmt: on
# -- not in the seed: one streamed answer through it -----------------------------------------
import asyncio
import gc

from llm_dispatch import Client

tokens: list[str] = []
handler = MemoryEfficientHandler(on_token=tokens.append, max_buffer_size=10)
collections_before = sum(s["collections"] for s in gc.get_stats())
asyncio.run(Client(callbacks=[handler]).stream_with_usage("A long answer, please"))
collections = sum(s["collections"] for s in gc.get_stats()) - collections_before
print(f"{handler.token_count} tokens forwarded, {len(tokens)} received")
print(
    f"Collections run while streaming: at least {handler.token_count // 10}: "
    f"{collections >= handler.token_count // 10}"
)
