"""LangChain-style StreamHandler doc (seed 002), "Robust Token Handler": a wrapper that logs
what the token callback raises and lets the stream go on.

The code is the seed's, with ``from streaming import StreamHandler`` spelt
``llm_dispatch.streaming``. ``risky_operation``, which the seed leaves undefined, is
defined above it (not in the seed): it fails on every token holding a digit. The last lines
stream one answer through the handler with ``llm_dispatch.Client(callbacks=[handler])``;
with ``LLM_DISPATCH_FAKE=1`` it comes from the built-in fake provider server on 127.0.0.1.

    LLM_DISPATCH_FAKE=1 python examples/seed_stream_handler/safe_handler.py
"""
# ruff: noqa: E402, I001

handled: list[str] = []


def risky_operation(token: str) -> None:  # not in the seed
    if any(c.isdigit() for c in token):
        raise ValueError(f"cannot handle {token!r}")
    handled.append(token)


# fmt: off
from llm_dispatch.streaming import StreamHandler
import logging

logger = logging.getLogger(__name__)

def create_safe_handler(on_token):
    """Create handler with error handling"""

    def safe_token_callback(token: str):
        try:
            on_token(token)
        except Exception as e:
            logger.error(f"Error in token callback: {e}")
            # Continue streaming despite errors

    return StreamHandler(on_token=safe_token_callback)

# Usage
def my_token_handler(token):
    # This might fail
    risky_operation(token)

handler = create_safe_handler(my_token_handler)

# fmt: on
# -- not in the seed: a stream whose tokens include digits -----------------------------------
import asyncio
import sys

from llm_dispatch import Client

logging.basicConfig(stream=sys.stdout, format="logged: %(message)s")
result = asyncio.run(Client(callbacks=[handler]).stream_with_usage("Model gpt-4o-mini, 2 words"))
print(f"Handled {len(handled)} tokens; the stream went on to its end: {result.get_text()[-9:]!r}")
