"""Every callback style on one stream, then typed event callbacks on the client.

Runs offline (the built-in fake provider server) unless provider API keys are set.

    python examples/callbacks.py
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

from llm_dispatch import Client, llm_stream
from llm_dispatch.demo import demo_dispatcher
from llm_dispatch.streaming import StreamDeltaEvent, StreamHandler, StreamingCallbacks


class TimingHandler:
    """A LangChain-style handler (any object with on_llm_* methods works, no LangChain)."""

    def on_llm_start(self, serialized: dict[str, Any], prompts: list[str], **kwargs: Any) -> None:
        print(f"[langchain] start {serialized['model']} run_id={kwargs['run_id']}")

    def on_llm_end(self, response: Any, **kwargs: Any) -> None:
        print(f"[langchain] end after {response.duration_ms:.0f} ms")


async def main() -> int:
    async with demo_dispatcher() as dispatcher:
        seed_004 = StreamingCallbacks(
            on_stream_start=lambda m: print(f"[004] start {m['provider']}:{m['model']}"),
            on_chunk_received=lambda chunk, m: None,  # every chunk, with its chunk dict
            on_usage=lambda m: print(f"[004] usage {m['usage']} cost={m['cost_usd']}"),
            on_stream_end=lambda m: print(
                f"[004] end: {m['total_tokens']} tokens in {m['duration']:.2f}s"
            ),
            on_error=lambda exc, m: print(f"[004] error {m['error_type']}: {exc}"),
        )
        tokens: list[str] = []

        @llm_stream(
            providers=["anthropic"],
            dispatcher=dispatcher,
            callbacks=[seed_004, StreamHandler(on_token=tokens.append), TimingHandler()],
        )
        async def story(prompt: str) -> Any:
            yield "offline stand-in"

        text = "".join([chunk async for chunk in story("Write a two-line story")])
        assert "".join(tokens) == text  # the handler saw exactly what was printed
        print(text, "\n")

        async def on_delta(event: StreamDeltaEvent) -> None:
            if event.chunk_index < 3:
                print(f"[003] chunk {event.chunk_index}: {event.delta.get_text()!r}")

        # The on_* arguments become an EventCallbacks object (typed events).
        client = Client(dispatcher=dispatcher)
        response = await client.stream_with_usage(
            "Explain quantum computing in one sentence",
            model="gemini-2.5-flash",
            on_start=lambda e: print(f"[003] started {e.provider}/{e.model}"),
            on_delta=on_delta,
            on_usage=lambda e: print(f"[003] usage {e.usage}"),
            on_complete=lambda e: print(f"[003] complete in {e.metadata['duration_ms']:.0f} ms"),
            on_error=lambda e: print(f"[003] {e.error_type}: {e.error}"),
        )
        print(response.get_text())
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
