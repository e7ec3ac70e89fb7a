"""LangChain-style StreamHandler doc (seed 002), "Initialization": a StreamHandler that
hands every token to one function.

The code is the seed's, with ``from streaming import StreamHandler`` spelt
``llm_dispatch.streaming``. The lines after it (not in the seed) give the handler a
dispatched answer to stream, through ``llm_dispatch.Client(callbacks=[handler])``; with
``LLM_DISPATCH_FAKE=1`` it comes from the built-in fake provider server on 127.0.0.1.

    LLM_DISPATCH_FAKE=1 python examples/seed_stream_handler/initialization.py
"""
# ruff: noqa: E402, I001

# fmt: off
from llm_dispatch.streaming import StreamHandler

def handle_token(token: str):
    print(token, end='', flush=True)

handler = StreamHandler(on_token=handle_token)

# fmt: on
# -- not in the seed: one streamed answer through the handler -------------------------------
import asyncio

from llm_dispatch import Client

print(f"on_token is handle_token: {handler.on_token is handle_token}")
result = asyncio.run(
    Client(callbacks=[handler]).stream_with_usage("Say hello", provider="anthropic")
)
print(f"\n[{result.provider}/{result.model}]")
