"""Usage and cost from real provider streams: provider counts, estimates when there are none,
and the per-attempt ledger whose sums are the stream's usage and cost."""

from __future__ import annotations

import hashlib
import importlib.util
from typing import Any

import pytest
from conftest import TEST_MODELS, fake_providers

from llm_dispatch import StreamInterrupted, llm_stream, llm_stream_with_metadata
from llm_dispatch.cache import StreamingCache
from llm_dispatch.testing import FakeProviderServer, Script
from llm_dispatch.tokens import cached_encoding_path, estimate_tokens

PROVIDERS = ["openai", "anthropic", "google"]
#: USD per million tokens (input, output), per provider's test model.
PRICES = {"openai": (0.15, 0.60), "anthropic": (1.00, 5.00), "google": (0.30, 2.50)}


def priced(server: FakeProviderServer) -> dict[str, Any]:
    providers = fake_providers(server)
    for name, (inp, out) in PRICES.items():
        providers[name]["prices"] = {TEST_MODELS[name]: {"input": inp, "output": out}}
    return providers


def cost(provider: str, prompt: int, completion: int) -> float:
    inp, out = PRICES[provider]
    return (prompt * inp + completion * out) / 1e6


def streamer(dispatcher: Any, *, metadata: bool = False, **options: Any) -> Any:
    decorator = llm_stream_with_metadata if metadata else llm_stream

    @decorator(dispatcher=dispatcher, **options)
    async def answer(prompt: str) -> Any:
        yield "unused"

    return answer


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_provider_usage_and_its_cost(
    provider: str, fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    dispatcher = make_dispatcher(providers=priced(fake_server))
    fake_server.enqueue(Script(chunks=["four ", "chunks ", "of ", "text"], usage=(1000, 500)))
    items = [m async for m in streamer(dispatcher, metadata=True, providers=[provider])("hi")]

    final = items[-1]
    assert final["usage"] == {
        "prompt_tokens": 1000,
        "completion_tokens": 500,
        "total_tokens": 1500,
        "estimated": False,
        "reasoning_tokens": 0,
        "cached_input_tokens": 0,
        "cache_write_tokens": 0,
    }
    assert final["cost_usd"] == pytest.approx(cost(provider, 1000, 500))
    assert final["tokens"] == 500


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_usage_is_estimated_when_the_provider_sends_none(
    provider: str, fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    dispatcher = make_dispatcher(providers=priced(fake_server))
    chunks = ["The answer ", "has exactly ", "forty-two ", "characters."]
    fake_server.enqueue(Script(chunks=chunks, send_usage=False))
    prompt = "How many characters has the answer?"  # 35 characters
    stream = streamer(dispatcher, providers=[provider])(prompt)
    await stream.collect()

    usage = stream.usage
    assert usage is not None and usage.estimated
    expected_completion = estimate_tokens("".join(chunks))
    assert usage.completion_tokens == expected_completion == 11
    if provider == "anthropic":
        # Anthropic always reports input tokens (message_start; the fake server counts
        # words); only the output count is missing, and estimated.
        assert usage.prompt_tokens == 6
    else:
        assert usage.prompt_tokens == estimate_tokens(prompt) == 9
    assert stream.cost_usd == pytest.approx(
        cost(provider, usage.prompt_tokens, usage.completion_tokens)
    )


async def test_refused_retries_are_listed_but_not_charged(
    fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    dispatcher = make_dispatcher(providers=priced(fake_server))
    fake_server.enqueue(
        Script(status=429, retry_after=0),
        Script(status=500),
        Script(chunks=["ok"], usage=(10, 5)),
        provider="openai",
    )
    stream = streamer(dispatcher, providers=["openai"], max_retries=2)("hi")
    await stream.collect()

    entries = stream.ledger.entries
    assert [(e.attempt, e.outcome, e.status_code, e.charged) for e in entries] == [
        (1, "rate_limit", 429, False),
        (2, "server", 500, False),
        (3, "ok", None, True),
    ]
    assert [e.usage.total_tokens for e in entries] == [0, 0, 15]
    assert [e.cost_usd for e in entries] == [0.0, 0.0, pytest.approx(cost("openai", 10, 5))]
    assert stream.usage == stream.ledger.usage
    assert (stream.usage.prompt_tokens, stream.usage.completion_tokens) == (10, 5)
    assert not stream.usage.estimated
    assert stream.cost_usd == pytest.approx(cost("openai", 10, 5))


async def test_an_accepted_attempt_that_timed_out_is_charged_its_prompt(
    fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    dispatcher = make_dispatcher(
        providers=priced(fake_server), defaults={"timeouts": {"first_token": 0.5}}
    )
    fake_server.enqueue(Script(chunks=["late"], first_delay=3), provider="google")
    fake_server.enqueue(Script(chunks=["on time"], usage=(10, 2)), provider="google")
    prompt = "x" * 40  # 10 tokens by the estimate
    stream = streamer(dispatcher, providers=["google"], max_retries=1)(prompt)
    await stream.collect()

    timed_out, _ok = stream.ledger.entries
    assert (timed_out.outcome, timed_out.charged, timed_out.chars) == ("timeout", True, 0)
    assert (timed_out.usage.prompt_tokens, timed_out.usage.completion_tokens) == (10, 0)
    assert timed_out.usage.estimated
    assert timed_out.cost_usd == pytest.approx(cost("google", 10, 0))
    assert stream.usage is not None
    assert (stream.usage.prompt_tokens, stream.usage.completion_tokens) == (20, 2)
    assert stream.usage.estimated  # one of its parts is
    assert stream.cost_usd == pytest.approx(cost("google", 20, 2))


async def test_a_continued_stream_is_charged_for_both_parts(
    fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    dispatcher = make_dispatcher(providers=priced(fake_server))
    first = ["abcd", "efgh", "ijkl", "mnop", "qrst"]
    fake_server.enqueue(Script(chunks=first, drop_after=3), provider="openai")
    fake_server.enqueue(Script(chunks=["mnop", "qrst"], usage=(50, 2)), provider="anthropic")
    stream = streamer(
        dispatcher, metadata=True, providers=["openai", "anthropic"], mid_stream="continue"
    )("go")
    items = [m async for m in stream]
    assert "".join(m["chunk"] for m in items) == "".join(first)

    interrupted, continued = stream.ledger.entries
    assert (interrupted.provider, interrupted.outcome, interrupted.chars) == (
        "openai",
        "connection",
        12,
    )
    assert interrupted.charged and interrupted.usage.estimated
    assert (interrupted.usage.prompt_tokens, interrupted.usage.completion_tokens) == (1, 3)
    assert (continued.provider, continued.outcome, continued.chars) == ("anthropic", "ok", 8)
    assert (continued.usage.prompt_tokens, continued.usage.completion_tokens) == (50, 2)
    assert not continued.usage.estimated

    total = stream.usage
    assert total is not None and total == stream.ledger.usage
    assert (total.prompt_tokens, total.completion_tokens, total.estimated) == (51, 5, True)
    expected_cost = cost("openai", 1, 3) + cost("anthropic", 50, 2)
    assert stream.cost_usd == pytest.approx(expected_cost)
    assert stream.ledger.cost_usd == pytest.approx(expected_cost)
    final = items[-1]
    assert final["usage"] == total.model_dump() and final["cost_usd"] == stream.cost_usd
    assert final["tokens"] == 5


async def test_an_interrupted_stream_keeps_its_usage(
    fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    dispatcher = make_dispatcher(providers=priced(fake_server))
    fake_server.enqueue(Script(chunks=["abcd"] * 6, drop_after=2))
    stream = streamer(dispatcher, providers=["anthropic"])("go")
    with pytest.raises(StreamInterrupted):
        await stream.collect()
    [entry] = stream.ledger.entries
    assert entry.outcome == "connection" and entry.chars == 8
    assert stream.usage == stream.ledger.usage and stream.usage is not None
    assert stream.usage.completion_tokens == 2 and stream.usage.estimated
    assert stream.cost_usd == pytest.approx(cost("anthropic", stream.usage.prompt_tokens, 2))


async def test_a_consumer_that_leaves_still_pays_for_what_it_got(
    fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    dispatcher = make_dispatcher(providers=priced(fake_server))
    fake_server.enqueue(Script(chunks=["abcd"] * 50, chunk_delay=0.01))
    stream = streamer(dispatcher, providers=["google"])("go")
    chunks = aiter(stream)
    for _ in range(3):
        await anext(chunks)
    await chunks.aclose()  # type: ignore[attr-defined]
    [entry] = stream.ledger.entries
    assert (entry.outcome, entry.chars, entry.usage.completion_tokens) == ("cancelled", 12, 3)
    assert stream.usage == stream.ledger.usage


async def test_no_price_means_no_cost_but_usage(
    fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    fake_server.enqueue(Script(chunks=["hi"], usage=(3, 1)))
    stream = streamer(make_dispatcher(), providers=["openai"])("hi")
    await stream.collect()
    assert stream.usage is not None and stream.usage.total_tokens == 4
    assert stream.cost_usd is None and stream.ledger.entries[0].cost_usd is None


async def test_a_cache_hit_costs_nothing(
    fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    dispatcher = make_dispatcher(providers=priced(fake_server))
    cache = StreamingCache()
    fake_server.enqueue(Script(chunks=["cached ", "answer"], usage=(20, 2)))
    answer = streamer(dispatcher, providers=["openai"], cache=cache)
    live = answer("the same question")
    await live.collect()
    replay = answer("the same question")
    await replay.collect()

    assert len(fake_server.requests) == 1
    assert live.cost_usd == pytest.approx(cost("openai", 20, 2))
    assert replay.context.cached and replay.cost_usd == 0.0
    assert replay.usage == live.usage  # the usage of the answer it replays


def test_token_estimate_without_a_local_tokenizer() -> None:
    if importlib.util.find_spec("tiktoken") is not None:
        pytest.skip("tiktoken is installed: the character estimate is not in use")
    assert estimate_tokens("") == 0
    assert estimate_tokens("abc") == 1
    assert estimate_tokens("abcdefgh") == 2
    assert estimate_tokens("abcdefghi") == 3


def test_tiktoken_files_are_only_looked_up_in_the_local_cache(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))
    assert cached_encoding_path("o200k_base") is None
    url = "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken"
    cached = tmp_path / hashlib.sha1(url.encode()).hexdigest()
    cached.write_bytes(b"")
    assert cached_encoding_path("o200k_base") is None  # an empty file is no encoding
    cached.write_bytes(b"aGVsbG8= 0\n")
    assert cached_encoding_path("o200k_base") == str(cached)
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", "")
    assert cached_encoding_path("o200k_base") is None  # caching off: would download
