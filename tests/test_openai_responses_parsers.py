"""``parser: fast`` against ``parser: sdk`` on the OpenAI Responses API: the same events and
the same errors for every wire shape and fault the fake server scripts for it, and for raw
forms it does not script (events after the closing one, ``[DONE]``, ``thread.*`` events,
data that is not an object, top-level ``error`` objects, fields left out); which code read
the stream under each parser."""

from __future__ import annotations

import json
from functools import partial
from typing import Any, get_args

import pytest
from openai_raw import raw_responses_server
from parser_outcomes import assert_alike, assert_script_alike, both_parsers, outcome_of
from reading_paths import functions_run, openai_reading_paths

from llm_dispatch.testing import Script
from llm_dispatch.testing.script import ScriptedToolCall, ShapeFlag

pytestmark = pytest.mark.usefixtures("clean_provider_env")

MODEL = "gpt-5"
TEN = [f"w{i} " for i in range(10)]
CALLS = [ScriptedToolCall("get_weather", {"city": "Paris"}), ScriptedToolCall("get_time")]
CONTEXT = "This model's maximum context length is 8192 tokens."

SCRIPTS: dict[str, Script] = {
    "plain": Script(chunks=TEN),
    "usage": Script(chunks=TEN, usage=(7, 10)),
    "no-usage": Script(chunks=TEN, send_usage=False),
    "cached": Script(chunks=TEN, usage=(50, 10), cache_tokens=(20, 30)),
    "reasoning": Script(chunks=TEN, reasoning="let me think", reasoning_tokens=3),
    **{f"shape-{flag}": Script(chunks=TEN, shape={flag}) for flag in get_args(ShapeFlag)},
    "every-shape": Script(
        chunks=TEN, reasoning="hm", tool_calls=CALLS, shape=set(get_args(ShapeFlag))
    ),
    "length": Script(chunks=TEN, finish_reason="length"),
    "length-in-a-call": Script(
        tool_calls=[ScriptedToolCall("get_weather", '{"ci', pieces=1)], finish_reason="length"
    ),
    "native-max-output-tokens": Script(chunks=TEN, native_finish_reason="max_output_tokens"),
    "native-other": Script(chunks=TEN, native_finish_reason="other"),
    "native-content-filter": Script(chunks=TEN[:3], native_finish_reason="content_filter"),
    "content-filter": Script(chunks=TEN[:3], finish_reason="content_filter"),
    "content-filter-no-text": Script(chunks=[], finish_reason="content_filter"),
    "tool-calls": Script(tool_calls=CALLS),
    "text-then-calls": Script(chunks=TEN[:2], tool_calls=CALLS),
    "interleaved-calls": Script(tool_calls=CALLS, interleave_tool_calls=True),
    "reasoning-then-call": Script(reasoning="think first", tool_calls=CALLS[:1]),
    "drop-before-text": Script(chunks=TEN, drop_after=0),
    "drop-after-text": Script(chunks=TEN, drop_after=4),
    "drop-in-a-call": Script(tool_calls=CALLS, drop_after=2),
    "drop-in-reasoning": Script(reasoning="one two three", chunks=TEN, drop_after=2),
    "cut-before-text": Script(chunks=TEN, cut_after=0),
    "cut-after-text": Script(chunks=TEN, cut_after=4),
    "cut-in-a-call": Script(tool_calls=CALLS, cut_after=2),
    "malformed-before-text": Script(chunks=TEN, malformed_after=0),
    "malformed-after-text": Script(chunks=TEN, malformed_after=3),
    **{
        f"error-event-{kind}": Script(chunks=TEN, error_event_after=2, error_kind=kind)
        for kind in ("overloaded", "rate_limit", "server", "bad_request")
    },
    "error-event-before-text": Script(chunks=TEN, error_event_after=0),
    "error-event-context-length": Script(
        chunks=TEN, error_event_after=1, error_kind="bad_request", error_message=CONTEXT
    ),
    **{f"status-{status}": Script(status=status) for status in (400, 401, 403, 404, 500, 503)},
    "status-400-context-length": Script(status=400, error_message=CONTEXT),
    "status-429-retry-after": Script(status=429, retry_after=2),
}


async def run(sdk_provider: Any, collect: Any, say_hi: Any, parser: str, **kw: Any) -> Any:
    provider = sdk_provider("openai", api="responses", parser=parser, **kw)
    outcome = await collect(provider, say_hi, MODEL)
    return outcome_of(outcome.events, outcome.error)


