"""LangChain-style StreamHandler doc (seed 002), "Multiple Handlers": one answer's tokens to
the console, to a file and to a metrics function, through three StreamHandlers at once.

The handler code is the seed's, with ``from streaming import StreamHandler`` spelt
``llm_dispatch.streaming``. The seed runs them with ``execute(query, callbacks=handlers)``
from its own ``router`` module, which is not part of this package: the same list goes to
``llm_dispatch.Client(callbacks=handlers)`` instead (marked below), with ``query`` defined
first. The file is written in a temporary directory. With ``LLM_DISPATCH_FAKE=1`` the answer
comes from the built-in fake provider server on 127.0.0.1.

    LLM_DISPATCH_FAKE=1 python examples/seed_stream_handler/multiple_handlers.py
"""
# ruff: noqa: E402, I001

import asyncio
import os
import tempfile

from llm_dispatch import Client

os.chdir(tempfile.mkdtemp())  # not in the seed: response_log.txt goes there
query = "What's in the Q3 report?"  # not in the seed

# fmt: off
from llm_dispatch.streaming import StreamHandler

def console_output(token: str):
    print(token, end='', flush=True)

def file_logger(token: str):
    with open('response_log.txt', 'a') as f:
        f.write(token)

def metrics_tracker(token: str):
    # Track tokens for analytics
    pass

# Create multiple handlers
handlers = [
    StreamHandler(on_token=console_output),
    StreamHandler(on_token=file_logger),
    StreamHandler(on_token=metrics_tracker)
]

# Use all handlers together
result = asyncio.run(Client(callbacks=handlers).stream_with_usage(query))
# (seed: from router import execute; result, route, scores = execute(query, callbacks=handlers))

# fmt: on
# -- not in the seed -------------------------------------------------------------------------
with open("response_log.txt") as f:
    print(f"\nThe file holds the same answer: {f.read() == result.get_text()}")
