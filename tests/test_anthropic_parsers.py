"""``parser: fast`` against ``parser: sdk`` for Anthropic: the same events and the same errors
for every wire shape and fault of the fake server, for the raw forms it does not script,
and the known differences, each as documented; the setting."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

import pytest
from anthropic_raw import event, raw_messages_server
from parser_outcomes import assert_alike, assert_script_alike, both_parsers, outcome_of

from llm_dispatch.providers.base import ProviderSettings
from llm_dispatch.request import Message, Request
from llm_dispatch.settings.loader import load_config
from llm_dispatch.testing import Script
from llm_dispatch.testing.script import ScriptedToolCall, ShapeFlag

pytestmark = pytest.mark.usefixtures("clean_provider_env")

MODEL = "claude-test"
TEN = [f"w{i} " for i in range(10)]
CALLS = [ScriptedToolCall("get_weather", {"city": "Paris"}), ScriptedToolCall("get_time")]
SHAPES: list[ShapeFlag] = [
    "no_start_usage",
    "no_delta_usage",
    "usage_in_delta",
    "partial_usage",
    "sparse",
    "unknown_events",
    "unknown_fields",
    "ping_before_start",
    "ping_between_blocks",
    "ping_between_deltas",
]
EVERY_SHAPE = set(SHAPES) - {"no_start_usage", "no_delta_usage"}

SCRIPTS: dict[str, Script] = {
    "plain": Script(chunks=TEN),
    "usage": Script(chunks=TEN, usage=(7, 10)),
    "no-usage": Script(chunks=TEN, send_usage=False),
    "cached": Script(chunks=TEN, usage=(50, 10), cache_tokens=(20, 30)),
    **{f"shape-{flag}": Script(chunks=TEN, usage=(50, 10), shape={flag}) for flag in SHAPES},
    "gateway-usage": Script(chunks=TEN, shape={"no_start_usage", "usage_in_delta"}),
    "no-usage-at-all": Script(chunks=TEN, shape={"no_start_usage", "no_delta_usage"}),
    "every-shape": Script(chunks=TEN, usage=(50, 10), cache_tokens=(5, 6), shape=EVERY_SHAPE),
    "every-shape-reasoning-calls": Script(
        chunks=TEN[:3], reasoning="let me think", tool_calls=CALLS, shape=EVERY_SHAPE
    ),
    "reasoning": Script(chunks=TEN, reasoning="let me think about it"),
    "length": Script(chunks=TEN, finish_reason="length"),
    "stop-sequence": Script(chunks=TEN, native_finish_reason="stop_sequence"),
    "pause-turn": Script(chunks=TEN, native_finish_reason="pause_turn"),
    "window-exceeded": Script(chunks=TEN, native_finish_reason="model_context_window_exceeded"),
    "refusal": Script(chunks=TEN[:3], finish_reason="content_filter", error_message="no."),
    "refusal-no-text": Script(chunks=[], finish_reason="content_filter"),
    "tool-calls": Script(tool_calls=CALLS),
    "text-then-calls": Script(chunks=TEN[:2], tool_calls=CALLS),
    "reasoning-then-call": Script(reasoning="think first", tool_calls=CALLS[:1]),
    "call-without-arguments": Script(tool_calls=[ScriptedToolCall("get_time", "")]),
    "drop-before-text": Script(chunks=TEN, drop_after=0),
    "drop-after-text": Script(chunks=TEN, drop_after=4),
    "drop-in-reasoning": Script(chunks=TEN, reasoning="one two three", drop_after=2),
    "drop-in-a-call": Script(tool_calls=CALLS, drop_after=2),
    "cut-before-text": Script(chunks=TEN, cut_after=0),
    "cut-after-text": Script(chunks=TEN, cut_after=4),
    "cut-in-a-call": Script(tool_calls=CALLS, cut_after=4),
    "malformed-before-text": Script(chunks=TEN, malformed_after=0),
    "malformed-after-text": Script(chunks=TEN, malformed_after=3),
    **{
        f"error-event-{kind}": Script(chunks=TEN, error_event_after=2, error_kind=kind)
        for kind in ("overloaded", "rate_limit", "server", "bad_request")
    },
    "error-event-before-text": Script(chunks=TEN, error_event_after=0),
    "error-event-context-length": Script(
        chunks=TEN,
        error_event_after=1,
        error_kind="bad_request",
        error_message="prompt is too long: 210000 tokens > 200000 maximum",
    ),
    **{f"status-{status}": Script(status=status) for status in (400, 401, 403, 404, 413, 500)},
    "status-529": Script(status=529, retry_after=1),
    "status-429-retry-after": Script(status=429, retry_after=2),
}

# A continuation whose prefill ends in whitespace: the answer's leading whitespace is dropped.
TRIMMED = Request(
    messages=(
        Message(role="user", content="Count to five."),
        Message(role="assistant", content="One, two, "),
    )
)


async def run(sdk_provider: Any, collect: Any, request: Request, parser: str, **kw: Any) -> Any:
    outcome = await collect(sdk_provider("anthropic", parser=parser, **kw), request, MODEL)
    return outcome_of(outcome.events, outcome.error)


@pytest.mark.parametrize("name", list(SCRIPTS))
async def test_each_shape_and_fault_gives_the_same_events_and_error(
    name: str, fake_server, sdk_provider, collect, say_hi
) -> None:
    await assert_script_alike(
        fake_server, SCRIPTS[name], partial(run, sdk_provider, collect, say_hi)
    )


@pytest.mark.parametrize("continuation", ["follow", "restart"])
async def test_a_trimmed_continuation_gives_the_same_events(
    continuation: Any, fake_server, sdk_provider, collect
) -> None:
    script = Script(text="One, two, three, four, five.", continuation=continuation)
    fake_server.enqueue(script)
    fake_server.enqueue(script)

    sdk, fast = await both_parsers(partial(run, sdk_provider, collect, TRIMMED))

    assert fast == sdk
    assert sdk["events"][0].text == sdk["events"][0].text.lstrip()


# -- raw forms ---------------------------------------------------------------------------------


def start(usage: Any = None) -> bytes:
    message: dict[str, Any] = {"id": "msg_raw", "type": "message", "role": "assistant"}
    message.update(content=[], model=MODEL, stop_reason=None, stop_sequence=None)
    if usage is not None:
        message["usage"] = usage
    return event({"type": "message_start", "message": message})


def block(index: int, content_block: dict[str, Any]) -> bytes:
    return event({"type": "content_block_start", "index": index, "content_block": content_block})


def delta(index: int, piece: dict[str, Any]) -> bytes:
    return event({"type": "content_block_delta", "index": index, "delta": piece})


def text(index: int, value: Any) -> bytes:
    return delta(index, {"type": "text_delta", "text": value})


def stop(index: int) -> bytes:
    return event({"type": "content_block_stop", "index": index})


def finish(reason: str | None = "end_turn", usage: Any = None, **fields: Any) -> bytes:
    payload: dict[str, Any] = {"type": "message_delta", "delta": {"stop_reason": reason, **fields}}
    if usage is not None:
        payload["usage"] = usage
    return event(payload)


END = event({"type": "message_stop"})
HELLO = [block(0, {"type": "text", "text": ""}), text(0, "Hel"), text(0, "lo"), stop(0)]
OVERLOADED = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}

RAW_STREAMS: dict[str, list[bytes]] = {
    "redacted-thinking": [
        start({"input_tokens": 5, "output_tokens": 1}),
        block(0, {"type": "redacted_thinking", "data": "EmwKAhgBEgy3va3pzix"}),
        stop(0),
        block(1, {"type": "text", "text": ""}),
        text(1, "Done."),
        stop(1),
        finish(usage={"output_tokens": 9}),
        END,
    ],
    "server-tool-blocks": [
        start({"input_tokens": 5}),
        block(0, {"type": "server_tool_use", "id": "srvtoolu_1", "name": "web_search"}),
        delta(0, {"type": "input_json_delta", "partial_json": '{"query": "x"}'}),
        stop(0),
        block(1, {"type": "web_search_tool_result", "tool_use_id": "srvtoolu_1", "content": []}),
        stop(1),
        *[piece.replace(b'"index": 0', b'"index": 2') for piece in HELLO],
        finish(usage={"output_tokens": 4, "server_tool_use": {"web_search_requests": 1}}),
        END,
    ],
    "tool-input-in-the-start": [
        start(),
        block(0, {"type": "tool_use", "id": "toolu_1", "name": "f", "input": {"a": [1, 2]}}),
        stop(0),
        block(1, {"type": "tool_use", "id": "toolu_2", "name": "g", "input": {}}),
        delta(1, {"type": "input_json_delta", "partial_json": ""}),
        stop(1),
        block(2, {"type": "tool_use", "id": "toolu_3", "name": "h", "input": "not a dict"}),
        stop(2),
        finish("tool_use"),
        END,
    ],
    "thinking-nulls-and-empties": [
        start({"input_tokens": 3, "cache_read_input_tokens": None}),
        block(0, {"type": "thinking", "thinking": "", "signature": ""}),
        delta(0, {"type": "thinking_delta", "thinking": ""}),
        delta(0, {"type": "thinking_delta", "thinking": "hmm"}),
        delta(0, {"type": "thinking_delta", "thinking": None}),
        delta(0, {"type": "signature_delta", "signature": ""}),
        delta(0, {"type": "signature_delta", "signature": "c2ln"}),
        stop(0),
        block(1, {"type": "text", "text": ""}),
        text(1, None),
        text(1, ""),
        text(1, "ok"),
        stop(1),
        finish(stop_sequence=None, usage={"output_tokens": 2, "input_tokens": None}),
        END,
    ],
    "cumulative-usage": [
        start({"input_tokens": 3, "cache_creation_input_tokens": 4, "output_tokens": 1}),
        *HELLO,
        event({"type": "message_delta", "delta": {}, "usage": {"output_tokens": 1}}),
        finish(usage={"input_tokens": 30, "cache_read_input_tokens": 7, "output_tokens": 2}),
        END,
    ],
    "refusal-details": [
        start(),
        *HELLO,
        finish("refusal", stop_details={"type": "refusal", "category": "cyber"}),
        END,
    ],
    "refusal-without-details": [start(), finish("refusal", stop_details=None), END],
    "names-as-the-sdk-sorts-them": [
        start(),
        event({"type": "content_block_start", "index": 0, "content_block": {"type": "text"}}),
        event({"type": "ping"}, "ping", data="not json"),
        text(0, "skipped, no name").replace(b"event: content_block_delta\n", b""),
        event({}, "content_block_delta", data=""),
        event({}, "fake_future_event", data=""),
        b": a comment\nevent: content_block_delta\nid: 7\nretry: 10\n"
        b'data: {"type": "content_block_delta", "index": 0,\n'
        b'data:  "delta": {"type": "text_delta", "text": "two lines"}}\r\n\r\n',
        text(0, "named otherwise").replace(b"event: content_block_delta", b"event: other"),
        delta(0, {"type": "fake_future_delta", "text": "[not answer text]"}),
        stop(0),
        finish(usage={"output_tokens": 2}),
        END,
    ],
    "crlf-and-split-anywhere": [
        piece
        for whole in (start({"input_tokens": 2}), *HELLO, finish(), END)
        for converted in [whole.replace(b"\n", b"\r\n")]
        for piece in (converted[:7], converted[7:30], converted[30:])
    ],
    "error-event": [start(), *HELLO, event(OVERLOADED)],
    "error-event-with-details": [
        start(),
        event(
            {
                "type": "error",
                "error": {
                    "type": "rate_limit_error",
                    "message": "slow down",
                    "details": {"error_code": "ramp_limit_exceeded"},
                },
                "request_id": "req_1",
            }
        ),
    ],
    "error-event-not-json": [start(), *HELLO, event({}, "error", data="upstream broke")],
    "error-event-empty": [start(), *HELLO, event({}, "error", data="")],
    "error-event-of-a-string": [start(), event({}, "error", data='"overloaded"')],
    "error-type-unnamed": [start(), *HELLO, event(OVERLOADED, None), finish(), END],
    "no-message-stop": [start(), *HELLO, finish()],
}


@pytest.mark.parametrize("name", list(RAW_STREAMS))
async def test_raw_forms_give_the_same_events_and_error(
    name: str, sdk_provider, collect, say_hi
) -> None:
    async with raw_messages_server(RAW_STREAMS[name]) as server:
        sdk, fast = await both_parsers(
            partial(run, sdk_provider, collect, say_hi, base_url=server.base_url)
        )

    assert_alike(sdk, fast)


# -- the known differences ---------------------------------------------------------------------


async def test_what_follows_message_stop_is_drained_not_read(sdk_provider, collect, say_hi) -> None:
    late = [text(0, "late"), event(OVERLOADED)]
    async with raw_messages_server([start(), *HELLO, finish(), END, *late]) as server:
        sdk, fast = await both_parsers(
            partial(run, sdk_provider, collect, say_hi, base_url=server.base_url)
        )

    # The SDK reads on to the body's end: the late text, then the late error.
    assert [e.text for e in sdk["events"]] == ["Hel", "lo", "late"]
    assert sdk["error"][1] == "overloaded"
    assert [e.text for e in fast["events"]] == ["Hel", "lo", ""]
    assert fast["error"] is None
    assert fast["events"][-1].finish_reason == "stop"


@pytest.mark.parametrize("data", ["[1]", "null", '"text"'])
async def test_data_that_is_no_object_is_malformed(
    data: str, sdk_provider, collect, say_hi
) -> None:
    pieces = [start(), event({}, "content_block_delta", data=data), *HELLO, finish(), END]
    async with raw_messages_server(pieces) as server:
        sdk, fast = await both_parsers(
            partial(run, sdk_provider, collect, say_hi, base_url=server.base_url)
        )

    # The SDK hands the value on; reading it fails (a server error, no event is made).
    assert sdk["events"] == fast["events"] == []
    assert sdk["error"][1] == "server"
    assert fast["error"][1] == "malformed"


@pytest.mark.parametrize(
    "payload",
    [
        {"type": "content_block_delta", "index": 0},
        {"type": "content_block_delta", "index": 0, "delta": "x"},
        {"type": "content_block_start", "index": 1, "content_block": None},
    ],
)
async def test_a_part_that_is_no_object_is_skipped(
    payload: dict[str, Any], sdk_provider, collect, say_hi
) -> None:
    pieces = [start(), *HELLO, event(payload), finish(), END]
    async with raw_messages_server(pieces) as server:
        sdk, fast = await both_parsers(
            partial(run, sdk_provider, collect, say_hi, base_url=server.base_url)
        )

    # The reader fails on the SDK's event; read from JSON the part counts as absent.
    assert sdk["error"][1] == "server"
    assert fast["error"] is None
    assert [e.text for e in fast["events"]] == ["Hel", "lo", ""]


async def test_bytes_that_are_not_utf8_are_malformed_under_both(
    sdk_provider, collect, say_hi
) -> None:
    pieces = [start(), *HELLO, b"event: content_block_delta\ndata: \xff\xfe\n\n", END]
    async with raw_messages_server(pieces) as server:
        sdk, fast = await both_parsers(
            partial(run, sdk_provider, collect, say_hi, base_url=server.base_url)
        )

    assert fast["events"] == sdk["events"]
    # The same kind; the message's byte position differs (the SDK decodes the whole line).
    assert fast["error"][:2] == sdk["error"][:2]
    assert sdk["error"][1] == "malformed"


# -- the setting -------------------------------------------------------------------------------


def test_an_anthropic_provider_takes_the_fast_parser(tmp_path: Path) -> None:
    path = tmp_path / "dispatch.yaml"
    path.write_text("providers:\n  mine:\n    kind: anthropic\n    parser: fast\n", "utf-8")

    settings = load_config(path, environ={}).providers["mine"].to_settings("mine")

    assert settings.parser == "fast"
    assert ProviderSettings(name="a", kind="anthropic").parser == "fast"
    assert ProviderSettings(name="a", kind="anthropic", parser="sdk").parser == "sdk"