@pytest.mark.parametrize("name", list(SCRIPTS))
async def test_each_shape_and_fault_gives_the_same_events_and_error(
    name: str, fake_server, sdk_provider, collect, say_hi
) -> None:
    await assert_script_alike(
        fake_server, SCRIPTS[name], partial(run, sdk_provider, collect, say_hi)
    )
    assert [r.path for r in fake_server.requests] == ["/v1/responses"] * 2


# -- raw forms ---------------------------------------------------------------------------------


def event(kind: str, name: str | None = None, **fields: Any) -> bytes:
    """One event of type ``kind`` (its SSE name: ``name``, else ``kind``)."""
    data = json.dumps({"type": kind, **fields})
    return f"event: {name or kind}\ndata: {data}\n\n".encode()


def data(text: str, name: str | None = None) -> bytes:
    """An event of exactly ``text`` as its data."""
    head = f"event: {name}\n" if name else ""
    return f"{head}data: {text}\n\n".encode()


def text(delta: Any, **fields: Any) -> bytes:
    return event("response.output_text.delta", item_id="m", output_index=0, delta=delta, **fields)


def response(status: str = "completed", **fields: Any) -> dict[str, Any]:
    return {"id": "r", "object": "response", "status": status, "output": [], **fields}


USAGE = {
    "input_tokens": 9,
    "input_tokens_details": {"cached_tokens": 4, "cache_write_tokens": None},
    "output_tokens": 5,
    "output_tokens_details": {"reasoning_tokens": 2},
}
COMPLETED = event("response.completed", response=response(usage=USAGE))
CALL = {"type": "function_call", "id": "fc1", "call_id": "call_1", "name": "f", "arguments": ""}
REFUSAL = {
    "type": "message",
    "content": [{"type": "output_text", "text": "x"}, {"type": "refusal", "refusal": "No."}],
}

