"""OpenAI Responses API streaming (``POST /v1/responses``), as ``openai`` parses it.

Every event is an SSE event named by its ``type``, with a ``sequence_number`` counting from
0: ``response.created``, ``response.in_progress``, then the output items, each opened by
``response.output_item.added`` and closed by ``response.output_item.done``:

- reasoning: a ``reasoning`` item whose summary part streams as
  ``response.reasoning_summary_text.delta`` s;
- text: a ``message`` item whose ``output_text`` part streams as
  ``response.output_text.delta`` s (a refusal, ``finish_reason="content_filter"``, is a
  ``refusal`` part streamed as ``response.refusal.delta``);
- each tool call: a ``function_call`` item whose arguments stream as
  ``response.function_call_arguments.delta`` s, then ``.done``.

The answer ends with ``response.completed`` (the whole response: output, usage), or
``response.incomplete`` with ``incomplete_details.reason`` ``max_output_tokens`` for
``finish_reason="length"`` (a native finish reason is sent as that reason). The in-stream
error is ``response.failed`` (a ``server_error`` / ``rate_limit_exceeded`` error while
generating) or, for a bad request, an ``error`` event. Shape flags: ``unknown_events`` (an
event type no SDK knows, after ``response.in_progress``) and ``unknown_fields`` (a field no
SDK knows on every event and item); the others mean nothing here.
"""

from __future__ import annotations

import json
import time
import weakref
from dataclasses import dataclass, field
from typing import Any

from .script import FaultKind, RecordedRequest, ScriptedToolCall, Step
from .wire import ParsedRequest, sse
from .wire_openai import OpenAIWire
from .wire_openai_responses_input import parse_request

__all__ = ["OpenAIResponsesWire"]

# How each in-stream fault is sent: (event type, error code, error type).
_ERRORS: dict[FaultKind, tuple[str, str, str | None]] = {
    "overloaded": ("response.failed", "server_error", "overloaded_error"),
    "server": ("response.failed", "server_error", "server_error"),
    "rate_limit": ("response.failed", "rate_limit_exceeded", "rate_limit_error"),
    "bad_request": ("error", "invalid_request_error", None),
}


@dataclass
class _State:
    """One answer in progress: the next sequence number, the output items so far, the open
    reasoning or message item, and each tool call's item."""

    response_id: str
    created_at: int
    sequence: int = 0
    output: list[dict[str, Any]] = field(default_factory=list)
    open: dict[str, Any] | None = None
    calls: dict[int, dict[str, Any]] = field(default_factory=dict)


