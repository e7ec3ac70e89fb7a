"""Gemini's ``parser: fast`` against ``parser: sdk``: the same request, the same events and
the same errors for every wire shape and fault of the fake server and for raw forms it does
not script; the known differences; and the private google-genai method the fast parser
sends its request through."""

from __future__ import annotations

import json
from functools import partial
from typing import Any, get_args

import pytest
from google_raw import raw_gemini_server, sse_body, text_chunk
from parser_outcomes import assert_alike, assert_script_alike, both_parsers, outcome_of

from llm_dispatch.errors import ErrorKind
from llm_dispatch.providers.google_http import recording_responses
from llm_dispatch.request import Reasoning, Tool
from llm_dispatch.testing import Script
from llm_dispatch.testing.script import ScriptedToolCall, ShapeFlag

pytestmark = pytest.mark.usefixtures("clean_provider_env")

MODEL = "gemini-test"
TEN = [f"w{i} " for i in range(10)]
CALLS = [
    ScriptedToolCall("get_weather", {"city": "Paris", "days": [1, 2]}),
    ScriptedToolCall("get_time", id="call-7"),
]
FLAGS: tuple[ShapeFlag, ...] = get_args(ShapeFlag)

SCRIPTS: dict[str, Script] = {
    "plain": Script(chunks=TEN),
    "usage": Script(chunks=TEN, usage=(7, 10)),
    "no-usage": Script(chunks=TEN, send_usage=False),
    "cached": Script(chunks=TEN, usage=(50, 10), cache_tokens=(0, 30)),
    "reasoning": Script(chunks=TEN, reasoning="let me think", reasoning_tokens=3),
    **{f"shape-{flag}": Script(chunks=TEN, shape={flag}) for flag in FLAGS},
    "every-shape": Script(chunks=TEN, reasoning="hmm", shape=set(FLAGS)),
    "every-shape-calls": Script(chunks=TEN[:2], tool_calls=CALLS, shape=set(FLAGS)),
    "partial-usage-reasoning": Script(chunks=TEN, reasoning="a b", shape={"partial_usage"}),
    "length": Script(chunks=TEN, finish_reason="length"),
    "native-lowercase": Script(chunks=TEN, native_finish_reason="other"),
    "native-prohibited": Script(chunks=TEN[:2], native_finish_reason="PROHIBITED_CONTENT"),
    "native-continuation": Script(chunks=TEN, native_finish_reason="CONTINUATION"),
    "content-filter": Script(chunks=TEN[:3], finish_reason="content_filter"),
    "content-filter-no-text": Script(chunks=[], finish_reason="content_filter"),
    "content-filter-sparse": Script(
        chunks=TEN[:3], finish_reason="content_filter", shape={"sparse"}
    ),
    "tool-calls": Script(tool_calls=CALLS),
    "text-then-calls": Script(chunks=TEN[:2], tool_calls=CALLS),
    "reasoning-then-call": Script(reasoning="think first", tool_calls=CALLS[:1]),
    "calls-then-length": Script(tool_calls=CALLS, finish_reason="length"),
    "drop-before-text": Script(chunks=TEN, drop_after=0),
    "drop-after-text": Script(chunks=TEN, drop_after=4),
    "drop-in-reasoning": Script(chunks=TEN, reasoning="a b c", drop_after=1),
    "drop-in-a-call": Script(tool_calls=CALLS, drop_after=1),
    "cut-before-text": Script(chunks=TEN, cut_after=0),
    "cut-after-text": Script(chunks=TEN, cut_after=4),
    "cut-sparse": Script(chunks=TEN, cut_after=4, shape={"sparse", "unknown_fields"}),
    "malformed-before-text": Script(chunks=TEN, malformed_after=0),
    "malformed-after-text": Script(chunks=TEN, malformed_after=3),
    **{
        f"error-event-{kind}": Script(chunks=TEN, error_event_after=2, error_kind=kind)
        for kind in ("overloaded", "rate_limit", "server", "bad_request")
    },
    "error-event-before-text": Script(chunks=TEN, error_event_after=0),
    **{f"status-{status}": Script(status=status) for status in (400, 401, 403, 404, 500, 503)},
    "status-429-retry-after": Script(status=429, retry_after=2),
    "status-400-api-key": Script(status=400, error_message="API key not valid. Please pass"),
}


async def run(sdk_provider: Any, collect: Any, request: Any, parser: str, **kw: Any) -> Any:
    outcome = await collect(sdk_provider("google", parser=parser, **kw), request, MODEL)
    return outcome_of(outcome.events, outcome.error)


