"""The streams the benchmarks compare, shared by ``overhead.py``, ``instructions.py``,
``ttft.py`` and ``concurrency.py``.

The fake provider server in a process of its own (:func:`start_server`), and for each
row of the tables (:data:`MODELS`: the three providers, and OpenAI through its Responses API
as ``responses``) the ways to stream its answer (:func:`make_variants`): the raw SDK,
``@llm_stream`` and ``@llm_stream_with_metadata``, and for each provider whose kind is in
``FAST_PARSER_KINDS`` (:data:`KINDS`) ``@llm_stream`` through a provider configured with
``parser: fast``.
Each stream returns the number of text chunks it saw and the ``time.perf_counter()`` at
which the first one reached it (0.0 if none did).
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

from llm_dispatch import Dispatcher, llm_stream, llm_stream_with_metadata
from llm_dispatch.providers.base import FAST_PARSER_KINDS

#: The tables' rows and the model each asks for.
MODELS = {
    "openai": "gpt-4o-mini",
    "responses": "gpt-4o-mini",
    "anthropic": "claude-haiku-4-5",
    "google": "gemini-2.5-flash",
}
#: Each row's provider kind: ``responses`` is an ``openai`` provider whose ``api`` is
#: ``responses`` (``POST /v1/responses`` on the fake server).
KINDS = {"openai": "openai", "responses": "openai", "anthropic": "anthropic", "google": "google"}
KEY = "bench-key"

RAW = "raw SDK"
STREAM = "@llm_stream"
METADATA = "@llm_stream_with_metadata"
FAST = "@llm_stream parser: fast"

#: (chunks, perf_counter() at the first chunk)
Streamed = tuple[int, float]
Streamer = Callable[[], Awaitable[Streamed]]

#: The raw SDK clients :func:`raw_streamers` made, for :func:`close_raw_clients`.
_RAW_CLIENTS: list[Callable[[], Awaitable[None]]] = []


def fast_providers() -> list[str]:
    """The providers of MODELS whose kind has a fast parser, in MODELS' order."""
    return [name for name in MODELS if KINDS[name] in FAST_PARSER_KINDS]


def variant_providers() -> dict[str, list[str]]:
    """Variant name (``raw SDK`` first) → the providers it streams, as :func:`make_variants`
    builds them."""
    every = list(MODELS)
    return {RAW: every, STREAM: every, METADATA: every, FAST: fast_providers()}


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


def raw_streamers(url: str, timeout: float | None = None) -> dict[str, Streamer]:
    """The raw SDK's stream per provider; ``timeout``: the clients' timeouts in seconds
    (connecting included; None: the SDKs' defaults)."""
    import anthropic
    import openai
    from google import genai
    from google.genai import types

    sdk_timeout: dict[str, Any] = {} if timeout is None else {"timeout": timeout}
    oa = openai.AsyncOpenAI(api_key=KEY, base_url=f"{url}/v1", max_retries=0, **sdk_timeout)
    an = anthropic.AsyncAnthropic(api_key=KEY, base_url=url, max_retries=0, **sdk_timeout)
    go = genai.Client(
        api_key=KEY,
        http_options=types.HttpOptions(
            base_url=url,
            retry_options=types.HttpRetryOptions(attempts=1),
            timeout=None if timeout is None else int(timeout * 1000),
        ),
    )
    _RAW_CLIENTS.extend([oa.close, an.close, go.aio.aclose])
    messages: Any = [{"role": "user", "content": "benchmark"}]

    async def openai_raw() -> Streamed:
        n, first = 0, 0.0
        stream = await oa.chat.completions.create(
            model=MODELS["openai"],
            messages=messages,
            stream=True,
            stream_options={"include_usage": True},
        )
        async for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content:
                if not n:
                    first = time.perf_counter()
                n += 1
        return n, first

    async def responses_raw() -> Streamed:
        n, first = 0, 0.0
        stream = await oa.responses.create(
            model=MODELS["responses"], input="benchmark", stream=True
        )
        async for event in stream:
            if event.type == "response.output_text.delta":
                if not n:
                    first = time.perf_counter()
                n += 1
        return n, first

    async def anthropic_raw() -> Streamed:
        n, first = 0, 0.0
        stream = await an.messages.create(
            model=MODELS["anthropic"], max_tokens=4096, messages=messages, stream=True
        )
        async for event in stream:
            if event.type == "content_block_delta":
                if not n:
                    first = time.perf_counter()
                n += 1
        return n, first

    async def google_raw() -> Streamed:
        n, first = 0, 0.0
        async for chunk in await go.aio.models.generate_content_stream(
            model=MODELS["google"], contents="benchmark"
        ):
            if chunk.text:
                if not n:
                    first = time.perf_counter()
                n += 1
        return n, first

    return {
        "openai": openai_raw,
        "responses": responses_raw,
        "anthropic": anthropic_raw,
        "google": google_raw,
    }


async def close_raw_clients() -> None:
    """Close the raw SDK clients made so far, in the event loop that used them."""
    while _RAW_CLIENTS:
        await _RAW_CLIENTS.pop()()


def dispatched_streamers(
    dispatcher: Dispatcher, *, metadata: bool, providers: dict[str, str] | None = None
) -> dict[str, Streamer]:
    """A run per provider of the table: ``providers`` maps the table's name to the configured
    provider it goes through (default: the same name, each of MODELS)."""
    decorator = llm_stream_with_metadata if metadata else llm_stream
    result: dict[str, Streamer] = {}
    for name, configured in (providers or {name: name for name in MODELS}).items():

        @decorator(providers=[configured], dispatcher=dispatcher)
        async def answer(prompt: str) -> Any:
            yield "unused"

        async def run(answer: Any = answer) -> Streamed:
            n, first = 0, 0.0
            async for _ in answer("benchmark"):
                if not n:
                    first = time.perf_counter()
                n += 1
            return n, first

        result[name] = run
    return result


def make_dispatcher(url: str, defaults: dict[str, Any] | None = None) -> Dispatcher:
    """A dispatcher with a provider per row pointed at the fake server at ``url``, and as
    ``<name>_fast`` each one whose kind has a fast parser, read with ``parser: fast``;
    ``defaults``: the configuration's ``defaults`` section."""
    providers: dict[str, Any] = {
        name: {"kind": name, "api_key": KEY, "base_url": base, "default_model": model}
        for name, model, base in (
            ("openai", MODELS["openai"], f"{url}/v1"),
            ("anthropic", MODELS["anthropic"], url),
            ("google", MODELS["google"], url),
        )
    }
    providers["responses"] = {**providers["openai"], "api": "responses"}
    for name in fast_providers():
        # The table's ``@llm_stream`` rows read with the SDK, its ``parser: fast`` rows fast.
        providers[f"{name}_fast"] = {**providers[name], "parser": "fast"}
        providers[name]["parser"] = "sdk"
    return Dispatcher({"providers": providers, "defaults": defaults or {}})


def make_variants(
    url: str, dispatcher: Dispatcher, raw_timeout: float | None = None
) -> dict[str, dict[str, Streamer]]:
    """Variant name (``raw SDK`` first) → provider → streamer; ``raw_timeout``: see
    :func:`raw_streamers`."""
    return {
        RAW: raw_streamers(url, raw_timeout),
        STREAM: dispatched_streamers(dispatcher, metadata=False),
        METADATA: dispatched_streamers(dispatcher, metadata=True),
        FAST: dispatched_streamers(
            dispatcher,
            metadata=False,
            providers={name: f"{name}_fast" for name in fast_providers()},
        ),
    }
