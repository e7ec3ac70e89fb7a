"""Every callback style on real provider streams: the events, their order, sync and async,
errors in callbacks, and exactly one end / error per stream whatever happens."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from llm_dispatch import StreamInterrupted, llm_stream, llm_stream_with_metadata
from llm_dispatch.cache import StreamingCache
from llm_dispatch.errors import AllProvidersFailed
from llm_dispatch.streaming import (
    BannedWordsFilter,
    EventCallbacks,
    EventProcessor,
    EventTransformer,
    StreamCompleteEvent,
    StreamDeltaEvent,
    StreamErrorEvent,
    StreamHandler,
    StreamingCallbacks,
    StreamStartEvent,
    StreamSummary,
    StreamUsageEvent,
)
from llm_dispatch.testing import FakeProviderServer, Script, capture_events

PROVIDERS = ["openai", "anthropic", "google"]
CHUNKS = ["Once ", "upon ", "a ", "time."]


def maybe_async(fn: Callable[..., Any], use_async: bool) -> Callable[..., Any]:
    """``fn`` itself, or an ``async def`` that yields to the loop and then calls it."""
    if not use_async:
        return fn

    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        await asyncio.sleep(0)
        return fn(*args, **kwargs)

    return wrapper


def seed_004(log: list[tuple[Any, ...]], use_async: bool) -> StreamingCallbacks:
    a = lambda fn: maybe_async(fn, use_async)  # noqa: E731
    return StreamingCallbacks(
        on_stream_start=a(lambda m: log.append(("start", m["provider"], m["model"]))),
        on_chunk_received=a(lambda c, m: log.append(("chunk", c, m["chunk_index"]))),
        on_retry=a(lambda m: log.append(("retry", m["provider"], m["attempt"], m["kind"]))),
        on_fallback=a(lambda m: log.append(("fallback", m["from_provider"], m["to_provider"]))),
        on_usage=a(lambda m: log.append(("usage", m["usage"]["total_tokens"]))),
        on_stream_end=a(lambda m: log.append(("end", m["total_tokens"], m["duration"] > 0))),
        on_error=a(lambda e, m: log.append(("error", type(e).__name__, m["cancelled"]))),
    )


def seed_003(log: list[tuple[Any, ...]], use_async: bool) -> EventCallbacks:
    a = lambda fn: maybe_async(fn, use_async)  # noqa: E731
    return EventCallbacks(
        on_start=a(lambda e: log.append(("on_start", e.provider, e.model))),
        on_delta=a(lambda e: log.append(("on_delta", e.chunk_index, e.delta.get_text()))),
        on_usage=a(lambda e: log.append(("on_usage", e.usage.total_tokens))),
        on_complete=a(
            lambda e: log.append(("on_complete", e.metadata["duration_ms"] > 0, e.result.text))
        ),
        on_error=a(lambda e: log.append(("on_error", e.error_type, e.cancelled))),
    )


class SyncLangChainHandler:
    """Shaped like a LangChain BaseCallbackHandler (no LangChain import)."""

    def __init__(self, log: list[tuple[Any, ...]]) -> None:
        self.log = log

    def on_llm_start(self, serialized: dict[str, Any], prompts: list[str], **kwargs: Any) -> None:
        self.log.append(("llm_start", serialized["model"], prompts, type(kwargs["run_id"])))

    def on_llm_new_token(self, token: str, **kwargs: Any) -> None:
        self.log.append(("llm_token", token))

    def on_llm_end(self, response: StreamSummary, **kwargs: Any) -> None:
        self.log.append(("llm_end", response.text))

    def on_llm_error(self, error: BaseException, **kwargs: Any) -> None:
        self.log.append(("llm_error", type(error).__name__))


class AsyncLangChainHandler(SyncLangChainHandler):
    """Shaped like a LangChain AsyncCallbackHandler."""

    async def on_llm_start(
        self, serialized: dict[str, Any], prompts: list[str], **kwargs: Any
    ) -> None:  # type: ignore[override]
        await asyncio.sleep(0)
        super().on_llm_start(serialized, prompts, **kwargs)

    async def on_llm_new_token(self, token: str, **kwargs: Any) -> None:  # type: ignore[override]
        await asyncio.sleep(0)
        super().on_llm_new_token(token, **kwargs)

    async def on_llm_end(self, response: StreamSummary, **kwargs: Any) -> None:  # type: ignore[override]
        await asyncio.sleep(0)
        super().on_llm_end(response, **kwargs)

    async def on_llm_error(self, error: BaseException, **kwargs: Any) -> None:  # type: ignore[override]
        await asyncio.sleep(0)
        super().on_llm_error(error, **kwargs)


def streamer(dispatcher: Any, callbacks: Any, *, metadata: bool = False, **options: Any) -> Any:
    decorator = llm_stream_with_metadata if metadata else llm_stream

    @decorator(dispatcher=dispatcher, callbacks=callbacks, **options)
    async def answer(prompt: str) -> Any:
        yield "unused"

    return answer


def ends(log: list[tuple[Any, ...]]) -> list[str]:
    """The end / error entries of every style, in order."""
    names = {"end", "error", "on_complete", "on_error", "llm_end", "llm_error"}
    return [entry[0] for entry in log if entry[0] in names]


# -- the documented order, every style, sync and async ---------------------------------------


@pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("provider", PROVIDERS)
async def test_every_style_sees_its_events_in_order(
    provider: str, use_async: bool, fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    s004: list[tuple[Any, ...]] = []
    s003: list[tuple[Any, ...]] = []
    lc: list[tuple[Any, ...]] = []
    tokens: list[str] = []
    handler_class = AsyncLangChainHandler if use_async else SyncLangChainHandler
    callbacks = [
        seed_004(s004, use_async),
        seed_003(s003, use_async),
        handler_class(lc),
        StreamHandler(on_token=maybe_async(tokens.append, use_async)),
    ]
    fake_server.enqueue(Script(chunks=CHUNKS, usage=(7, 4)))
    stream = streamer(make_dispatcher(), callbacks, providers=[provider])("Tell me a story")
    received = [c async for c in stream]

    model = stream.model
    assert received == CHUNKS
    assert s004 == [
        ("start", provider, model),
        *[("chunk", c, i) for i, c in enumerate(CHUNKS)],
        ("usage", 11),
        ("end", 11, True),
    ]
    assert s003 == [
        ("on_start", provider, model),
        *[("on_delta", i, c) for i, c in enumerate(CHUNKS)],
        ("on_usage", 11),
        ("on_complete", True, "".join(CHUNKS)),
    ]
    assert lc == [
        ("llm_start", model, ["Tell me a story"], uuid.UUID),
        *[("llm_token", c) for c in CHUNKS],
        ("llm_end", "".join(CHUNKS)),
    ]
    # The LangChain-style integration check: the tokens are the answer.
    assert "".join(tokens) == stream.get_text()


async def test_typed_events_carry_the_documented_fields(
    fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    events: list[Any] = []
    callbacks = EventCallbacks(
        on_start=events.append,
        on_delta=events.append,
        on_usage=events.append,
        on_complete=events.append,
    )
    fake_server.enqueue(Script(chunks=CHUNKS, usage=(7, 4)))
    stream = streamer(make_dispatcher(), callbacks, providers=["openai"])("hi")
    await stream.collect()

    start, *deltas, usage, complete = events
    assert isinstance(start, StreamStartEvent) and start.prompt == "hi"
    assert start.request_id == stream.request_id
    assert all(isinstance(d, StreamDeltaEvent) for d in deltas)
    assert isinstance(usage, StreamUsageEvent)
    assert usage.usage == stream.usage and usage.cost_usd == stream.cost_usd
    assert isinstance(complete, StreamCompleteEvent)
    assert complete.result.usage == stream.usage
    assert complete.metadata["finish_reason"] == "stop"
    assert complete.metadata["chunks"] == len(CHUNKS)
    assert complete.metadata["total_tokens"] == 11


async def test_chunk_metadata_is_the_chunk_dict(
    fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    seen: list[dict[str, Any]] = []
    callbacks = StreamingCallbacks(on_chunk_received=lambda c, m: seen.append(m))
    fake_server.enqueue(Script(chunks=CHUNKS))
    answer = streamer(make_dispatcher(), callbacks, metadata=True, providers=["google"])
    items = [m async for m in answer("hi")]

    # The callback's metadata is what llm_stream_with_metadata yields, key for key (the
    # elapsed time aside: the dict is built once for each).
    for mine, yielded in zip(seen, items[:-1], strict=True):
        assert {k: v for k, v in mine.items() if k != "elapsed_ms"} == {
            k: v for k, v in yielded.items() if k != "elapsed_ms"
        }


async def test_retry_and_fallback_come_between_start_and_the_first_chunk(
    fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    log: list[tuple[Any, ...]] = []
    fake_server.enqueue(Script(status=500), provider="openai", times=2)
    fake_server.enqueue(Script(chunks=["saved"], usage=(1, 1)), provider="anthropic")
    answer = streamer(
        make_dispatcher(), seed_004(log, False), providers=["openai", "anthropic"], max_retries=1
    )
    await answer("hi").collect()

    assert log == [
        ("start", "openai", "gpt-4o-mini"),
        ("retry", "openai", 1, "server"),
        ("fallback", "openai", "anthropic"),
        ("chunk", "saved", 0),
        ("usage", 2),
        ("end", 2, True),
    ]


# -- a callback that raises ------------------------------------------------------------------


@pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])
async def test_a_raising_callback_is_logged_and_the_stream_goes_on(
    use_async: bool, fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    log: list[tuple[Any, ...]] = []

    def explode(*args: Any) -> None:
        raise ValueError("callback bug")

    callbacks = [
        StreamingCallbacks(
            on_stream_start=maybe_async(explode, use_async),
            on_chunk_received=maybe_async(explode, use_async),
            on_stream_end=maybe_async(explode, use_async),
        ),
        StreamHandler(on_token=maybe_async(explode, use_async)),
        seed_003(log, use_async),
    ]
    fake_server.enqueue(Script(chunks=CHUNKS))
    with capture_events() as logs:
        stream = streamer(make_dispatcher(), callbacks, providers=["anthropic"])("hi")
        received = [c async for c in stream]

    assert received == CHUNKS and stream.done
    # The healthy callbacks saw everything.
    assert [e[0] for e in log] == ["on_start", *["on_delta"] * 4, "on_usage", "on_complete"]
    # Each failing callback is logged once (with its traceback), and its repeats are
    # counted in one line at the end of the stream: never one line per chunk.
    failures = [e for e in logs if e["event"] == "callback.failed"]
    repeats = [e for e in logs if e["event"] == "callback.failed_again"]
    assert len(failures) == (4 if use_async else 2)  # sync: one function in three slots
    assert len(failures) + sum(e["repeats"] for e in repeats) == 1 + 2 * len(CHUNKS) + 1
    assert all(f["error"] == "callback bug" and f["log_level"] == "warning" for f in failures)
    assert all(f["exc_info"][0] is ValueError for f in failures)
    assert {e["request_id"] for e in failures + repeats} == {stream.request_id}
    assert logs.index(repeats[0]) > max(logs.index(f) for f in failures)


async def test_raise_error_makes_a_failing_callback_fail_the_stream(
    fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    log: list[tuple[Any, ...]] = []

    def explode_on_second(chunk: str, metadata: dict[str, Any]) -> None:
        if metadata["chunk_index"] == 1:
            raise ValueError("stop here")

    callbacks = [
        StreamingCallbacks(on_chunk_received=explode_on_second, raise_error=True),
        seed_003(log, False),
    ]
    fake_server.enqueue(Script(chunks=CHUNKS, chunk_delay=0.01))
    stream = streamer(make_dispatcher(), callbacks, providers=["openai"])("hi")
    with pytest.raises(ValueError, match="stop here"):
        await stream.collect()

    assert log[-1] == ("on_error", "ValueError", False)
    assert ends(log) == ["on_error"]
    [entry] = stream.ledger.entries
    assert entry.outcome == "aborted" and entry.chars > 0
    await fake_server.requests[0].wait_done()
    assert fake_server.requests[0].disconnected


async def test_langchain_raise_error_attribute_is_honoured(
    fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    class Strict(StreamHandler):
        raise_error = True

    def refuse(token: str) -> None:
        raise RuntimeError("no tokens today")

    fake_server.enqueue(Script(chunks=CHUNKS))
    stream = streamer(make_dispatcher(), Strict(on_token=refuse), providers=["google"])("hi")
    with pytest.raises(RuntimeError, match="no tokens today"):
        await stream.collect()


async def test_a_start_callback_failing_with_raise_error_still_ends_once(
    fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    log: list[tuple[Any, ...]] = []

    def refuse(metadata: dict[str, Any]) -> None:
        raise PermissionError("not now")

    callbacks = [StreamingCallbacks(on_stream_start=refuse, raise_error=True), seed_003(log, False)]
    stream = streamer(make_dispatcher(), callbacks, providers=["openai"])("hi")
    with pytest.raises(PermissionError):
        await stream.collect()
    assert ends(log) == ["on_error"] and log[0][0] == "on_start"
    assert fake_server.requests == []  # nothing was sent


def test_unknown_callback_objects_are_refused_at_decoration() -> None:
    with pytest.raises(TypeError, match="StreamingCallbacks"):

        @llm_stream(callbacks=object())
        async def answer(prompt: str) -> Any:
            yield "x"


# -- exactly one end / error -----------------------------------------------------------------


def all_styles(log: list[tuple[Any, ...]], use_async: bool = False) -> list[Any]:
    handler = AsyncLangChainHandler(log) if use_async else SyncLangChainHandler(log)
    return [seed_004(log, use_async), seed_003(log, use_async), handler]


@pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])
async def test_break_reports_one_error_per_style(
    use_async: bool, fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    log: list[tuple[Any, ...]] = []
    done = asyncio.Event()
    styles = [*all_styles(log, use_async), StreamingCallbacks(on_error=lambda e, m: done.set())]
    fake_server.enqueue(Script(chunks=[f"c{i} " for i in range(100)], chunk_delay=0.01))
    stream = streamer(make_dispatcher(), styles, providers=["anthropic"])("long")

    async for chunk in stream:
        if chunk == "c2 ":
            break
    await asyncio.wait_for(done.wait(), 2)

    assert ends(log) == ["error", "on_error", "llm_error"]
    assert ("error", "GeneratorExit", True) in log
    assert ("on_error", "GeneratorExit", True) in log
    assert stream.ledger.entries[-1].outcome == "cancelled"


async def test_task_cancel_reports_one_error_per_style(
    fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    log: list[tuple[Any, ...]] = []
    fake_server.enqueue(Script(chunks=[f"c{i} " for i in range(100)], chunk_delay=0.01))
    stream = streamer(make_dispatcher(), all_styles(log, True), providers=["openai"])("long")
    three = asyncio.Event()

    async def consume() -> None:
        async for _ in stream:
            if stream.context.chunk_index == 2:
                three.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(three.wait(), 5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert ends(log) == ["error", "on_error", "llm_error"]
    assert ("on_error", "CancelledError", True) in log


async def test_cancel_before_the_first_chunk_reports_one_error(
    fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    log: list[tuple[Any, ...]] = []
    started = asyncio.Event()
    styles = [*all_styles(log), StreamingCallbacks(on_stream_start=lambda m: started.set())]
    fake_server.enqueue(Script(chunks=["late"], first_delay=5))
    stream = streamer(make_dispatcher(), styles, providers=["google"])("hi")
    task = asyncio.create_task(stream.collect())
    await asyncio.wait_for(started.wait(), 5)
    await asyncio.sleep(0.05)  # the request is on its way: cancel while waiting for text
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert ends(log) == ["error", "on_error", "llm_error"]
    [entry] = stream.ledger.entries
    assert entry.outcome == "cancelled" and entry.chars == 0


async def test_mid_stream_failure_reports_one_error_with_the_partial_text(
    fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    log: list[tuple[Any, ...]] = []
    details: list[dict[str, Any]] = []
    styles = [*all_styles(log), StreamingCallbacks(on_error=lambda e, m: details.append(m))]
    fake_server.enqueue(Script(chunks=CHUNKS, drop_after=2))
    stream = streamer(make_dispatcher(), styles, providers=["openai", "anthropic"])("hi")
    with pytest.raises(StreamInterrupted):
        await stream.collect()
    assert ends(log) == ["error", "on_error", "llm_error"]
    assert ("error", "StreamInterrupted", False) in log
    [meta] = details
    assert meta["partial_text"] == "Once upon " and meta["chunks"] == 2
    assert meta["usage"]["estimated"] is True  # the interrupted part, estimated


async def test_fallback_then_success_ends_once(
    fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    log: list[tuple[Any, ...]] = []
    fake_server.enqueue(Script(status=503), provider="google", times=3)
    fake_server.enqueue(Script(chunks=CHUNKS), provider="openai")
    stream = streamer(make_dispatcher(), all_styles(log), providers=["google", "openai"])("hi")
    await stream.collect()
    assert ends(log) == ["end", "on_complete", "llm_end"]


async def test_every_target_failing_errors_once(
    fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    log: list[tuple[Any, ...]] = []
    fake_server.default = Script(status=500)
    stream = streamer(
        make_dispatcher(), all_styles(log), providers=["google", "openai"], max_retries=0
    )("hi")
    with pytest.raises(AllProvidersFailed):
        await stream.collect()
    assert ends(log) == ["error", "on_error", "llm_error"]
    assert [e for e in log if e[0] == "fallback"] == [("fallback", "google", "openai")]


async def test_mid_stream_continuation_ends_once_with_every_chunk(
    fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    log: list[tuple[Any, ...]] = []
    fake_server.enqueue(Script(chunks=CHUNKS, drop_after=2), provider="openai")
    fake_server.enqueue(Script(chunks=["a ", "time."]), provider="anthropic")
    stream = streamer(
        make_dispatcher(),
        all_styles(log),
        providers=["openai", "anthropic"],
        mid_stream="continue",
    )("hi")
    await stream.collect()
    assert ends(log) == ["end", "on_complete", "llm_end"]
    assert [e[1] for e in log if e[0] == "llm_token"] == CHUNKS
    assert ("fallback", "openai", "anthropic") in log


# -- transformers and filters ----------------------------------------------------------------


class ContentFilterTransformer(EventTransformer):
    """The typed-event client example, written against this library."""

    def __init__(self, banned_words: list[str]) -> None:
        self.banned_words = {w.lower() for w in banned_words}

    async def transform(self, event: StreamDeltaEvent) -> StreamDeltaEvent:
        text = event.delta.get_text()
        words = text.split(" ")
        event.delta.value = " ".join("***" if w.lower() in self.banned_words else w for w in words)
        return event


class DropDigits(EventTransformer):
    def transform(self, event: StreamDeltaEvent) -> StreamDeltaEvent | None:
        return None if event.delta.get_text().strip().isdigit() else event


async def test_transformers_change_what_consumer_and_callbacks_see(
    fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    tokens: list[str] = []
    processor = EventProcessor().add_transformer(ContentFilterTransformer(["badword"]))
    processor.add_transformer(DropDigits())
    fake_server.enqueue(Script(chunks=["a ", "badword ", "42 ", "here"]))

    @llm_stream(
        dispatcher=make_dispatcher(),
        providers=["openai"],
        stages=[processor],
        callbacks=StreamHandler(on_token=tokens.append),
    )
    async def answer(prompt: str) -> Any:
        yield "unused"

    stream = answer("hi")
    assert [c async for c in stream] == ["a ", "*** ", "here"]
    assert tokens == ["a ", "*** ", "here"]
    assert stream.context.raw_text == "a badword 42 here"  # the provider's text is kept


async def test_banned_words_split_across_chunks_are_masked(
    fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    seen: list[str] = []
    fake_server.enqueue(Script(chunks=["This is a ba", "dWord, and ", "so is ", "badword"]))

    @llm_stream(
        dispatcher=make_dispatcher(),
        providers=["anthropic"],
        stages=[BannedWordsFilter(["badword"])],
        callbacks=StreamHandler(on_token=seen.append),
    )
    async def answer(prompt: str) -> Any:
        yield "unused"

    stream = answer("hi")
    text = "".join([c async for c in stream])
    assert text == "This is a ***, and so is ***"
    assert stream.get_text() == text
    # The held-back tail is flushed at the end and reported to the callbacks too.
    assert "".join(seen) == text


def test_banned_words_filter_refuses_phrases() -> None:
    with pytest.raises(ValueError, match="single words"):
        BannedWordsFilter(["two words"])


async def test_error_event_for_a_callback_carries_type_and_error(
    fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    errors: list[StreamErrorEvent] = []
    fake_server.enqueue(Script(status=400, error_message="bad input"), provider="openai")
    stream = streamer(
        make_dispatcher(), EventCallbacks(on_error=errors.append), providers=["openai"]
    )("hi")
    with pytest.raises(Exception, match="bad input"):
        await stream.collect()
    [event] = errors
    assert event.error_type == "BadRequestError" and "bad input" in str(event.error)
    assert event.metadata["partial_text"] == "" and not event.cancelled


async def test_an_end_callback_failing_with_raise_error_leaves_one_end_per_style(
    fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    log: list[tuple[Any, ...]] = []

    def refuse(metadata: dict[str, Any]) -> None:
        raise LookupError("end refused")

    callbacks = [StreamingCallbacks(on_stream_end=refuse, raise_error=True), *all_styles(log)]
    fake_server.enqueue(Script(chunks=CHUNKS))
    stream = streamer(make_dispatcher(), callbacks, providers=["openai"])("hi")
    with pytest.raises(LookupError):
        await stream.collect()
    # The other listeners still heard the end, and nothing after it.
    assert ends(log) == ["end", "on_complete", "llm_end"]


async def test_an_error_callback_never_replaces_the_streams_error(
    fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    def also_fail(exc: BaseException, metadata: dict[str, Any]) -> None:
        raise RuntimeError("error callback bug")

    log: list[tuple[Any, ...]] = []
    callbacks = [StreamingCallbacks(on_error=also_fail, raise_error=True), seed_003(log, False)]
    fake_server.enqueue(Script(chunks=CHUNKS, drop_after=1))
    stream = streamer(make_dispatcher(), callbacks, providers=["openai"])("hi")
    with capture_events() as logs, pytest.raises(StreamInterrupted):
        await stream.collect()
    assert ends(log) == ["on_error"]
    assert any(e["event"] == "callback.failed" and e["error"] == "error callback bug" for e in logs)


async def test_a_cache_hit_is_reported_after_start_and_before_the_chunks(
    fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    log: list[tuple[Any, ...]] = []
    hits: list[dict[str, Any]] = []
    callbacks = StreamingCallbacks(
        on_stream_start=lambda m: log.append(("start", m["cached"])),
        on_cache_hit=lambda m: (log.append(("cache_hit",)), hits.append(m)),
        on_chunk_received=lambda c, m: log.append(("chunk", c, m["cached"])),
        on_stream_end=lambda m: log.append(("end", m["cached"])),
    )
    fake_server.enqueue(Script(chunks=CHUNKS))
    answer = streamer(make_dispatcher(), callbacks, providers=["openai"], cache=StreamingCache())
    await answer("same question").collect()
    log.clear()
    await answer("same question").collect()

    assert log == [
        ("start", True),
        ("cache_hit",),
        *[("chunk", c, True) for c in CHUNKS],
        ("end", True),
    ]
    assert hits[0]["exact"] is True and hits[0]["similarity"] == 1.0
    assert len(fake_server.requests) == 1