class OpenAIResponsesWire:
    name = "openai"

    def __init__(self) -> None:
        self._states: weakref.WeakKeyDictionary[RecordedRequest, _State] = (
            weakref.WeakKeyDictionary()
        )

    def parse(self, path: str, body: dict[str, Any]) -> ParsedRequest:
        return parse_request(body)

    def error_body(self, status: int, message: str) -> dict[str, Any]:
        return OpenAIWire().error_body(status, message)

    # -- events ------------------------------------------------------------------------------

    def _state(self, rec: RecordedRequest) -> _State:
        state = self._states.get(rec)
        if state is None:
            state = _State(response_id=f"resp_fake{id(rec):x}", created_at=int(time.time()))
            self._states[rec] = state
        return state

    def _event(self, rec: RecordedRequest, kind: str, **fields: Any) -> bytes:
        state = self._state(rec)
        payload = _extra(rec, {"type": kind, "sequence_number": state.sequence, **fields})
        state.sequence += 1
        return sse(json.dumps(payload, separators=(",", ":")), kind)

    def _response(self, rec: RecordedRequest, status: str, **fields: Any) -> dict[str, Any]:
        """The response object the lifecycle events carry."""
        state, body = self._state(rec), rec.body
        response: dict[str, Any] = {
            "id": state.response_id,
            "object": "response",
            "created_at": state.created_at,
            "status": status,
            "error": None,
            "incomplete_details": None,
            "instructions": body.get("instructions"),
            "max_output_tokens": body.get("max_output_tokens"),
            "model": rec.model,
            "output": list(state.output) if status != "in_progress" else [],
            "parallel_tool_calls": True,
            "reasoning": body.get("reasoning") or {"effort": None, "summary": None},
            "temperature": body.get("temperature", 1.0),
            "text": body.get("text") or {"format": {"type": "text"}},
            "tool_choice": body.get("tool_choice", "auto"),
            "tools": body.get("tools", []),
            "top_p": body.get("top_p", 1.0),
            "usage": None,
            **fields,
        }
        return _extra(rec, response)

    def opening(self, rec: RecordedRequest, prompt_tokens: int) -> list[bytes]:
        events = [
            self._event(rec, "response.created", response=self._response(rec, "in_progress")),
            self._event(rec, "response.in_progress", response=self._response(rec, "in_progress")),
        ]
        if "unknown_events" in rec.shape:
            events.append(self._event(rec, "response.fake_future_event", detail={"p": 0.5}))
        return events

    def _add(self, rec: RecordedRequest, item: dict[str, Any]) -> tuple[bytes, int]:
        """Open output item ``item``: its ``output_item.added`` event, and its index."""
        state = self._state(rec)
        index = len(state.output)
        state.output.append(item)
        added = self._event(
            rec, "response.output_item.added", output_index=index, item=_extra(rec, dict(item))
        )
        return added, index

    def _done(self, rec: RecordedRequest, item: dict[str, Any], status: str = "completed") -> bytes:
        if "status" in item:
            item["status"] = status
        index = self._state(rec).output.index(item)
        return self._event(
            rec, "response.output_item.done", output_index=index, item=_extra(rec, dict(item))
        )

    def _open(
        self, rec: RecordedRequest, kind: str, *, with_part: bool = True
    ) -> tuple[bytes, dict[str, Any], int]:
        """The open item of ``kind`` (``reasoning`` or ``message``), opening it (and closing
        the other) when needed: the events that took, the item and its output index. A new
        item gets its first (summary or text) part unless ``with_part`` is false."""
        state = self._state(rec)
        head = b""
        if state.open is not None and state.open["type"] != kind:
            head = self._close_open(rec)
        if state.open is None:
            number = len(state.output)
            if kind == "reasoning":
                item: dict[str, Any] = {"id": f"rs_fake{number}", "type": kind, "summary": []}
            else:
                item = {
                    "id": f"msg_fake{number}",
                    "type": kind,
                    "status": "in_progress",
                    "role": "assistant",
                    "content": [],
                }
            added, _ = self._add(rec, item)
            head += added + (self._part_added(rec, item) if with_part else b"")
            state.open = item
        item = state.open
        return head, item, state.output.index(item)

    def _part_added(self, rec: RecordedRequest, item: dict[str, Any]) -> bytes:
        index = self._state(rec).output.index(item)
        if item["type"] == "reasoning":
            item["summary"].append({"type": "summary_text", "text": ""})
            return self._event(
                rec,
                "response.reasoning_summary_part.added",
                item_id=item["id"],
                output_index=index,
                summary_index=0,
                part={"type": "summary_text", "text": ""},
            )
        part = {"type": "output_text", "text": "", "annotations": [], "logprobs": []}
        item["content"].append(part)
        return self._event(
            rec,
            "response.content_part.added",
            item_id=item["id"],
            output_index=index,
            content_index=0,
            part=dict(part),
        )

    def _close_open(self, rec: RecordedRequest, status: str = "completed") -> bytes:
        """The events that close the open reasoning or message item (a message with
        ``status``)."""
        state = self._state(rec)
        item, state.open = state.open, None
        if item is None:
            return b""
        index = state.output.index(item)
        ids = {"item_id": item["id"], "output_index": index}
        if item["type"] == "reasoning":
            part = item["summary"][0]
            return (
                self._event(
                    rec,
                    "response.reasoning_summary_text.done",
                    **ids,
                    summary_index=0,
                    text=part["text"],
                )
                + self._event(
                    rec, "response.reasoning_summary_part.done", **ids, summary_index=0, part=part
                )
                + self._done(rec, item)
            )
        out = b""
        for number, part in enumerate(item["content"]):
            if part["type"] == "output_text":
                out += self._event(
                    rec,
                    "response.output_text.done",
                    **ids,
                    content_index=number,
                    text=part["text"],
                    logprobs=[],
                )
            out += self._event(
                rec, "response.content_part.done", **ids, content_index=number, part=part
            )
        return out + self._done(rec, item, status)

    def reasoning(self, rec: RecordedRequest, text: str, index: int) -> bytes:
        head, item, output_index = self._open(rec, "reasoning")
        item["summary"][0]["text"] += text
        return head + self._event(
            rec,
            "response.reasoning_summary_text.delta",
            item_id=item["id"],
            output_index=output_index,
            summary_index=0,
            delta=text,
        )

    def text(self, rec: RecordedRequest, text: str, index: int) -> bytes:
        head, item, output_index = self._open(rec, "message")
        item["content"][0]["text"] += text
        return head + self._event(
            rec,
            "response.output_text.delta",
            item_id=item["id"],
            output_index=output_index,
            content_index=0,
            delta=text,
            logprobs=[],
        )

    def tool_call(self, rec: RecordedRequest, call: ScriptedToolCall, step: Step) -> list[bytes]:
        state = self._state(rec)
        events = [self._close_open(rec)] if state.open is not None else []
        if step.first:
            item = {
                "id": f"fc_fake{step.call}",
                "type": "function_call",
                "status": "in_progress",
                "arguments": "",
                "call_id": call.id or f"call_fake{step.call}",
                "name": call.name,
            }
            added, _ = self._add(rec, item)
            events.append(added)
            state.calls[step.call] = item
        item = state.calls[step.call]
        ids = {"item_id": item["id"], "output_index": state.output.index(item)}
        if step.text:
            item["arguments"] += step.text
            events.append(
                self._event(rec, "response.function_call_arguments.delta", **ids, delta=step.text)
            )
        if step.last:
            events.append(
                self._event(
                    rec, "response.function_call_arguments.done", **ids, arguments=item["arguments"]
                )
            )
            events.append(self._done(rec, item))
        return events

    def closing(
        self,
        rec: RecordedRequest,
        finish_reason: str,
        usage: tuple[int, int] | None,
        last_text: str | None,
    ) -> list[bytes]:
        events = []
        if finish_reason == "content_filter":
            events.append(self._refusal(rec))
        complete = finish_reason in ("stop", "tool_calls", "content_filter")
        events.append(self._close_open(rec, "completed" if complete else "incomplete"))
        report = _usage(rec, usage) if usage is not None else None
        if complete:
            done = self._response(rec, "completed", usage=report)
            events.append(self._event(rec, "response.completed", response=done))
            return events
        reason = "max_output_tokens" if finish_reason == "length" else finish_reason
        cut = self._response(rec, "incomplete", usage=report, incomplete_details={"reason": reason})
        events.append(self._event(rec, "response.incomplete", response=cut))
        return events

    def _refusal(self, rec: RecordedRequest) -> bytes:
        """A refusal part in the (open, else a new) message item: the script's message."""
        head, item, output_index = self._open(rec, "message", with_part=False)
        message = rec.script.error_message if rec.script is not None else "refused"
        ids = {"item_id": item["id"], "output_index": output_index}
        ids["content_index"] = len(item["content"])
        item["content"].append({"type": "refusal", "refusal": message})
        return (
            head
            + self._event(
                rec, "response.content_part.added", **ids, part={"type": "refusal", "refusal": ""}
            )
            + self._event(rec, "response.refusal.delta", **ids, delta=message)
            + self._event(rec, "response.refusal.done", **ids, refusal=message)
        )

    def error_event(self, rec: RecordedRequest, kind: FaultKind, message: str) -> bytes:
        event, code, error_type = _ERRORS[kind]
        if event == "error":
            return self._event(rec, "error", code=code, message=message, param=None)
        error = {"code": code, "message": message, "type": error_type}
        failed = self._response(rec, "failed", error=error)
        return self._event(rec, "response.failed", response=failed)

    def malformed(self) -> bytes:
        return (
            b"event: response.output_text.delta\n"
            b'data: {"type": "response.output_text.delta", "delta": \n\n'
        )


def _extra(rec: RecordedRequest, obj: dict[str, Any]) -> dict[str, Any]:
    """``obj``, plus a field no SDK knows when the shape asks for unknown fields."""
    if "unknown_fields" in rec.shape:
        return {**obj, "fake_future_field": {"nested": [1, 2]}}
    return obj


def _usage(rec: RecordedRequest, usage: tuple[int, int]) -> dict[str, Any]:
    prompt, completion = usage
    script = rec.script
    written, read = script.cache_tokens if script is not None else (0, 0)
    return {
        "input_tokens": prompt,
        "input_tokens_details": {"cached_tokens": read, "cache_write_tokens": written},
        "output_tokens": completion,
        "output_tokens_details": {
            "reasoning_tokens": script.reasoning_token_count if script is not None else 0
        },
        "total_tokens": prompt + completion,
    }
