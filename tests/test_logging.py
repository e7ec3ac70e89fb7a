"""The library is quiet: its events go to the standard logging module, never to stdout, and
an application that configures logging (plain or through structlog) gets them with keys."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
import textwrap
from typing import Any

import pytest
import structlog
from conftest import PROVIDER_ENV_VARS

from llm_dispatch import llm_stream
from llm_dispatch.log import Throttle, get_logger
from llm_dispatch.testing import FakeProviderServer, Script, capture_events

CHUNKS = ["The ", "answer ", "is ", "42."]

# A script run in a fresh interpreter with no logging configured: a retried stream with a
# callback that raises on every chunk, printed the way the quickstart prints.
QUIET_SCRIPT = textwrap.dedent(
    """
    import asyncio, sys
    from llm_dispatch import Dispatcher, StreamingCallbacks, llm_stream
    from llm_dispatch.testing import FakeProviderServer, Script

    CHUNKS = {chunks!r}

    async def main() -> None:
        async with FakeProviderServer() as server:
            server.enqueue(Script(status=500), Script(chunks=CHUNKS))
            dispatcher = Dispatcher({{
                "providers": {{"openai": {{
                    "kind": "openai", "api_key": "sk-test-0123456789abcdef",
                    "base_url": server.openai_base_url, "default_model": "gpt-4o-mini",
                }}}},
                "defaults": {{"retry": {{"backoff_base": 0.01, "backoff_max": 0.02}}}},
            }})

            def boom(chunk, metadata):
                raise ValueError("callback bug")

            @llm_stream(dispatcher=dispatcher, callbacks=StreamingCallbacks(on_chunk_received=boom))
            async def answer(prompt: str):
                yield "unused"

            async for chunk in answer("hi"):
                print(chunk, end="", flush=True)
            await dispatcher.aclose()

    asyncio.run(asyncio.wait_for(main(), 30))
    """
)


def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in PROVIDER_ENV_VARS}


def test_with_no_logging_configured_stdout_is_exactly_the_streamed_text() -> None:
    result = subprocess.run(
        [sys.executable, "-c", QUIET_SCRIPT.format(chunks=CHUNKS)],
        capture_output=True,
        text=True,
        timeout=60,
        env=clean_env(),
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "".join(CHUNKS)
    lines = result.stderr.splitlines()
    for event in ("stream.start", "stream.retry", "stream.first_chunk", "stream.end"):
        assert not any(event in line for line in lines), result.stderr
    # The raising callback: one warning with its traceback, one line counting the repeats.
    assert sum(line.startswith("callback.failed ") for line in lines) == 1
    [again] = [line for line in lines if line.startswith("callback.failed_again ")]
    assert f"repeats={len(CHUNKS) - 1}" in again
    assert sum(line.startswith("Traceback") for line in lines) == 1


async def test_plain_logging_receives_the_events_with_their_fields(
    fake_server: FakeProviderServer, make_dispatcher: Any, caplog: pytest.LogCaptureFixture
) -> None:
    fake_server.enqueue(Script(chunks=CHUNKS))

    @llm_stream(dispatcher=make_dispatcher(), providers=["anthropic"])
    async def answer(prompt: str) -> Any:
        yield "unused"

    with caplog.at_level(logging.DEBUG, logger="llm_dispatch"):
        stream = answer("hi")
        await stream.collect()

    [start] = [r for r in caplog.records if getattr(r, "event", None) == "stream.start"]
    assert start.name == "llm_dispatch.stages.log" and start.levelno == logging.INFO
    assert start.request_id == stream.request_id  # type: ignore[attr-defined]
    assert start.getMessage().startswith(f"stream.start request_id={stream.request_id}")
    # The record points at the library's code, not at structlog's.
    assert start.pathname.endswith(os.path.join("llm_dispatch", "stages", "log.py"))
    [end] = [r for r in caplog.records if getattr(r, "event", None) == "stream.end"]
    assert end.chunks == len(CHUNKS)  # type: ignore[attr-defined]


async def test_structlog_processor_formatter_gets_the_event_dict(
    fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    """The usual structlog-over-logging set-up renders the library's events as JSON with
    their keys."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processor=structlog.processors.JSONRenderer(),
            foreign_pre_chain=[structlog.stdlib.add_log_level, structlog.stdlib.ExtraAdder()],
        )
    )
    logger = logging.getLogger("llm_dispatch")
    logger.addHandler(handler)
    previous = logger.level
    logger.setLevel(logging.INFO)
    fake_server.enqueue(Script(chunks=CHUNKS))

    @llm_stream(dispatcher=make_dispatcher(), providers=["google"])
    async def answer(prompt: str) -> Any:
        yield "unused"

    try:
        stream = answer("hi")
        await stream.collect()
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)
    events = [json.loads(line) for line in out.getvalue().splitlines()]
    start = next(e for e in events if e["event"] == "stream.start")
    assert start["request_id"] == stream.request_id and start["level"] == "info"
    assert start["targets"] == ["google/gemini-2.5-flash"]


def test_a_field_named_like_a_record_attribute_is_kept() -> None:
    with capture_events() as events:
        get_logger("llm_dispatch.test").info("test.event", name="mine", module="theirs")
    [event] = events
    assert event["name_"] == "mine" and event["module_"] == "theirs"
    assert event["logger"] == "llm_dispatch.test"


def test_throttle_logs_once_per_interval_with_a_count() -> None:
    now = [0.0]
    throttle = Throttle(60.0, clock=lambda: now[0])
    logged: list[tuple[str, dict[str, Any]]] = []

    def log(event: str, **fields: Any) -> None:
        fields.pop("_helper_frames")  # tells the logger which frame to name
        logged.append((event, fields))

    assert throttle(log, "redis", "cache.backend_error", op="store")
    for _ in range(5):
        now[0] += 1.0
        assert not throttle(log, "redis", "cache.backend_error", op="store")
    assert throttle(log, "other", "cache.backend_error", op="lookup")  # its own key
    assert throttle.suppressed("redis") == 5
    now[0] += 60.0
    assert throttle(log, "redis", "cache.backend_error", op="store")
    assert logged == [
        ("cache.backend_error", {"op": "store"}),
        ("cache.backend_error", {"op": "lookup"}),
        ("cache.backend_error", {"op": "store", "suppressed": 5}),
    ]
