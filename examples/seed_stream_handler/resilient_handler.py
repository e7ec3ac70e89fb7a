"""LangChain-style StreamHandler doc (seed 002), "Connection Failure Recovery": a handler
that retries ``on_token`` when it raises ``ConnectionError``.

The code is the seed's, with ``from streaming import StreamHandler`` spelt
``llm_dispatch.streaming``; ``logger`` and ``time``, which the fragment uses without
defining, come first (not in the seed), with an ``on_token`` whose connection drops once
every fifth token. The last lines stream one answer through the handler with
``llm_dispatch.Client(callbacks=[handler])``; with ``LLM_DISPATCH_FAKE=1`` it comes from the
built-in fake provider server on 127.0.0.1.

    LLM_DISPATCH_FAKE=1 python examples/seed_stream_handler/resilient_handler.py
"""
# ruff: noqa: E402

import logging
import time

from llm_dispatch.streaming import StreamHandler

logger = logging.getLogger(__name__)
sent: list[str] = []
attempts = 0


def flaky_send(token: str) -> None:  # not in the seed: fails on every fifth attempt
    global attempts
    attempts += 1
    if attempts % 5 == 0:
        raise ConnectionError("connection reset")
    sent.append(token)


# fmt: off
class ResilientStreamHandler(StreamHandler):
    def __init__(self, on_token, max_retries=3):
        super().__init__(on_token)
        self.max_retries = max_retries
        self.retry_count = 0

    def on_llm_new_token(self, token, **kwargs):
        for attempt in range(self.max_retries):
            try:
                self.on_token(token)
                self.retry_count = 0  # Reset on success
                break
            except ConnectionError:
                self.retry_count += 1
                if attempt == self.max_retries - 1:
                    logger.error("Max retries reached, dropping token")
                else:
                    time.sleep(0.1 * (attempt + 1))  # Exponential backoff

# fmt: on
# -- not in the seed: a stream through a connection that drops ------------------------------
import asyncio

from llm_dispatch import Client

handler = ResilientStreamHandler(on_token=flaky_send)
result = asyncio.run(Client(callbacks=[handler]).stream_with_usage("Tell me about retries"))
print(f"{attempts} sends for {len(sent)} tokens ({attempts - len(sent)} retried)")
print(f"Every token arrived once, in order: {''.join(sent) == result.get_text()}")
