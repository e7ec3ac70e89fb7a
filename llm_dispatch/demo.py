"""The demo behind ``llm-dispatch demo`` and ``examples/quickstart.py``.

It streams one decorated function through OpenAI, Anthropic and Google Gemini. A provider
whose key is set (``OPENAI_API_KEY``, ``ANTHROPIC_API_KEY``, ``GEMINI_API_KEY`` /
``GOOGLE_API_KEY``) is the real one; the others are served by the built-in fake provider
server on 127.0.0.1, which speaks each provider's real streaming wire format, so the
official SDKs run unmodified over real HTTP. It then shows the chunk dicts of
``@llm_stream_with_metadata`` and a small concurrent batch through the client API.
"""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any, TextIO

from .client import Client
from .decorators import llm_stream, llm_stream_with_metadata
from .dispatcher import Dispatcher
from .offline import fake_mode_requested
from .progress.tracker import ProgressTracker
from .settings.models import builtin_providers
from .task_types import TaskType
from .testing import FakeProviderServer

__all__ = [
    "DEMO_MODELS",
    "KEY_VARIABLES",
    "demo_dispatcher",
    "has_key",
    "run_demo",
]

KEY_VARIABLES: dict[str, tuple[str, ...]] = {
    "openai": ("OPENAI_API_KEY",),
    "anthropic": ("ANTHROPIC_API_KEY",),
    "google": ("GEMINI_API_KEY", "GOOGLE_API_KEY"),
}
DEMO_MODELS = {
    "openai": "gpt-4o-mini",
    "anthropic": "claude-haiku-4-5",
    "google": "gemini-2.5-flash",
}


def has_key(provider: str) -> bool:
    return any(os.environ.get(v) for v in KEY_VARIABLES[provider])


@asynccontextmanager
async def demo_dispatcher(
    on_fake_server: Callable[[FakeProviderServer], None] | None = None,
    *,
    fake: bool | None = None,
) -> AsyncIterator[Dispatcher]:
    """A dispatcher for the three providers: the real one where its key is set, else the
    fake server on 127.0.0.1 (started here, stopped on exit; ``on_fake_server`` is told
    when it starts). ``fake=True`` (default: ``LLM_DISPATCH_FAKE``) fakes all three.
    Example list prices are configured so that ``cost_usd`` shows."""
    fake_all = fake_mode_requested() if fake is None else fake
    async with AsyncExitStack() as stack:
        builtin = builtin_providers()
        providers: dict[str, Any] = {}
        server: FakeProviderServer | None = None
        for name, model in DEMO_MODELS.items():
            entry: dict[str, Any] = {
                "kind": name,
                "default_model": model,
                "prices": {m: p.model_dump() for m, p in builtin[name].prices.items()},
            }
            if fake_all or not has_key(name):
                if server is None:
                    server = await stack.enter_async_context(FakeProviderServer())
                    if on_fake_server is not None:
                        on_fake_server(server)
                entry["base_url"] = server.base_url_for(name)
                entry["api_key"] = "fake-key"
            providers[name] = entry
        # The fake server here serves exactly the providers without a key.
        dispatcher = Dispatcher({"providers": providers}, fake=False)
        stack.push_async_callback(dispatcher.aclose)
        yield dispatcher


async def run_demo(out: TextIO | None = None, *, fake: bool | None = None) -> int:
    """Run the demo, writing to ``out`` (stdout by default); returns the exit status.

    ``fake=True`` (default: ``LLM_DISPATCH_FAKE``) uses the fake server for every provider.
    """
    out = out if out is not None else sys.stdout
    fake_all = fake_mode_requested() if fake is None else fake

    def say(text: str = "", end: str = "\n") -> None:
        print(text, end=end, file=out, flush=True)

    def announce(server: FakeProviderServer) -> None:
        say(f"(no API key for some providers: using the fake server at {server.url})\n")

    async with demo_dispatcher(announce, fake=fake_all) as dispatcher:
        tracker = ProgressTracker()

        @llm_stream(
            task_type=TaskType.TEXT_GENERATION,
            dispatcher=dispatcher,
            max_tokens=200,
            progress_tracker=tracker,
        )
        async def stream_text(prompt: str) -> Any:
            yield "offline stand-in"

        prompt = "In three sentences, why do streaming APIs improve perceived latency?"
        for name in DEMO_MODELS:
            real = has_key(name) and not fake_all
            say(f"--- {name} ({'real' if real else 'fake'}) ---")
            stream = stream_text.with_options(providers=[name])(prompt)
            async for chunk in stream:
                say(chunk, end="")
            usage = stream.usage
            cost = f"${stream.cost_usd:.6f}" if stream.cost_usd is not None else "cost unknown"
            estimated = " (estimated)" if usage is not None and usage.estimated else ""
            # Over the whole stream, request to last chunk: what the reader waited for.
            seconds = stream.duration_ms / 1000.0
            rate = usage.completion_tokens / seconds if usage is not None and seconds else None
            say(
                f"\n[{stream.provider}/{stream.model}: {stream.finish_reason}, "
                f"{usage.total_tokens if usage else '?'} tokens"
                f" ({usage.completion_tokens if usage else '?'} out){estimated}, {cost}, "
                f"{stream.duration_ms:.0f} ms, "
                f"{f'{rate:.0f} tok/s' if rate is not None else '- tok/s'}, "
                f"progress {tracker.get_progress():.0f}%]\n"
            )

        @llm_stream_with_metadata(providers=["anthropic"], dispatcher=dispatcher)
        async def stream_with_metadata(prompt: str) -> Any:
            yield "offline stand-in"

        say("--- metadata dicts (first three and the final one) ---")
        async for item in stream_with_metadata("Write a story"):
            if item["chunk_index"] < 3 or item["is_final"]:
                say(
                    f"[{item['provider']}:{item['model']}] #{item['chunk_index']} "
                    f"{item['chunk']!r} progress={item['progress']:.0f} "
                    f"final={item['is_final']} usage={item['usage']}"
                )

        say("\n--- client batch: three prompts, two at a time ---")
        client = Client(dispatcher=dispatcher)
        results = await client.batch(
            [
                {"prompt": f"Name a {thing}", "provider": name}
                for thing, name in zip(("color", "planet", "river"), DEMO_MODELS, strict=True)
            ],
            concurrency=2,
        )
        for result in results:
            assert not isinstance(result, BaseException)  # batch() raises on failure
            say(f"[{result.provider}] {result.get_text()[:72]}...")
    return 0
