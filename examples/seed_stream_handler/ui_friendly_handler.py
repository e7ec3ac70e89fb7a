"""LangChain-style StreamHandler doc (seed 002), "User Experience": a typing indicator sent
when generation starts and cleared by the first token.

The code is the seed's, with ``from streaming import StreamHandler`` spelt
``llm_dispatch.streaming`` (the fragment uses it without importing it). The lines after it
(not in the seed) stream one answer through it with
``llm_dispatch.Client(callbacks=[handler])`` and show what ``on_token`` received; with
``LLM_DISPATCH_FAKE=1`` the answer comes from the built-in fake provider server on 127.0.0.1.

    LLM_DISPATCH_FAKE=1 python examples/seed_stream_handler/ui_friendly_handler.py
"""
# ruff: noqa: E402

from llm_dispatch.streaming import StreamHandler


# fmt: off
class UIFriendlyHandler(StreamHandler):
    def __init__(self, on_token, typing_indicator=True):
        super().__init__(on_token)
        self.typing_indicator = typing_indicator
        self.first_token = True

    def on_llm_start(self, *args, **kwargs):
        if self.typing_indicator:
            self.on_token("⋯")  # Show typing indicator

    def on_llm_new_token(self, token, **kwargs):
        if self.first_token and self.typing_indicator:
            # Clear typing indicator
            self.on_token("\b\b\b")
            self.first_token = False

        super().on_llm_new_token(token, **kwargs)

# fmt: on
# -- not in the seed: one streamed answer through it -----------------------------------------
import asyncio

from llm_dispatch import Client

received: list[str] = []
handler = UIFriendlyHandler(on_token=received.append)
asyncio.run(Client(callbacks=[handler]).stream_with_usage("Hello there"))
print(f"on_token received first: {received[:4]}")
