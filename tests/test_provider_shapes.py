"""Stream shapes real servers send, through each official SDK over real HTTP.

The fake server's ``Script(shape=...)`` flags reproduce them: optional fields left out,
usage in other places or in pieces, unknown event types and fields, Anthropic pings. Each
provider must deliver the same text and the usage the stream reported. The wire tests at
the end check that each flag really changes what the fake server sends, so that the provider
tests above would notice a shape they mishandle.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import aiohttp
import pytest

from llm_dispatch.events import ProviderEvent, Usage
from llm_dispatch.testing import FakeProviderServer, Script

# Every test here that builds a provider of a kind with a fast parser runs under each of
# its stream parsers.
pytestmark = [pytest.mark.usefixtures("clean_provider_env"), pytest.mark.stream_parsers]

CHUNKS = ["Hel", "lo", ", wor", "ld!"]
# 20 prompt tokens, 4 of them written to the prompt cache and 6 read from it.
USAGE = (20, 7)
CACHE = (4, 6)
# How each kind reports CACHE: the cache reads inside the prompt count, and Anthropic's
# writes too.
REPORTED_CACHE: dict[str, dict[str, int]] = {
    "openai": {"cached_input": CACHE[1]},
    "google": {"cached_input": CACHE[1]},
    "anthropic": {"cached_input": CACHE[1], "cache_write": CACHE[0]},
}
ANTHROPIC_CACHE = REPORTED_CACHE["anthropic"]


def reported_usage(kind: str) -> Usage:
    """The usage a provider of ``kind`` reports for :data:`USAGE` and :data:`CACHE`."""
    return Usage.of(*USAGE, **REPORTED_CACHE.get(kind, {}))


def script(*shape: Any, **fields: Any) -> Script:
    return Script(chunks=CHUNKS, usage=USAGE, cache_tokens=CACHE, shape=shape, **fields)


# (provider, shape flags, other Script fields, the usage the provider must report)
USAGE_SHAPES: list[tuple[str, tuple[str, ...], dict[str, Any], Usage | None]] = [
    ("anthropic", (), {}, Usage.of(20, 7, **ANTHROPIC_CACHE)),
    # Anthropic-compatible gateways: every count in message_delta only.
    ("anthropic", ("no_start_usage", "usage_in_delta"), {}, Usage.of(20, 7, **ANTHROPIC_CACHE)),
    ("anthropic", ("usage_in_delta",), {}, Usage.of(20, 7, **ANTHROPIC_CACHE)),
    ("anthropic", ("no_start_usage",), {}, Usage.of(0, 7)),
    ("anthropic", ("no_delta_usage",), {}, Usage.of(20, 0, **ANTHROPIC_CACHE)),
    ("anthropic", ("no_start_usage", "no_delta_usage"), {}, None),
    # message_start has input_tokens only; the cache counts never come.
    ("anthropic", ("partial_usage",), {}, Usage.of(10, 7)),
    # ... or come in message_delta, which leaves message_start's input_tokens standing.
    ("anthropic", ("partial_usage", "usage_in_delta"), {}, Usage.of(20, 7, **ANTHROPIC_CACHE)),
    ("anthropic", ("sparse",), {}, Usage.of(20, 7, **ANTHROPIC_CACHE)),
    ("openai", (), {}, Usage.of(20, 7, cached_input=6)),
    ("openai", ("sparse",), {}, Usage.of(20, 7, cached_input=6)),
    ("openai", (), {"send_usage": False}, None),
    ("openai", ("sparse",), {"send_usage": False}, None),
    ("google", (), {}, Usage.of(20, 7, cached_input=6)),
    ("google", ("partial_usage",), {}, Usage.of(20, 7, cached_input=6)),
    ("google", ("sparse",), {}, Usage.of(20, 7, cached_input=6)),
    ("google", ("sparse", "partial_usage"), {}, Usage.of(20, 7, cached_input=6)),
    ("google", (), {"send_usage": False}, None),
    ("google", ("sparse",), {"send_usage": False}, None),
]


@pytest.mark.parametrize(
    ("kind", "shape", "fields", "usage"),
    USAGE_SHAPES,
    ids=[
        f"{kind}-{'+'.join(shape) or 'default'}{'-no_usage' if fields else ''}"
        for kind, shape, fields, _ in USAGE_SHAPES
    ],
)
async def test_shape_streams_the_text_and_the_reported_usage(
    fake_server, sdk_provider, collect, say_hi, kind, shape, fields, usage
) -> None:
    fake_server.enqueue(script(*shape, **fields))

    outcome = await collect(sdk_provider(kind), say_hi, "test-model")

    assert outcome.error is None
    assert outcome.texts == CHUNKS
    assert outcome.final == ProviderEvent(usage=usage, finish_reason="stop")


@pytest.mark.parametrize(
    "shape",
    [
        ("unknown_events",),
        ("unknown_fields",),
        ("unknown_events", "unknown_fields", "sparse", "partial_usage", "usage_in_delta"),
    ],
    ids=["events", "fields", "all"],
)
async def test_unknown_events_and_fields_are_ignored(
    fake_server, sdk_provider, collect, say_hi, kind, shape
) -> None:
    fake_server.enqueue(script(*shape))

    outcome = await collect(sdk_provider(kind), say_hi, "test-model")

    assert outcome.error is None
    assert outcome.texts == CHUNKS
    assert outcome.final == ProviderEvent(usage=reported_usage(kind), finish_reason="stop")


@pytest.mark.parametrize(
    "shape",
    [
        ("ping_before_start",),
        ("ping_between_deltas",),
        ("ping_between_blocks",),
        ("ping_before_start", "ping_between_deltas", "ping_between_blocks", "unknown_events"),
    ],
    ids=["before-start", "between-deltas", "between-blocks", "everywhere"],
)
async def test_anthropic_pings_anywhere_are_harmless(
    fake_server, sdk_provider, collect, say_hi, shape
) -> None:
    fake_server.enqueue(script(*shape))

    outcome = await collect(sdk_provider("anthropic"), say_hi, "test-model")

    assert outcome.error is None
    assert outcome.texts == CHUNKS
    assert outcome.final == ProviderEvent(usage=reported_usage("anthropic"), finish_reason="stop")


def test_shape_flags_are_checked() -> None:
    with pytest.raises(ValueError, match="no_such_flag"):
        Script(shape=("sparse", "no_such_flag"))  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Script(shape="sparse")  # type: ignore[arg-type]


# -- what the fake server sends -----------------------------------------------------------

Events = list[tuple[str | None, Any]]


async def wire_events(server: FakeProviderServer, kind: str, answer: Script) -> Events:
    """The SSE events of the fake server's answer: (event name, parsed data, or the raw
    line of a comment) in order."""
    server.enqueue(answer)
    url, body = {
        "openai": (
            f"{server.openai_base_url}/chat/completions",
            {"model": "m", "messages": [{"role": "user", "content": "hi"}], "stream": True},
        ),
        "anthropic": (
            f"{server.anthropic_base_url}/v1/messages",
            {"model": "m", "max_tokens": 9, "messages": [{"role": "user", "content": "hi"}]},
        ),
        "google": (
            f"{server.google_base_url}/v1beta/models/m:streamGenerateContent?alt=sse",
            {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]},
        ),
    }[kind]
    if kind == "openai":
        body["stream_options"] = {"include_usage": True}
    async with aiohttp.ClientSession() as session, session.post(url, json=body) as response:
        raw = (await response.read()).decode().replace("\r\n", "\n")
    events: Events = []
    for block in filter(None, raw.split("\n\n")):
        name = None
        for line in block.split("\n"):
            if line.startswith(":"):
                events.append((None, line))
            elif line.startswith("event: "):
                name = line.removeprefix("event: ")
            elif line.startswith("data: "):
                data = line.removeprefix("data: ")
                events.append((name, data if data == "[DONE]" else json.loads(data)))
    return events


def of_type(events: Events, kind: str) -> list[dict[str, Any]]:
    return [data for _, data in events if isinstance(data, dict) and data.get("type") == kind]


def names(events: Events) -> list[str | None]:
    return [name for name, _ in events]


def follows(sequence: list[Any], *run: Any) -> bool:
    return any(sequence[i : i + len(run)] == list(run) for i in range(len(sequence)))


ANTHROPIC_KNOWN = {
    "message_start",
    "content_block_start",
    "content_block_delta",
    "content_block_stop",
    "message_delta",
    "message_stop",
    "ping",
}


def start_message(events: Events) -> dict[str, Any]:
    message: dict[str, Any] = of_type(events, "message_start")[0]["message"]
    return message


def message_delta(events: Events) -> dict[str, Any]:
    return of_type(events, "message_delta")[0]


def chunks(events: Events) -> list[dict[str, Any]]:
    return [data for _, data in events if isinstance(data, dict)]


def candidates(events: Events) -> list[dict[str, Any]]:
    return [c for data in chunks(events) for c in data.get("candidates", [])]


def parts(events: Events) -> list[dict[str, Any]]:
    return [p for c in candidates(events) for p in c.get("content", {}).get("parts", [])]


WIRE_CHECKS: dict[tuple[str, str], Callable[[Events], bool]] = {
    ("anthropic", "no_start_usage"): lambda ev: "usage" not in start_message(ev),
    ("anthropic", "no_delta_usage"): lambda ev: "usage" not in message_delta(ev),
    ("anthropic", "usage_in_delta"): lambda ev: (
        message_delta(ev)["usage"]
        == {
            "input_tokens": 10,
            "cache_creation_input_tokens": 4,
            "cache_read_input_tokens": 6,
            "output_tokens": 7,
        }
    ),
    ("anthropic", "partial_usage"): lambda ev: start_message(ev)["usage"] == {"input_tokens": 10},
    ("anthropic", "sparse"): lambda ev: (
        "stop_sequence" not in message_delta(ev)["delta"] and "stop_reason" not in start_message(ev)
    ),
    ("anthropic", "ping_before_start"): lambda ev: names(ev)[:2] == ["ping", "message_start"],
    ("anthropic", "ping_between_deltas"): lambda ev: follows(
        names(ev), "content_block_delta", "ping", "content_block_delta"
    ),
    ("anthropic", "ping_between_blocks"): lambda ev: (
        follows(names(ev), "content_block_stop", "ping", "content_block_start")
        and [e["index"] for e in of_type(ev, "content_block_delta")] == [0, 1, 1, 1]
    ),
    ("anthropic", "unknown_events"): lambda ev: (
        bool(set(names(ev)) - ANTHROPIC_KNOWN)
        and any(e["delta"]["type"] != "text_delta" for e in of_type(ev, "content_block_delta"))
    ),
    ("anthropic", "unknown_fields"): lambda ev: "fake_future_field" in message_delta(ev)["usage"],
    ("openai", "sparse"): lambda ev: (
        chunks(ev)[0]["choices"] == []
        and any("delta" not in c for data in chunks(ev) for c in data["choices"])
    ),
    ("openai", "unknown_events"): lambda ev: (
        (None, ": keep-alive") in ev and "fake_future_event" in names(ev)
    ),
    ("openai", "unknown_fields"): lambda ev: all("obfuscation" in d for d in chunks(ev)),
    ("google", "partial_usage"): lambda ev: (
        [
            d["usageMetadata"].get("candidatesTokenCount") if "usageMetadata" in d else "none"
            for d in chunks(ev)
        ]
        == [None, None, None, 7]
    ),
    ("google", "sparse"): lambda ev: (
        {"role": "model"} in [c.get("content") for c in candidates(ev)]
        and any("text" not in p for p in parts(ev))
    ),
    ("google", "unknown_events"): lambda ev: any(
        "candidates" not in d and "usageMetadata" not in d for d in chunks(ev)
    ),
    ("google", "unknown_fields"): lambda ev: all("fakeFutureField" in c for c in candidates(ev)),
}


@pytest.mark.parametrize(("kind", "flag"), WIRE_CHECKS, ids="-".join)
async def test_each_shape_flag_changes_the_wire(fake_server, kind, flag) -> None:
    check = WIRE_CHECKS[kind, flag]

    plain = await wire_events(fake_server, kind, script())
    shaped = await wire_events(fake_server, kind, script(flag))

    assert not check(plain)
    assert check(shaped)
