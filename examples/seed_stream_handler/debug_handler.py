"""LangChain-style StreamHandler doc (seed 002), "Debug Handler": every token printed with
the keyword arguments the handler got, and logged with a timestamp for statistics.

The code is the seed's, with ``from streaming import StreamHandler`` spelt
``llm_dispatch.streaming`` (the fragment uses it and ``time`` without importing them). The
keyword argument is ``run_id``, the request id as a UUID. The lines after it (not in the
seed) stream one answer through it with ``llm_dispatch.Client(callbacks=[handler])``; with
``LLM_DISPATCH_FAKE=1`` the answer comes from the built-in fake provider server on 127.0.0.1.

    LLM_DISPATCH_FAKE=1 python examples/seed_stream_handler/debug_handler.py
"""
# ruff: noqa: E402

import time

from llm_dispatch.streaming import StreamHandler


# fmt: off
class DebugStreamHandler(StreamHandler):
    def __init__(self, on_token, verbose=True):
        super().__init__(on_token)
        self.verbose = verbose
        self.token_log = []

    def on_llm_new_token(self, token, **kwargs):
        if self.verbose:
            # Log metadata
            print(f"\n[Token {len(self.token_log)}]: '{token}'")
            print(f"  Kwargs: {kwargs}")

        self.token_log.append({
            'token': token,
            'timestamp': time.time(),
            'metadata': kwargs
        })

        super().on_llm_new_token(token, **kwargs)

    def get_stats(self):
        return {
            'total_tokens': len(self.token_log),
            'avg_token_length': sum(len(t['token']) for t in self.token_log) / len(self.token_log),
            'duration': self.token_log[-1]['timestamp'] - self.token_log[0]['timestamp']
        }

# fmt: on
# -- not in the seed: one streamed answer through it -----------------------------------------
import asyncio

from llm_dispatch import Client

handler = DebugStreamHandler(on_token=lambda token: None)
asyncio.run(Client(callbacks=[handler]).stream_with_usage("Debug me", provider="google"))
stats = handler.get_stats()
print(f"\nStats: {stats['total_tokens']} tokens, {stats['avg_token_length']:.1f} characters each")
