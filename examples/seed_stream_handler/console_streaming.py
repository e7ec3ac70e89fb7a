"""LangChain-style StreamHandler doc (seed 002), "Basic Console Streaming": every token of
the answer printed as it arrives, through ``StreamHandler(on_token=...)``.

The handler code is the seed's, with ``from streaming import StreamHandler`` spelt
``llm_dispatch.streaming``. LangChain is not a dependency, so the two ``ChatOpenAI`` lines
are the same call through ``llm_dispatch.Client`` (marked below): the handler is passed as
``callbacks=[handler]`` exactly as to ChatOpenAI. With ``LLM_DISPATCH_FAKE=1`` the answer
comes from the built-in fake provider server on 127.0.0.1.

    LLM_DISPATCH_FAKE=1 python examples/seed_stream_handler/console_streaming.py
"""
# ruff: noqa: I001

import asyncio

from llm_dispatch import Client

# fmt: off
from llm_dispatch.streaming import StreamHandler

def print_token(token: str):
    print(token, end='', flush=True)

# Create handler
handler = StreamHandler(on_token=print_token)

# Use with LangChain LLM
llm = Client(callbacks=[handler])  # seed: ChatOpenAI(streaming=True, callbacks=[handler])
response = asyncio.run(llm.stream_with_usage("Write a short poem about AI"))  # llm.invoke(...)
# Tokens appear progressively: "In", " circuits", " deep", ...

# fmt: on
# -- not in the seed ------------------------------------------------------------------------
print(f"\n[{response.provider}/{response.model}: {response.usage.completion_tokens} tokens]")
