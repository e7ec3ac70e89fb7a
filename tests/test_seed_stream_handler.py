"""The LangChain-style StreamHandler doc (seed 002) against ``llm_dispatch.streaming``: its
unit tests as written, its subclasses driven by dispatched streams over real HTTP, and the
``on_token`` values it cannot work with refused at construction."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Iterator
from typing import Any
from unittest.mock import Mock, call

import pytest

from llm_dispatch import Client
from llm_dispatch.streaming import StreamHandler, StreamSummary
from llm_dispatch.testing import FakeProviderServer, Script

CHUNKS = ["Hello", " ", "World", "!"]


# -- the seed's own tests, as written -----------------------------------------------------


def test_token_callback_called() -> None:
    tokens_received = []

    def callback(token):  # type: ignore[no-untyped-def]
        tokens_received.append(token)

    handler = StreamHandler(on_token=callback)
    handler.on_llm_new_token("Hello")
    handler.on_llm_new_token(" ")
    handler.on_llm_new_token("World")
    assert tokens_received == ["Hello", " ", "World"]


def test_handler_with_mock() -> None:
    mock_callback = Mock()
    handler = StreamHandler(on_token=mock_callback)
    for token in CHUNKS:
        handler.on_llm_new_token(token)
    assert mock_callback.call_count == len(CHUNKS)
    mock_callback.assert_has_calls([call(t) for t in CHUNKS])


# -- on_token values that cannot work -------------------------------------------------------


def test_an_on_token_that_cannot_be_called_is_refused() -> None:
    logger = logging.getLogger("x")  # the doc's ManagedStreamHandler passes on_token=logger
    with pytest.raises(TypeError, match="got Logger, which cannot be called"):
        StreamHandler(on_token=logger)  # type: ignore[arg-type]


def test_a_generator_function_as_on_token_is_refused() -> None:
    # The doc's SSE alternative: its on_token yields, so calling it would run nothing.
    def on_token(token: str) -> Iterator[str]:
        escaped = token.replace("\n", "\\n")
        yield f"data: {escaped}\n\n"

    with pytest.raises(TypeError, match=r"on_token\b.*is a generator function"):
        StreamHandler(on_token=on_token)

    async def agen(token: str) -> Any:
        yield token

    with pytest.raises(TypeError, match="is a generator function"):
        StreamHandler(on_token=agen)


# -- the seed's subclasses on dispatched streams (real SDKs, real HTTP) ---------------------


class StatisticsStreamHandler(StreamHandler):
    def __init__(self, on_token):  # type: ignore[no-untyped-def]
        super().__init__(on_token)
        self.token_count = 0
        self.start_time = None
        self.tokens_per_second = 0
        self.ended_with: Any = None

    def on_llm_start(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        self.start_time = time.time()
        self.token_count = 0

    def on_llm_new_token(self, token, **kwargs):  # type: ignore[no-untyped-def]
        super().on_llm_new_token(token, **kwargs)
        self.token_count += 1
        if self.start_time:
            elapsed = time.time() - self.start_time
            self.tokens_per_second = self.token_count / elapsed if elapsed > 0 else 0

    def on_llm_end(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        self.ended_with = (args, kwargs)


class BatchStreamHandler(StreamHandler):
    def __init__(self, on_token, batch_size=5):  # type: ignore[no-untyped-def]
        super().__init__(on_token)
        self.batch_size = batch_size
        self.buffer = []

    def on_llm_new_token(self, token, **kwargs):  # type: ignore[no-untyped-def]
        self.buffer.append(token)
        if len(self.buffer) >= self.batch_size:
            self.flush()

    def flush(self):  # type: ignore[no-untyped-def]
        if self.buffer:
            self.on_token("".join(self.buffer))
            self.buffer = []

    def on_llm_end(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        self.flush()


class DebugStreamHandler(StreamHandler):
    def __init__(self, on_token, verbose=True):  # type: ignore[no-untyped-def]
        super().__init__(on_token)
        self.token_log = []

    def on_llm_new_token(self, token, **kwargs):  # type: ignore[no-untyped-def]
        self.token_log.append({"token": token, "timestamp": time.time(), "metadata": kwargs})
        super().on_llm_new_token(token, **kwargs)


async def test_the_seed_subclasses_hear_every_token_start_and_end(
    fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    words = ["one ", "two ", "three ", "four ", "five ", "six ", "seven"]
    fake_server.enqueue(Script(chunks=words), times=3)
    printed: list[str] = []
    batches: list[str] = []
    debug_tokens: list[str] = []
    stats = StatisticsStreamHandler(on_token=printed.append)
    batch = BatchStreamHandler(on_token=batches.append)
    debug = DebugStreamHandler(on_token=debug_tokens.append)
    client = Client(dispatcher=make_dispatcher())
    for handler in (stats, batch, debug):
        result = await asyncio.wait_for(
            client.stream_with_usage("count", provider="openai", callbacks=[handler]), 10
        )
        assert result.get_text() == "".join(words)

    assert printed == words and stats.token_count == 7 and stats.tokens_per_second > 0
    (summary,), kwargs = stats.ended_with
    assert isinstance(summary, StreamSummary) and summary.text == "".join(words)
    assert isinstance(kwargs["run_id"], uuid.UUID)

    assert batches == ["one two three four five ", "six seven"]  # the rest sent at the end

    assert debug_tokens == words
    run_ids = {entry["metadata"]["run_id"] for entry in debug.token_log}
    assert len(run_ids) == 1 and isinstance(run_ids.pop(), uuid.UUID)


async def test_an_async_on_token_is_awaited_in_order(
    fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    # The doc's WebSocket alternative: `async def on_token(token): await websocket.send_text`.
    fake_server.enqueue(Script(chunks=["a", "b", "c"]))
    sent: list[str] = []

    async def on_token(token: str) -> None:
        await asyncio.sleep(0.01)
        sent.append(token)

    client = Client(dispatcher=make_dispatcher())
    result = await asyncio.wait_for(
        client.stream_with_usage("hi", provider="anthropic", callbacks=StreamHandler(on_token)),
        10,
    )
    assert sent == ["a", "b", "c"] and result.get_text() == "abc"
