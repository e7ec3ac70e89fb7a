"""Progress on real provider streams: monotonic, below 100 while streaming, exactly 100 at
the end, with max_tokens, with the learned estimate and with neither."""

from __future__ import annotations

import asyncio
import io
from typing import Any

import pytest
from rich.console import Console

from llm_dispatch import StreamInterrupted, llm_stream, llm_stream_with_metadata
from llm_dispatch.streaming import (
    DEFAULT_EXPECTED_TOKENS,
    CompletionLengths,
    ProgressBar,
    ProgressStatus,
    ProgressTracker,
    StreamingCallbacks,
)
from llm_dispatch.testing import FakeProviderServer, Script

PROVIDERS = ["openai", "anthropic", "google"]


def words(n: int) -> list[str]:
    return [f"w{i:02d} " for i in range(n)]


def with_metadata(dispatcher: Any, **options: Any) -> Any:
    @llm_stream_with_metadata(dispatcher=dispatcher, **options)
    async def answer(prompt: str) -> Any:
        yield "unused"

    return answer


def assert_progress_curve(values: list[float]) -> None:
    """Never backwards, below 100 until the final value, which is exactly 100."""
    assert values == sorted(values)
    assert all(0 <= v < 100 for v in values[:-1])
    assert values[-1] == 100.0


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("max_tokens", [4, 40, 400], ids=["too-low", "close", "too-high"])
async def test_progress_with_max_tokens(
    provider: str, max_tokens: int, fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    tracker = ProgressTracker(lengths=CompletionLengths())
    seen_by_tracker: list[float] = []
    fake_server.enqueue(Script(chunks=words(40), usage=(3, 40)))
    answer = with_metadata(
        make_dispatcher(),
        providers=[provider],
        max_tokens=max_tokens,
        progress_tracker=tracker,
        callbacks=StreamingCallbacks(
            on_chunk_received=lambda c, m: seen_by_tracker.append(tracker.get_progress())
        ),
    )
    values = [m["progress"] async for m in answer("hi")]

    assert_progress_curve(values)
    assert seen_by_tracker == values[:-1]
    assert tracker.get_progress() == 100.0 and tracker.status is ProgressStatus.DONE
    snapshot = tracker.snapshot()
    assert (snapshot.expected_source, snapshot.expected_tokens) == ("max_tokens", max_tokens)
    if max_tokens == 4:
        # Far past the estimate: still below 100, closing in on it.
        assert 99 < values[-2] < 100
    if max_tokens == 400:
        assert values[-2] < 10  # jumps to 100 at the end


async def test_learned_estimate_improves_the_next_call(
    fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    lengths = CompletionLengths()
    tracker = ProgressTracker(lengths=lengths)
    dispatcher = make_dispatcher()
    answer = with_metadata(dispatcher, providers=["anthropic"], progress_tracker=tracker)

    fake_server.enqueue(Script(chunks=words(30), usage=(3, 30)))
    first = [m["progress"] async for m in answer("one")]
    assert tracker.snapshot().expected_source == "default"
    assert tracker.expected_tokens == DEFAULT_EXPECTED_TOKENS["text_generation"]
    assert_progress_curve(first)
    assert first[-2] < 30  # the default estimate was far too long

    fake_server.enqueue(Script(chunks=words(30), usage=(3, 30)))
    second = [m["progress"] async for m in answer("two")]
    snapshot = tracker.snapshot()
    assert (snapshot.expected_source, snapshot.expected_tokens) == ("learned", 30)
    assert_progress_curve(second)
    # 30 chunks of 4 characters at the learned 4 characters per token: right on target.
    assert 90 <= second[-2] < 100

    # Another provider on the same task type starts from the task type's estimate.
    other = with_metadata(dispatcher, providers=["google"], progress_tracker=tracker)
    fake_server.enqueue(Script(chunks=words(5), usage=(3, 5)))
    await other("three").collect()
    assert tracker.snapshot().expected_source == "learned"


async def test_without_max_tokens_or_history_the_task_default_is_used(
    fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    tracker = ProgressTracker(lengths=CompletionLengths())
    answer = with_metadata(
        make_dispatcher(),
        providers=["openai"],
        task_type="classification",
        progress_tracker=tracker,
    )
    fake_server.enqueue(Script(chunks=words(60), usage=(3, 60)))
    values = [m["progress"] async for m in answer("positive or negative?")]
    assert tracker.expected_tokens == DEFAULT_EXPECTED_TOKENS["classification"] == 20
    assert tracker.snapshot().expected_source == "default"
    assert_progress_curve(values)


async def test_metadata_progress_moves_without_any_tracker(
    fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    fake_server.enqueue(Script(chunks=words(20)))
    answer = with_metadata(make_dispatcher(), providers=["google"], max_tokens=20)
    values = [m["progress"] async for m in answer("hi")]
    assert_progress_curve(values)
    assert values[0] > 0


async def test_tracker_reports_status_rate_ttft_eta_and_chunks(
    fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    tracker = ProgressTracker(lengths=CompletionLengths())
    assert tracker.status is ProgressStatus.WAITING and tracker.get_progress() == 0.0

    @llm_stream(
        dispatcher=make_dispatcher(), providers=["openai"], max_tokens=100, progress_tracker=tracker
    )
    async def answer(prompt: str) -> Any:
        yield "unused"

    fake_server.enqueue(Script(chunks=words(10), usage=(3, 10), first_delay=0.1, chunk_delay=0.01))
    stream = answer("hi")
    during: list[Any] = []
    async for _ in stream:
        during.append(tracker.snapshot())

    assert all(s.status is ProgressStatus.STREAMING for s in during)
    assert [s.chunk_count for s in during] == list(range(1, 11))
    assert [s.tokens for s in during] == list(range(1, 11))  # 4 characters a token
    assert during[0].time_to_first_token_ms is not None
    assert during[0].time_to_first_token_ms >= 100
    later = during[-1]
    assert later.tokens_per_second is not None and later.tokens_per_second > 0
    assert later.eta_seconds is not None and later.eta_seconds > 0
    final = tracker.snapshot()
    assert final.status is ProgressStatus.DONE and final.progress == 100.0
    assert final.tokens == 10 and final.eta_seconds == 0.0
    assert final.request_id == stream.request_id
    assert stream.progress == final


async def test_failure_marks_the_progress_failed_and_keeps_its_value(
    fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    tracker = ProgressTracker(lengths=CompletionLengths())

    @llm_stream(
        dispatcher=make_dispatcher(),
        providers=["anthropic"],
        max_tokens=20,
        progress_tracker=tracker,
    )
    async def answer(prompt: str) -> Any:
        yield "unused"

    fake_server.enqueue(Script(chunks=words(10), drop_after=5))
    last: list[float] = []
    with pytest.raises(StreamInterrupted):
        async for _ in answer("hi"):
            last.append(tracker.get_progress())
    assert tracker.status is ProgressStatus.FAILED
    assert tracker.get_progress() == last[-1] < 100
    assert tracker.eta_seconds is None


async def test_concurrent_streams_each_keep_their_own_progress(
    fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    @llm_stream(dispatcher=make_dispatcher(), providers=["google"], max_tokens=50)
    async def answer(prompt: str) -> Any:
        yield "unused"

    fake_server.enqueue(Script(chunks=words(10), chunk_delay=0.01))
    fake_server.enqueue(Script(chunks=words(30), chunk_delay=0.01))
    short, long = answer("short"), answer("long")
    await asyncio.gather(short.collect(), long.collect())
    assert short.progress is not None and long.progress is not None
    assert short.progress.progress == long.progress.progress == 100.0
    assert {short.progress.chunk_count, long.progress.chunk_count} == {10, 30}


async def test_progress_bar_draws_the_tracked_stream(
    fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    tracker = ProgressTracker(lengths=CompletionLengths())

    @llm_stream(
        dispatcher=make_dispatcher(), providers=["openai"], max_tokens=10, progress_tracker=tracker
    )
    async def answer(prompt: str) -> Any:
        yield "unused"

    output = io.StringIO()
    console = Console(file=output, force_terminal=False, width=160)
    fake_server.enqueue(Script(chunks=words(10), usage=(3, 10), chunk_delay=0.01))
    async with ProgressBar(tracker, console=console, refresh_per_second=50):
        await answer("hi").collect()
    drawn = output.getvalue()
    assert "openai/gpt-4o-mini" in drawn
    assert "100%" in drawn and "10/10 tok" in drawn and "done" in drawn


def test_progress_tracker_must_be_a_tracker() -> None:
    with pytest.raises(TypeError, match="ProgressTracker"):

        @llm_stream(progress_tracker=True)
        async def answer(prompt: str) -> Any:
            yield "x"