RAW_BODIES: dict[str, bytes] = {
    "done-ends-the-stream": text("a") + COMPLETED + data("[DONE]") + event("error", message="x"),
    "done-before-closing": text("a") + data("[DONE]") + COMPLETED,
    "events-after-closing": text("a") + COMPLETED + text("b"),
    "error-after-closing": text("a") + COMPLETED + event("error", code="server_error", message="z"),
    "failed-after-closing": COMPLETED + event("response.failed", response=response("failed")),
    "thread-events": (
        data(json.dumps({"type": "response.output_text.delta", "delta": "t"}), "thread.x")
        + data(json.dumps({"error": {"message": "ignored"}}), "thread.run.failed")
        + text("a")
        + COMPLETED
    ),
    "thread-event-not-json": text("a") + data("{oops", "thread.message.delta") + COMPLETED,
    "not-objects": data("[1]") + data('"x"') + data("null") + data("5") + text("a") + COMPLETED,
    "top-level-error": text("a") + data(json.dumps({"error": {"message": "boom", "code": "x"}})),
    "top-level-error-rate-limit": data(
        json.dumps(
            {"type": "error", "error": {"type": "rate_limit_error", "code": "rate_limit_exceeded"}}
        )
    ),
    "top-level-error-string": text("a") + data(json.dumps({"error": "broken"})),
    "top-level-error-falsy": data(json.dumps({"error": None})) + COMPLETED,
    "error-named-text": data(
        json.dumps({"type": "response.output_text.delta", "delta": "n"}), "error"
    )
    + COMPLETED,
    "comments-and-fields": b": keep-alive\n\nid: 7\n" + text("a") + b"retry: 10\n" + COMPLETED,
    "an-event-without-data": text("a") + b"id: 7\nretry: 10\n\n" + COMPLETED,
    "crlf-lines": (text("a") + COMPLETED).replace(b"\n", b"\r\n"),
    "empty-and-null-deltas": text("")
    + text(None)
    + event("response.output_text.delta")
    + COMPLETED,
    "delta-of-a-number": text("a") + text(5) + COMPLETED,
    "reasoning-parts": (
        event("response.reasoning_summary_text.delta", item_id="r1", summary_index=0, delta="a")
        + event("response.reasoning_summary_text.delta", item_id="r1", summary_index=1, delta="b")
        + event("response.reasoning_summary_text.delta", item_id="r1", content_index=1, delta="c")
        + event("response.reasoning_text.delta", item_id="r1", content_index=1, delta="d")
        + event("response.reasoning_text.delta", item_id="r1", content_index=2, delta="e")
        + event("response.reasoning_text.delta", item_id="r1", summary_index=2, delta="f")
        + event("response.reasoning_text.delta", item_id="r2", delta="g")
        + COMPLETED
    ),
    "call-lifecycle-variants": (
        event("response.output_item.added", output_index=0, item=CALL)
        + event("response.function_call_arguments.delta", item_id="fc1", delta='{"a"')
        + event("response.function_call_arguments.done", item_id="fc1", arguments='{"a":1}')
        + event("response.output_item.done", output_index=0, item={**CALL, "arguments": '{"a":1}'})
        + event(
            "response.output_item.added",
            output_index=1,
            item={"type": "function_call", "name": "g", "arguments": "{"},
        )
        + event("response.function_call_arguments.delta", output_index=1, delta="}")
        + event("response.output_item.done", output_index=2, item={**CALL, "id": "fc3"})
        + event("response.output_item.added", output_index=3, item={"type": "message"})
        + event("response.output_item.added", output_index=4, item=None)
        + COMPLETED
    ),
    "arguments-for-no-call": event(
        "response.function_call_arguments.delta", item_id="nope", delta="{"
    ),
    "arguments-done-for-no-call": event(
        "response.function_call_arguments.done", output_index=3, arguments="{}"
    ),
    "refusal-part-in-output": text("a")
    + event("response.completed", response=response(output=[REFUSAL])),
    "refusal-delta-empty": event("response.refusal.delta", delta="") + COMPLETED,
    "incomplete-content-filter": text("a")
    + event(
        "response.incomplete",
        response=response("incomplete", incomplete_details={"reason": "content_filter"}),
    ),
    "incomplete-without-details": text("a")
    + event("response.incomplete", response=response("incomplete")),
    "completed-but-failed": event(
        "response.completed",
        response=response("failed", error={"code": "rate_limit_exceeded", "message": "slow"}),
    ),
    "completed-null-response": text("a") + event("response.completed", response=None),
    "completed-odd-response": text("a") + event("response.completed", response="x"),
    "completed-without-response": text("a") + event("response.completed"),
    "failed-error-string": event("response.failed", response=response("failed", error="boom")),
    "failed-without-response": event("response.failed"),
    "error-event-bare": event("error"),
    "error-event-context": event("error", code="invalid_request_error", message=CONTEXT),
    "usage-odd-values": text("a")
    + event(
        "response.completed",
        response=response(usage={"input_tokens": None, "output_tokens": 3.0, "x": {}}),
    ),
    "unknown-type": event("response.fake", delta="no")
    + data('{"type": 7}')
    + text("a")
    + COMPLETED,
}


@pytest.mark.parametrize("name", list(RAW_BODIES))
async def test_raw_forms_give_the_same_events_and_error(
    name: str, sdk_provider, collect, say_hi
) -> None:
    async with raw_responses_server(RAW_BODIES[name]) as server:
        sdk, fast = await both_parsers(
            partial(run, sdk_provider, collect, say_hi, base_url=server.base_url)
        )

    assert_alike(sdk, fast)


@pytest.mark.parametrize("body", [text("a"), text("a") + COMPLETED], ids=["open", "closed"])
async def test_a_dropped_connection_fails_alike_before_and_after_the_closing_event(
    body: bytes, sdk_provider, collect, say_hi
) -> None:
    async with raw_responses_server(body, drop=True) as server:
        sdk, fast = await both_parsers(
            partial(run, sdk_provider, collect, say_hi, base_url=server.base_url)
        )

    assert fast == sdk
    assert sdk["error"] is not None and sdk["error"][1].value == "connection"


# -- which code read the stream ------------------------------------------------------------------


@pytest.mark.parametrize("parser", ["sdk", "fast"])
async def test_each_parser_reads_the_stream_itself(
    parser: str, fake_server, sdk_provider, collect, say_hi
) -> None:
    fake_server.enqueue(Script(chunks=TEN))
    provider = sdk_provider("openai", api="responses", parser=parser)

    with functions_run() as seen:
        outcome = await collect(provider, say_hi, MODEL)

    assert outcome.error is None
    assert outcome.texts == TEN
    assert openai_reading_paths(seen) == {parser}
