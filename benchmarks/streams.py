"""The streams the overhead benchmarks compare, shared by ``overhead.py`` and ``instructions.py``.

The fake provider server in a process of its own (:func:`start_server`), and for each row
of the tables (:data:`ROWS`: the three providers, and OpenAI through its Responses API)
the ways to stream its answer: the raw SDK, ``@llm_stream``, ``@llm_stream_with_metadata``,
and ``@llm_stream`` with ``parser: fast`` where the row's kind has a fast parser
(:func:`make_variants`). Each stream returns the number of chunks it saw.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from llm_dispatch import Dispatcher, llm_stream, llm_stream_with_metadata
from llm_dispatch.providers.base import FAST_PARSER_KINDS

MODELS = {"openai": "gpt-4o-mini", "anthropic": "claude-haiku-4-5", "google": "gemini-2.5-flash"}
#: The tables' rows, each with its provider kind: ``responses`` is an ``openai`` provider
#: whose ``api`` is ``responses`` (``POST /v1/responses`` on the fake server).
ROWS = {"openai": "openai", "responses": "openai", "anthropic": "anthropic", "google": "google"}
#: The rows whose kind has a fast parser (a ``parser: fast`` variant).
FAST_ROWS = tuple(row for row, kind in ROWS.items() if kind in FAST_PARSER_KINDS)
KEY = "bench-key"

Streamer = Callable[[], Awaitable[int]]


def start_server(chunks: int) -> tuple[subprocess.Popen[str], str]:
    """The fake server answering every request with ``chunks`` chunks, and its URL."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "llm_dispatch.testing", "--chunks", str(chunks)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    found = re.search(r"http://127\.0\.0\.1:\d+", line)
    if found is None:
        proc.kill()
        raise RuntimeError(f"fake server did not start: {line!r}")
    return proc, found.group(0)


def stop_server(proc: subprocess.Popen[str]) -> None:
    proc.terminate()
    proc.wait(timeout=10)


def raw_streamers(url: str) -> dict[str, Streamer]:
    import anthropic
    import openai
    from google import genai
    from google.genai import types

    oa = openai.AsyncOpenAI(api_key=KEY, base_url=f"{url}/v1", max_retries=0)
    an = anthropic.AsyncAnthropic(api_key=KEY, base_url=url, max_retries=0)
    go = genai.Client(
        api_key=KEY,
        http_options=types.HttpOptions(
            base_url=url, retry_options=types.HttpRetryOptions(attempts=1)
        ),
    )
    messages = [{"role": "user", "content": "benchmark"}]

    async def openai_raw() -> int:
        n = 0
        stream = await oa.chat.completions.create(
            model=MODELS["openai"],
            messages=messages,
            stream=True,  # type: ignore[arg-type]
            stream_options={"include_usage": True},
        )
        async for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content:
                n += 1
        return n

    async def responses_raw() -> int:
        n = 0
        stream = await oa.responses.create(model=MODELS["openai"], input="benchmark", stream=True)
        async for event in stream:
            if event.type == "response.output_text.delta":
                n += 1
        return n

    async def anthropic_raw() -> int:
        n = 0
        stream = await an.messages.create(
            model=MODELS["anthropic"],
            max_tokens=4096,
            messages=messages,  # type: ignore[arg-type]
            stream=True,
        )
        async for event in stream:
            if event.type == "content_block_delta":
                n += 1
        return n

    async def google_raw() -> int:
        n = 0
        async for chunk in await go.aio.models.generate_content_stream(
            model=MODELS["google"], contents="benchmark"
        ):
            if chunk.text:
                n += 1
        return n

    return {
        "openai": openai_raw,
        "responses": responses_raw,
        "anthropic": anthropic_raw,
        "google": google_raw,
    }


def dispatched_streamers(
    dispatcher: Dispatcher, *, metadata: bool, providers: dict[str, str] | None = None
) -> dict[str, Streamer]:
    """A run per row of the table: ``providers`` maps the row to the configured provider it
    goes through (default: the same name, each of ROWS)."""
    decorator = llm_stream_with_metadata if metadata else llm_stream
    result: dict[str, Streamer] = {}
    for name, configured in (providers or {name: name for name in ROWS}).items():

        @decorator(providers=[configured], dispatcher=dispatcher)
        async def answer(prompt: str) -> Any:
            yield "unused"

        async def run(answer: Any = answer) -> int:
            n = 0
            async for _ in answer("benchmark"):
                n += 1
            return n

        result[name] = run
    return result


def make_dispatcher(url: str) -> Dispatcher:
    """A dispatcher with a provider per row pointed at the fake server at ``url``, and as
    ``<name>_fast`` each one whose kind has a fast parser, read with ``parser: fast``."""
    providers: dict[str, Any] = {
        name: {"kind": name, "api_key": KEY, "base_url": base, "default_model": model}
        for name, model, base in (
            ("openai", MODELS["openai"], f"{url}/v1"),
            ("anthropic", MODELS["anthropic"], url),
            ("google", MODELS["google"], url),
        )
    }
    providers["responses"] = {**providers["openai"], "api": "responses"}
    for name in FAST_ROWS:
        providers[f"{name}_fast"] = {**providers[name], "parser": "fast"}
    return Dispatcher({"providers": providers})


def make_variants(url: str, dispatcher: Dispatcher) -> dict[str, dict[str, Streamer]]:
    """Variant name (``raw SDK`` first) → provider → streamer."""
    return {
        "raw SDK": raw_streamers(url),
        "@llm_stream": dispatched_streamers(dispatcher, metadata=False),
        "@llm_stream_with_metadata": dispatched_streamers(dispatcher, metadata=True),
        "@llm_stream parser: fast": dispatched_streamers(
            dispatcher,
            metadata=False,
            providers={name: f"{name}_fast" for name in FAST_ROWS},
        ),
    }
