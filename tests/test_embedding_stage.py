"""EmbeddingStage driven directly with StreamContexts, and EmbeddingOptions."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from pydantic import SecretStr, ValidationError

from llm_dispatch.context import StreamContext
from llm_dispatch.embedding import (
    EmbeddingOptions,
    EmbeddingStage,
    MetadataTarget,
    StreamingHandler,
    UnicodeMetadata,
    VerifyStatus,
    process_key,
)
from llm_dispatch.embedding.verify import strip, verify
from llm_dispatch.errors import ConfigError
from llm_dispatch.request import Message, Request
from llm_dispatch.task_types import TaskType

KEY = "stage-key-0123456789"
ENV = "LLM_DISPATCH_HMAC_KEY"


@pytest.fixture(autouse=True)
def no_env_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV, raising=False)


def make_ctx(request_id: str = "req-1", **kwargs: Any) -> StreamContext:
    request = Request(
        messages=(Message(role="user", content="sort a list"),),
        task_type=TaskType.CODE_GENERATION,
        extra=kwargs.pop("extra", {}),
    )
    values = {"provider": "openai", "model": "gpt-4o", **kwargs}
    return StreamContext(request=request, request_id=request_id, **values)


async def drive(stage: EmbeddingStage, ctx: StreamContext, chunks: list[str]) -> str:
    """What the dispatcher does: start, every chunk, end; returns what was delivered."""
    await stage.on_start(ctx)
    out: list[str] = []
    for chunk in chunks:
        text = await stage.on_chunk(ctx, chunk)
        if text:
            out.append(text)
            ctx.delivered.append(text)
    tail = await stage.on_end(ctx)
    if tail:
        out.append(tail)
        ctx.delivered.append(tail)
    return "".join(out)


CHUNKS = ["Here is", " the code", ": sorted(items, key=", "lambda d: d['k'])"]


async def test_stage_signs_with_dispatch_metadata_and_user_fields() -> None:
    stage = EmbeddingStage(hmac_key=KEY, fields={"app": "demo", "tenant": 7})
    ctx = make_ctx(contributors=["openai"])
    signed = await drive(stage, ctx, CHUNKS)
    assert strip(signed) == "".join(CHUNKS)
    result = verify(signed, KEY)
    assert result.valid, result.message
    meta = result.metadata
    assert meta is not None
    assert meta["provider"] == "openai" and meta["model"] == "gpt-4o"
    assert meta["task_type"] == "code_generation" and meta["request_id"] == "req-1"
    assert meta["timestamp"].endswith("Z")
    assert meta["app"] == "demo" and meta["tenant"] == 7
    assert meta["contributors"] == ["openai"] and meta["cached"] is False
    # Known only at the end, so they are in the trailer.
    assert result.extras == {"contributors": ["openai"], "cached": False}
    assert ctx.values["embedding_summary"]["metadata"] == meta


async def test_every_provider_after_a_continuation_is_listed() -> None:
    stage = EmbeddingStage(hmac_key=KEY)
    ctx = make_ctx()
    await stage.on_start(ctx)
    ctx.contributors.append("openai")
    out = [await stage.on_chunk(ctx, "Partial answer ")]
    # Mid-stream failure, continued by another provider.
    ctx.provider, ctx.model = "anthropic", "claude"
    ctx.contributors.append("anthropic")
    out.append(await stage.on_chunk(ctx, "continued."))
    out.append(await stage.on_end(ctx))
    result = verify("".join(out), KEY)
    assert result.valid
    assert result.metadata is not None
    assert result.metadata["provider"] == "openai"  # who started it
    assert result.metadata["contributors"] == ["openai", "anthropic"]


async def test_fallback_before_the_first_chunk_records_the_provider_that_answered() -> None:
    stage = EmbeddingStage(hmac_key=KEY)
    ctx = make_ctx()
    await stage.on_start(ctx)
    ctx.provider, ctx.model = "google", "gemini-2.0"
    out = [await stage.on_chunk(ctx, c) for c in CHUNKS]
    out.append(await stage.on_end(ctx))
    meta = verify("".join(out), KEY).metadata
    assert meta is not None and meta["provider"] == "google" and meta["model"] == "gemini-2.0"


async def test_cache_replay_is_signed_afresh_and_never_replays_an_old_signature() -> None:
    stage = EmbeddingStage(hmac_key=KEY)
    first_ctx = make_ctx("req-1")
    first = await drive(stage, first_ctx, CHUNKS)
    # A recorder that (wrongly) kept signed chunks: the replay must not carry them.
    replay_ctx = make_ctx("req-2", cached=True)
    replayed = await drive(stage, replay_ctx, first_ctx.delivered)
    result = verify(replayed, KEY)
    assert result.valid
    assert result.metadata is not None
    assert result.metadata["cached"] is True and result.metadata["request_id"] == "req-2"
    assert strip(replayed) == "".join(CHUNKS)
    assert strip(replayed, all_payloads=True) == "".join(CHUNKS)
    first_nonce = first_ctx.values["embedding_summary"]["nonce"]
    assert replay_ctx.values["embedding_summary"]["nonce"] != first_nonce
    assert verify(first, KEY).valid


async def test_one_stage_serves_concurrent_streams() -> None:
    stage = EmbeddingStage(hmac_key=KEY)
    contexts = [make_ctx(f"req-{i}") for i in range(20)]

    async def one(ctx: StreamContext, i: int) -> str:
        await stage.on_start(ctx)
        out = []
        for chunk in CHUNKS:
            out.append(await stage.on_chunk(ctx, chunk))
            await asyncio.sleep(0)  # interleave the streams
        out.append(await stage.on_end(ctx))
        return "".join(out)

    results = await asyncio.gather(*(one(c, i) for i, c in enumerate(contexts)))
    for i, signed in enumerate(results):
        result = verify(signed, KEY)
        assert result.valid and result.metadata is not None
        assert result.metadata["request_id"] == f"req-{i}"
    assert not any("handler" in name.lower() for name in vars(stage))


async def test_per_call_fields_from_the_request() -> None:
    stage = EmbeddingStage(hmac_key=KEY, fields={"app": "demo"})
    ctx = make_ctx(extra={"embedding_fields": {"user_id": "u-1", "app": "override"}})
    meta = verify(await drive(stage, ctx, CHUNKS), KEY).metadata
    assert meta is not None and meta["user_id"] == "u-1" and meta["app"] == "override"


async def test_interrupted_stream_verifies_as_truncated() -> None:
    stage = EmbeddingStage(hmac_key=KEY)
    ctx = make_ctx()
    await stage.on_start(ctx)
    partial = "".join([await stage.on_chunk(ctx, c) for c in CHUNKS[:2]])
    await stage.on_error(ctx, ConnectionError("dropped"))
    assert verify(partial, KEY).status is VerifyStatus.TRUNCATED


async def test_stage_without_on_start_passes_text_through() -> None:
    stage = EmbeddingStage(hmac_key=KEY)
    ctx = make_ctx()
    assert await stage.on_chunk(ctx, "x") == "x"
    assert await stage.on_end(ctx) == ""
    assert stage.handles_chunks()


async def test_target_and_spread_options_reach_the_handler() -> None:
    stage = EmbeddingStage(target="end", encode_first_chunk_only=False, hmac_key=KEY)
    signed = await drive(stage, make_ctx(), CHUNKS)
    result = verify(signed, KEY)
    assert result.valid and result.header_offset == len("".join(CHUNKS))


def test_key_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV, "env-key-0123456789")
    options = EmbeddingOptions()
    assert options.key_source == "env"
    assert options.hmac_key is not None
    assert options.hmac_key.get_secret_value() == "env-key-0123456789"
    # An empty key (e.g. "${LLM_DISPATCH_HMAC_KEY:-}" in YAML) also falls back to the env.
    assert EmbeddingOptions.model_validate({"key": ""}).key_source == "env"
    monkeypatch.setenv(ENV, "short")
    with pytest.raises(ValidationError, match=f"{ENV} is shorter than 16") as info:
        EmbeddingOptions()
    assert "short" not in str(info.value).replace(f"{ENV} is shorter", "")


def test_no_key_is_an_error_that_says_where_to_set_one() -> None:
    for make in (EmbeddingOptions, EmbeddingStage, lambda: EmbeddingStage({"target": "end"})):
        with pytest.raises(ValidationError) as info:
            make()
        message = str(info.value)
        assert "no HMAC key" in message and "hmac_key" in message and ENV in message
        assert "random" in message
    # Disabled options sign nothing, so they need no key (and make no stage).
    disabled = EmbeddingOptions(enabled=False)
    assert disabled.hmac_key is None and disabled.key_source == "none"
    with pytest.raises(ValueError, match="disabled"):
        EmbeddingStage(disabled)


@pytest.mark.parametrize("key", ["k", "stage-key", "x" * 15, "Random", "RANDOM"])
def test_short_keys_are_refused_without_being_shown(key: str) -> None:
    with pytest.raises(ValidationError, match="shorter than 16 characters") as info:
        EmbeddingOptions(hmac_key=SecretStr(key))
    with pytest.raises(ValidationError) as from_dict:
        EmbeddingOptions.model_validate({"key": key})
    for error in (info.value, from_dict.value):
        assert f"'{key}'" not in str(error) and "input_value" not in str(error)
        assert error.errors()[0]["loc"][-1] in ("hmac_key", "key")


async def test_random_key_only_on_request_and_one_per_process() -> None:
    stage = EmbeddingStage(hmac_key="random")
    other = EmbeddingStage(EmbeddingOptions.model_validate({"key": "random", "target": "end"}))
    assert stage.options.key_source == other.options.key_source == "random"
    # One key for the whole process, readable by the caller ...
    assert stage.hmac_key.get_secret_value() == process_key() == other.hmac_key.get_secret_value()
    assert stage.key_id == other.key_id
    # ... and shared with a StreamingHandler that was given no key.
    assert StreamingHandler().hmac_secret_key == process_key()
    signed = await drive(stage, make_ctx(), CHUNKS)
    assert UnicodeMetadata.verify(signed, process_key()).valid
    assert UnicodeMetadata.verify(await drive(other, make_ctx(), CHUNKS), stage.hmac_key).valid
    assert process_key() not in repr(stage) + repr(stage.options) + str(stage.options.model_dump())


def test_options_aliases_targets_and_validation() -> None:
    for alias in ("key", "secret_key", "hmac_secret_key", "hmac_key"):
        options = EmbeddingOptions.model_validate({alias: KEY, "target": "Last-Letter"})
        assert options.key_source == "explicit"
        assert options.target is MetadataTarget.LAST_LETTER
    key = SecretStr(KEY)
    with pytest.raises(ValidationError, match="filled in by the dispatcher"):
        EmbeddingOptions(hmac_key=key, fields={"provider": "me"})
    with pytest.raises(ValidationError):
        EmbeddingOptions(hmac_key=key, fields={"x": {1, 2}})
    with pytest.raises(ValidationError, match="unknown metadata target"):
        EmbeddingOptions.model_validate({"key": KEY, "target": "nowhere"})
    with pytest.raises(ValidationError):
        EmbeddingOptions(hmac_key=key, unknown_option=1)  # type: ignore[call-arg]


def test_from_value_for_the_decorator(monkeypatch: pytest.MonkeyPatch) -> None:
    assert EmbeddingOptions.from_value(None) is None
    assert EmbeddingOptions.from_value(False) is None
    with pytest.raises(ConfigError, match="no HMAC key") as info:
        EmbeddingOptions.from_value(True)  # True: the environment's key, and there is none
    assert info.value.path == "embed_metadata"
    with pytest.raises(ConfigError) as both:
        EmbeddingOptions.from_value({"key": "k", "target": "nowhere"})
    assert both.value.path == "embed_metadata.target"  # the first problem, then the others
    assert "unknown metadata target" in str(both.value)
    assert "also embed_metadata.key: the key is shorter than 16" in str(both.value)
    monkeypatch.setenv(ENV, KEY)
    assert isinstance(EmbeddingOptions.from_value(True), EmbeddingOptions)
    options = EmbeddingOptions.from_value({"key": KEY, "target": "punctuation"})
    assert options is not None and options.target is MetadataTarget.PUNCTUATION
    assert EmbeddingOptions.from_value(EmbeddingOptions(enabled=False)) is None
    with pytest.raises(TypeError):
        EmbeddingOptions.from_value("yes")  # type: ignore[arg-type]


def test_stage_overrides_keep_the_key() -> None:
    base = EmbeddingOptions(hmac_key=SecretStr(KEY))
    stage = EmbeddingStage(base, target="punctuation")
    assert stage.options.target is MetadataTarget.PUNCTUATION
    assert stage.hmac_key.get_secret_value() == KEY
    random_base = EmbeddingOptions.model_validate({"hmac_key": "random"})
    overridden = EmbeddingStage(random_base, target="end")
    assert overridden.options.key_source == "random"
    assert overridden.hmac_key.get_secret_value() == process_key()


async def test_secrets_never_in_repr_dumps_or_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    stage = EmbeddingStage(hmac_key="super-secret-value")
    ctx = make_ctx()
    await drive(stage, ctx, CHUNKS)
    shown = " ".join(
        [
            repr(stage),
            repr(stage.options),
            str(stage.options.model_dump()),
            stage.options.model_dump_json(),
            repr(ctx.values["embedding"]),
            str(ctx.values["embedding_summary"]),
            caplog.text,
        ]
    )
    assert "super-secret-value" not in shown
