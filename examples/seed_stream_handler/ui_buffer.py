"""LangChain-style StreamHandler doc (seed 002), "Custom UI Buffer": tokens appended to a
buffer that re-renders the line on each one.

The code is the seed's, with ``from streaming import StreamHandler`` spelt
``llm_dispatch.streaming``. Where it says "Use handler with LLM..." one line (marked) streams
an answer through ``llm_dispatch.Client(callbacks=[handler])``; with ``LLM_DISPATCH_FAKE=1``
it comes from the built-in fake provider server on 127.0.0.1.

    LLM_DISPATCH_FAKE=1 python examples/seed_stream_handler/ui_buffer.py
"""
# ruff: noqa: I001, F401

import asyncio

from llm_dispatch import Client

# fmt: off
from llm_dispatch.streaming import StreamHandler
import time

class UIBuffer:
    def __init__(self):
        self.buffer = []
        self.complete = False

    def add_token(self, token: str):
        self.buffer.append(token)
        # Update UI here
        self.render()

    def render(self):
        # Custom rendering logic
        print(f"\rCurrent: {''.join(self.buffer)}", end='', flush=True)

    def finalize(self):
        self.complete = True
        print("\n[Response complete]")

# Usage
ui = UIBuffer()
handler = StreamHandler(on_token=ui.add_token)

# Use handler with LLM...
asyncio.run(Client(callbacks=[handler]).stream_with_usage("Describe a sunset"))  # not in seed
# Then finalize
ui.finalize()

# fmt: on
# -- not in the seed -------------------------------------------------------------------------
print(f"{len(ui.buffer)} tokens buffered, complete={ui.complete}")