@pytest.mark.parametrize("name", list(SCRIPTS))
async def test_each_shape_and_fault_gives_the_same_events_and_error(
    name: str, fake_server, sdk_provider, collect, say_hi
) -> None:
    await assert_script_alike(
        fake_server, SCRIPTS[name], partial(run, sdk_provider, collect, say_hi)
    )


async def test_both_parsers_send_the_same_request(
    fake_server, sdk_provider, collect, ask, person_schema
) -> None:
    request = ask(
        system="Be brief.",
        temperature=0.2,
        max_tokens=50,
        stop=("END",),
        reasoning=Reasoning(budget_tokens=1024),
        tools=[Tool(name="lookup", description="Look up", parameters=person_schema)],
        response_format={"type": "json_schema", "json_schema": {"schema": person_schema}},
        options={
            "top_k": 3,
            "extra_headers": {"X-Trace-Id": "trace-1"},
            "extra_body": {"labels": {"team": "search"}},
        },
    )
    extra = {"extra_headers": {"X-Tenant": "acme"}, "connect_timeout": 3.0}

    for parser in ("sdk", "fast"):
        outcome = await collect(sdk_provider("google", parser=parser, **extra), request, MODEL)
        assert outcome.error is None

    sdk, fast = fake_server.requests
    assert (fast.path, fast.body) == (sdk.path, sdk.body)
    assert fast.headers == sdk.headers
    assert fast.path.endswith(f"/models/{MODEL}:streamGenerateContent?alt=sse")
    assert fast.headers["X-Trace-Id"] == "trace-1"
    assert fast.headers["X-Tenant"] == "acme"
    assert fast.body["labels"] == {"team": "search"}


# -- raw forms the fake server does not script ------------------------------------------------

SAFETY_RATINGS = [
    {"category": "harm_category_hate_speech", "probability": "HIGH", "blocked": True},
    {"category": "HARM_CATEGORY_HARASSMENT", "probability": "LOW"},
    {"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH", "blocked": True},
]
USAGE = {"promptTokenCount": 4, "candidatesTokenCount": 2, "thoughtsTokenCount": 1}


