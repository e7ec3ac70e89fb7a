"""Stream one decorated function through OpenAI, Anthropic and Google Gemini.

With no API keys set, the providers are served by the built-in fake provider server on
127.0.0.1. It speaks each provider's real streaming wire format, so the official SDKs run
unmodified over real HTTP. A provider whose key is set (OPENAI_API_KEY, ANTHROPIC_API_KEY,
GEMINI_API_KEY or GOOGLE_API_KEY) is the real one.

    python examples/quickstart.py
"""

from __future__ import annotations

import asyncio
import os
import sys
from contextlib import AsyncExitStack
from typing import Any

from llm_dispatch import Dispatcher, TaskType, llm_stream, llm_stream_with_metadata
from llm_dispatch.testing import FakeProviderServer

KEY_VARIABLES = {
    "openai": ("OPENAI_API_KEY",),
    "anthropic": ("ANTHROPIC_API_KEY",),
    "google": ("GEMINI_API_KEY", "GOOGLE_API_KEY"),
}
MODELS = {"openai": "gpt-4o-mini", "anthropic": "claude-haiku-4-5", "google": "gemini-2.5-flash"}


def has_key(provider: str) -> bool:
    return any(os.environ.get(v) for v in KEY_VARIABLES[provider])


async def main() -> int:
    async with AsyncExitStack() as stack:
        providers: dict[str, Any] = {}
        server: FakeProviderServer | None = None
        for name, model in MODELS.items():
            entry: dict[str, Any] = {"kind": name, "default_model": model}
            if not has_key(name):
                if server is None:
                    server = await stack.enter_async_context(FakeProviderServer())
                    print(
                        f"(no API keys for some providers: using the fake server at {server.url})\n"
                    )
                entry["base_url"] = server.base_url_for(name)
                entry["api_key"] = "fake-key"
            providers[name] = entry
        dispatcher = Dispatcher({"providers": providers})
        stack.push_async_callback(dispatcher.aclose)

        @llm_stream(task_type=TaskType.TEXT_GENERATION, dispatcher=dispatcher, max_tokens=200)
        async def stream_text(prompt: str) -> Any:
            yield "offline stand-in"

        prompt = "In three sentences, why do streaming APIs improve perceived latency?"
        for name in MODELS:
            real = "real" if has_key(name) else "fake"
            print(f"--- {name} ({real}) ---")
            stream = stream_text.with_options(providers=[name])(prompt)
            async for chunk in stream:
                print(chunk, end="", flush=True)
            usage = stream.usage
            print(
                f"\n[{stream.provider}/{stream.model}: {stream.finish_reason}, "
                f"{usage.total_tokens if usage else '?'} tokens, {stream.duration_ms:.0f} ms]\n"
            )

        @llm_stream_with_metadata(providers=["anthropic"], dispatcher=dispatcher)
        async def stream_with_metadata(prompt: str) -> Any:
            yield "offline stand-in"

        print("--- metadata dicts (first three and the final one) ---")
        async for item in stream_with_metadata("Write a story"):
            if item["chunk_index"] < 3 or item["is_final"]:
                print(
                    f"[{item['provider']}:{item['model']}] #{item['chunk_index']} "
                    f"{item['chunk']!r} final={item['is_final']} usage={item['usage']}"
                )
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