def parts_chunk(*parts: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    candidate: dict[str, Any] = {"content": {"parts": list(parts), "role": "model"}}
    if finish is not None:
        candidate["finishReason"] = finish
    return {"candidates": [candidate]}


RAW_BODIES: dict[str, bytes] = {
    "blocked-prompt": sse_body(
        {
            "promptFeedback": {"blockReason": "SAFETY", "blockReasonMessage": "not allowed"},
            "usageMetadata": {"promptTokenCount": 3},
        }
    ),
    "blocked-prompt-lowercase": sse_body({"promptFeedback": {"blockReason": "prohibited_content"}}),
    "blocked-prompt-empty-candidates": sse_body(
        {"candidates": [], "promptFeedback": {"blockReason": "OTHER"}}
    ),
    "blocked-after-text": sse_body(
        text_chunk("Hi "), {"promptFeedback": {"blockReason": "BLOCKLIST"}}
    ),
    "feedback-without-block": sse_body(
        {"promptFeedback": {"safetyRatings": SAFETY_RATINGS[1:2]}}, text_chunk("ok", "STOP")
    ),
    "lowercase-finish": sse_body(
        text_chunk("Hi ", usageMetadata=USAGE), text_chunk("there", "stop")
    ),
    "safety-lowercase-categories": sse_body(
        text_chunk("Hi "),
        {"candidates": [{"finishReason": "safety", "safetyRatings": SAFETY_RATINGS}]},
    ),
    "filter-then-more-chunks": sse_body(
        {"candidates": [{"finishReason": "RECITATION", "safetyRatings": SAFETY_RATINGS}]},
        {"usageMetadata": USAGE},
    ),
    "unknown-finish": sse_body(text_chunk("Hi", "SOMETHING_NEW")),
    "continuation-at-the-end": sse_body(text_chunk("Hi ", "CONTINUATION")),
    "continuation-then-stop": sse_body(text_chunk("Hi ", "CONTINUATION"), text_chunk("x", "STOP")),
    "empty-finish": sse_body(text_chunk("Hi ", ""), text_chunk("x", "MAX_TOKENS")),
    "signatures": sse_body(
        parts_chunk({"text": "a", "thought": True, "thoughtSignature": "-_-_"}),
        parts_chunk({"text": "b", "thoughtSignature": "QUI"}, {"text": "c"}),
        parts_chunk({"thoughtSignature": "QQ="}, {"thoughtSignature": ""}),
        parts_chunk(
            {"functionCall": {"name": "f", "args": {"x": 1}}, "thoughtSignature": "QUJD"},
            finish="STOP",
        ),
    ),
    "calls": sse_body(
        parts_chunk(
            {"text": "Calling. "},
            {"functionCall": {"id": "c1", "name": "f", "args": {"n": [1, {"a": None}]}}},
            {"functionCall": {"name": "g", "args": None}},
            {"functionCall": {"name": "h", "id": ""}},
        ),
        {"candidates": [{"content": {"role": "model"}, "finishReason": "STOP"}]},
    ),
    "call-without-name": sse_body(parts_chunk({"functionCall": {"args": {}}})),
    "odd-parts": sse_body(
        {"candidates": [{"content": None}]},
        {"candidates": [{"content": {"role": "model"}}]},
        {"candidates": [{"content": {"parts": None}}]},
        parts_chunk({"text": ""}, {"text": "", "thought": True}, {"inlineData": {"data": "QQ=="}}),
        parts_chunk({"text": "a"}, {"text": "b", "thought": False}, {"text": "c", "thought": True}),
        {"candidates": [text_chunk("x")["candidates"][0], text_chunk("not read")["candidates"][0]]},
        text_chunk("!", "STOP"),
    ),
    "usage-in-pieces": sse_body(
        text_chunk("a", usageMetadata={"promptTokenCount": 5, "candidatesTokenCount": None}),
        text_chunk("b", usageMetadata={}),
        text_chunk(
            "c",
            "STOP",
            usageMetadata={
                "candidatesTokenCount": 3,
                "toolUsePromptTokenCount": 2,
                "cachedContentTokenCount": 1,
                "thoughtsTokenCount": None,
            },
        ),
    ),
    "not-objects": b'data: null\r\n\r\ndata: [1]\r\n\r\ndata: "x"\r\n\r\ndata: []\r\n\r\n'
    + sse_body(text_chunk("ok", "STOP")),
    "joined-data-lines": b'data: {"candidates":\r\ndata: [{"content": {"parts": [{"text": "a"}]},'
    b' "finishReason": "STOP"}]}\r\n\r\n',
    "lf-framing": f"data: {json.dumps(text_chunk('a', 'STOP'))}\n\n".encode(),
    "not-json": sse_body(text_chunk("a")) + b"data: {nope\r\n\r\n",
    "error-after-text": sse_body(
        text_chunk("a"), {"error": {"code": 500, "message": "boom", "status": "INTERNAL"}}
    ),
    "error-with-retry-info": sse_body(
        {
            "error": {
                "code": 429,
                "message": "slow down",
                "status": "RESOURCE_EXHAUSTED",
                "details": [
                    {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "13s"}
                ],
            }
        }
    ),
    "error-api-key": sse_body(
        {"error": {"code": 400, "message": "API key not valid.", "status": "INVALID_ARGUMENT"}}
    ),
    "error-without-code": sse_body({"error": {"message": "boom", "status": "UNAVAILABLE"}}),
    "error-of-a-string": sse_body({"error": "something broke"}),
    "error-not-first": sse_body({**text_chunk("a", "STOP"), "error": {"code": 500}}),
}


@pytest.mark.parametrize("name", list(RAW_BODIES))
@pytest.mark.filterwarnings("ignore:.*is not a valid FinishReason")
async def test_raw_forms_give_the_same_events_and_error(
    name: str, sdk_provider, collect, say_hi
) -> None:
    async with raw_gemini_server(RAW_BODIES[name]) as server:
        sdk, fast = await both_parsers(
            partial(run, sdk_provider, collect, say_hi, base_url=server.base_url)
        )

    assert_alike(sdk, fast)


# -- the known differences ----------------------------------------------------------------------

FINISHED = text_chunk("a", "STOP")
#: Bodies that are not the SSE Gemini sends, which google-genai reads line by line in its
#: own way and the fast parser by the SSE rules; fields in snake case, which the SDK's
#: models also accept; values of the wrong kind, which the SDK's models refuse (with
#: pydantic's message) or coerce: (body, the error kind under the SDK, under the fast parser).
DIFFERENCES: dict[str, tuple[bytes, ErrorKind | None, ErrorKind | None]] = {
    "a comment line": (b": keep-alive\r\n\r\n" + sse_body(FINISHED), ErrorKind.MALFORMED, None),
    "a named event": (b"event: chunk\r\n" + sse_body(FINISHED), ErrorKind.MALFORMED, None),
    "data without a space": (
        b"data:" + json.dumps(FINISHED).encode() + b"\r\n\r\n",
        ErrorKind.MALFORMED,
        None,
    ),
    "no blank line at the end": (
        b"data: " + json.dumps(FINISHED).encode(),
        None,
        ErrorKind.INCOMPLETE,
    ),
    "raw JSON lines": (
        sse_body(text_chunk("a")) + b'{\n"candidates": [{"finishReason": "STOP"}]\n}\n',
        None,
        ErrorKind.INCOMPLETE,
    ),
    "a signature that is not base64": (
        sse_body(parts_chunk({"text": "a", "thoughtSignature": "ab=="})),
        ErrorKind.MALFORMED,
        ErrorKind.MALFORMED,
    ),
    "a candidate that is null": (
        sse_body({"candidates": [None]}),
        ErrorKind.INCOMPLETE,
        ErrorKind.MALFORMED,
    ),
    "a text that is not a string": (
        sse_body(parts_chunk({"text": 5}, finish="STOP")),
        ErrorKind.MALFORMED,
        ErrorKind.MALFORMED,
    ),
    "call arguments that are not an object": (
        sse_body(parts_chunk({"functionCall": {"name": "f", "args": [1]}}, finish="STOP")),
        ErrorKind.MALFORMED,
        ErrorKind.MALFORMED,
    ),
    "a count sent as a string": (
        sse_body(text_chunk("a", "STOP", usageMetadata={"promptTokenCount": "5"})),
        None,
        None,
    ),
    "a snake case function call": (
        sse_body(parts_chunk({"function_call": {"name": "f"}}, finish="STOP")),
        None,
        None,
    ),
}


@pytest.mark.parametrize("name", list(DIFFERENCES))
async def test_the_known_differences(name: str, sdk_provider, collect, say_hi) -> None:
    body, under_sdk, under_fast = DIFFERENCES[name]
    async with raw_gemini_server(body) as server:
        sdk, fast = await both_parsers(
            partial(run, sdk_provider, collect, say_hi, base_url=server.base_url)
        )

    assert (sdk["error"] or (None, None))[1] == under_sdk
    assert (fast["error"] or (None, None))[1] == under_fast
    if under_sdk is not None and under_fast is not None:
        assert fast["error"][2] != sdk["error"][2], "the messages differ"
    if name == "a count sent as a string":
        assert sdk["events"][-1].usage.prompt_tokens == 5
        assert fast["events"][-1].usage is None
    if name == "a snake case function call":
        assert [e.tool_call.name for e in sdk["events"] if e.tool_call] == ["f"]
        assert not any(e.tool_call for e in fast["events"])


# -- the private SDK method ------------------------------------------------------------------


async def test_the_sdk_step_sends_the_request_and_leaves_the_body_unread(
    fake_server, sdk_provider
) -> None:
    """``parser: fast`` sends its request through google-genai's private
    ``AsyncModels._generate_content_stream``: awaiting it must send the request, check the
    status and return a generator that has not read the body. If this fails, a new SDK
    changed that method: ``parser: fast`` no longer works with it (``sdk`` still does)."""
    from google.genai import errors, types

    provider = sdk_provider("google", parser="fast")
    await provider.prepare()
    send = provider._client.aio.models._generate_content_stream
    config = types.GenerateContentConfig(automatic_continuation=False)
    fake_server.enqueue(Script(chunks=["one ", "two"]))
    opened: list[Any] = []

    with recording_responses(opened):
        unread = await send(model=MODEL, contents="hi", config=config)

    assert len(fake_server.requests) == 1, "awaiting it sends the request"
    assert [r.status for r in opened] == [200], "on the provider's own session"
    body = await opened[0].content.read()
    assert body.startswith(b"data: "), "and returns before reading a byte of the body"
    assert b'"one "' in body and b'"STOP"' in body
    await unread.aclose()
    opened[0].close()

    fake_server.enqueue(Script(status=429, error_message="slow down"))
    with recording_responses(opened), pytest.raises(errors.ClientError) as info:
        await send(model=MODEL, contents="hi", config=config)
    assert (info.value.code, info.value.message) == (429, "slow down")
    opened[-1].close()
