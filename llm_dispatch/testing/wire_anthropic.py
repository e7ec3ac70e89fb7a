"""Anthropic messages streaming, as ``anthropic`` parses it.

An answer is a sequence of content blocks, each opened by ``content_block_start`` and
closed by ``content_block_stop``: a ``thinking`` block (the script's reasoning as
``thinking_delta`` s, then a ``signature_delta``), the text in a ``text`` block (two with
``ping_between_blocks``), then one ``tool_use`` block per tool call, its arguments as
``input_json_delta`` s. A block index counts every block, so a tool call's block index is
not its index among the calls.

Parsing records tools, ``tool_choice`` and ``thinking`` as sent; ``tool_use`` blocks of
assistant turns as tool-call parts and ``tool_result`` blocks as tool-result parts (a user
message that holds only tool results has role ``tool``); ``thinking`` and
``redacted_thinking`` blocks as ``other`` parts with the block as sent.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from typing import Any
from weakref import WeakKeyDictionary

from . import parts
from .parts import PartDict
from .script import FaultKind, RecordedRequest, ScriptedToolCall, Step, split_words
from .wire import ParsedRequest, sse

__all__ = ["AnthropicWire", "thinking_signature"]

_ERROR_TYPES: dict[FaultKind, str] = {
    "overloaded": "overloaded_error",
    "server": "api_error",
    "rate_limit": "rate_limit_error",
    "bad_request": "invalid_request_error",
}
_STOP_REASONS = {
    "stop": "end_turn",
    "length": "max_tokens",
    "content_filter": "refusal",
    "tool_calls": "tool_use",
}
_STATUS_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}


def thinking_signature(reasoning: str) -> str:
    """The signature the fake server gives a thinking block of ``reasoning``."""
    return base64.b64encode(hashlib.sha256(reasoning.encode()).digest()).decode("ascii")


# -- parsing requests ------------------------------------------------------------------------


def _parts(value: Any) -> list[PartDict]:
    """A message's content (a string, or a list of content blocks) as normalised parts."""
    if isinstance(value, str):
        return [parts.text(value)]
    if not isinstance(value, list):
        return []
    return [_part(block) for block in value]


def _part(block: Any) -> PartDict:
    kind = block.get("type") if isinstance(block, dict) else None
    try:
        if kind == "text":
            return parts.text(block.get("text", ""))
        if kind in ("image", "document"):
            source = block["source"]
            if source["type"] == "base64":
                data = parts.decode_base64(source["data"])
                return parts.media(kind, source.get("media_type"), data=data)
            if source["type"] == "url":
                return parts.media(kind, None, url=source["url"])
        if kind == "tool_use":
            return parts.tool_call(block.get("id"), block.get("name"), block.get("input"))
        if kind == "tool_result":
            return parts.tool_result(
                block.get("tool_use_id"),
                None,
                _result_text(block.get("content")),
                is_error=block.get("is_error"),
            )
    except (KeyError, TypeError, ValueError):
        pass
    return parts.other(block)


def _result_text(content: Any) -> str | None:
    """A tool result's content as text: the string, or its text blocks joined."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return parts.text_of_parts(_parts(content))
    return None


def _role(message: dict[str, Any]) -> str:
    """``tool`` for a user message of tool results only, else the message's role."""
    role = str(message.get("role", "user"))
    content = message.get("content")
    if role != "user" or not isinstance(content, list) or not content:
        return role
    results_only = all(isinstance(b, dict) and b.get("type") == "tool_result" for b in content)
    return "tool" if results_only else role


def _tools(value: Any) -> list[dict[str, Any]]:
    """The tools offered, each as ``{"name", "description", "parameters"}``."""
    if not isinstance(value, list):
        return []
    return [
        {
            "name": tool.get("name"),
            "description": tool.get("description", ""),
            "parameters": tool.get("input_schema"),
        }
        for tool in value
        if isinstance(tool, dict)
    ]


# -- encoding answers ------------------------------------------------------------------------


def _dump(obj: dict[str, Any]) -> str:
    return json.dumps(obj, separators=(",", ":"))


def _extra(rec: RecordedRequest, obj: dict[str, Any]) -> dict[str, Any]:
    """``obj``, plus a field no SDK knows when the shape asks for unknown fields."""
    if "unknown_fields" in rec.shape:
        return {**obj, "fake_future_field": {"nested": {"values": [1, 2]}}}
    return obj


def _event(rec: RecordedRequest, payload: dict[str, Any]) -> bytes:
    """An SSE event named after its payload's type, as the API frames every event."""
    return sse(_dump(_extra(rec, payload)), payload["type"])


def _ping() -> bytes:
    return sse(_dump({"type": "ping"}), "ping")


def _unknown_event(rec: RecordedRequest) -> bytes:
    return _event(rec, {"type": "fake_future_event", "detail": {"progress": 0.5}})


def _block_of(rec: RecordedRequest, index: int) -> int:
    """The text block (0 or 1) of text chunk ``index``: with ``ping_between_blocks`` the
    first chunk has block 0 to itself and the others are in block 1."""
    return 1 if index >= 1 and "ping_between_blocks" in rec.shape else 0


def _block_start(rec: RecordedRequest, index: int, block: dict[str, Any] | None = None) -> bytes:
    content = _extra(rec, block if block is not None else {"type": "text", "text": ""})
    return _event(rec, {"type": "content_block_start", "index": index, "content_block": content})


def _block_delta(rec: RecordedRequest, index: int, delta: dict[str, Any]) -> bytes:
    payload = {"type": "content_block_delta", "index": index, "delta": _extra(rec, delta)}
    return _event(rec, payload)


def _block_stop(rec: RecordedRequest, index: int) -> bytes:
    return _event(rec, {"type": "content_block_stop", "index": index})


@dataclass(frozen=True)
class _Layout:
    """The content blocks of one answer: a thinking block first when there is reasoning,
    then the text blocks, then a block per tool call."""

    reasoning_chunks: int
    text_blocks: int
    tool_calls: int

    @property
    def text_base(self) -> int:
        """The index of the first text block."""
        return 1 if self.reasoning_chunks else 0

    def text_block(self, rec: RecordedRequest, index: int) -> int:
        return self.text_base + _block_of(rec, index)

    @property
    def last_text_block(self) -> int:
        return self.text_base + self.text_blocks - 1

    def tool_block(self, call: int) -> int:
        return self.text_base + self.text_blocks + call


def _layout_of(rec: RecordedRequest) -> _Layout:
    script = rec.script
    if script is None:
        return _Layout(0, 1, 0)
    reasoning = len(split_words(script.reasoning or ""))
    texts = len(script.text_chunks(rec))
    if texts:
        text_blocks = 2 if texts >= 2 and "ping_between_blocks" in rec.shape else 1
    else:
        # An answer with nothing at all still has its (empty) text block.
        text_blocks = 0 if reasoning or script.tool_calls else 1
    return _Layout(reasoning, text_blocks, len(script.tool_calls))


def _cache_tokens(rec: RecordedRequest) -> tuple[int, int]:
    return rec.script.cache_tokens if rec.script is not None else (0, 0)


def _input_tokens(rec: RecordedRequest) -> int:
    """Input tokens outside the prompt cache: the prompt less its cached part."""
    written, read = _cache_tokens(rec)
    return max(0, rec.prompt_tokens - written - read)


def _prompt_counts(rec: RecordedRequest) -> dict[str, Any]:
    """The prompt's counts: input tokens, and the cache counts when the script has them."""
    counts: dict[str, Any] = {"input_tokens": _input_tokens(rec)}
    written, read = _cache_tokens(rec)
    if written or read:
        counts["cache_creation_input_tokens"] = written
        counts["cache_read_input_tokens"] = read
    return counts


class AnthropicWire:
    name = "anthropic"

    def __init__(self) -> None:
        self._layouts: WeakKeyDictionary[RecordedRequest, _Layout] = WeakKeyDictionary()

    def _layout(self, rec: RecordedRequest) -> _Layout:
        layout = self._layouts.get(rec)
        if layout is None:
            layout = self._layouts[rec] = _layout_of(rec)
        return layout

    def parse(self, path: str, body: dict[str, Any]) -> ParsedRequest:
        messages = body.get("messages", [])
        contents = [_parts(m.get("content")) for m in messages]
        return ParsedRequest(
            model=str(body.get("model", "")),
            system=parts.text_of_parts(_parts(body.get("system"))) or None,
            messages=[
                {"role": _role(m), "content": parts.text_of_parts(content)}
                for m, content in zip(messages, contents, strict=True)
            ],
            parts=contents,
            json_mode=bool(body.get("output_format") or body.get("output_config")),
            tools=_tools(body.get("tools")),
            tool_choice=body.get("tool_choice"),
            reasoning=body.get("thinking"),
        )

    def error_body(self, status: int, message: str) -> dict[str, Any]:
        err_type = _STATUS_TYPES.get(
            status, "api_error" if status >= 500 else "invalid_request_error"
        )
        return {"type": "error", "error": {"type": err_type, "message": message}}

    def opening(self, rec: RecordedRequest, prompt_tokens: int) -> list[bytes]:
        shape = rec.shape
        message: dict[str, Any] = {
            "id": f"msg_fake{id(rec):x}",
            "type": "message",
            "role": "assistant",
            "content": [],
            "model": rec.model,
        }
        if "sparse" not in shape:
            message.update(stop_reason=None, stop_sequence=None)
        if "no_start_usage" not in shape:
            if "partial_usage" in shape:
                usage: dict[str, Any] = {"input_tokens": _input_tokens(rec)}
            else:
                usage = {**_prompt_counts(rec), "output_tokens": 1}
            message["usage"] = _extra(rec, usage)
        events = [_ping()] if "ping_before_start" in shape else []
        events.append(_event(rec, {"type": "message_start", "message": _extra(rec, message)}))
        layout = self._layout(rec)
        if layout.reasoning_chunks:
            thinking = {"type": "thinking", "thinking": "", "signature": ""}
            events += [_block_start(rec, 0, thinking), _ping()]
        elif layout.text_blocks:
            events += [_block_start(rec, 0), _ping()]
        # Otherwise the first block is a tool call's, which opens it (and pings) itself.
        if "unknown_events" in shape:
            events.append(_unknown_event(rec))
        return events

    def reasoning(self, rec: RecordedRequest, text: str, index: int) -> bytes:
        head = _ping() if index and "ping_between_deltas" in rec.shape else b""
        events = head + _block_delta(rec, 0, {"type": "thinking_delta", "thinking": text})
        if index == self._layout(rec).reasoning_chunks - 1:
            reasoning = rec.script.reasoning if rec.script is not None else ""
            signature = {
                "type": "signature_delta",
                "signature": thinking_signature(reasoning or ""),
            }
            events += _block_delta(rec, 0, signature) + _block_stop(rec, 0)
        return events

    def text(self, rec: RecordedRequest, text: str, index: int) -> bytes:
        shape = rec.shape
        layout = self._layout(rec)
        block = layout.text_block(rec, index)
        head = b""
        if index == 0 and layout.reasoning_chunks:
            head = _block_start(rec, block)
        elif index == 1 and _block_of(rec, index) == 1:
            head = _block_stop(rec, block - 1) + _ping() + _block_start(rec, block)
        elif index and "ping_between_deltas" in shape:
            head = _ping()
        if index == 1 and "unknown_events" in shape:
            # A delta type this SDK generation does not know, carrying text that is not
            # part of the answer, then an event type it does not know.
            future = {"type": "fake_future_delta", "text": "[not answer text]"}
            head += _block_delta(rec, block, future) + _unknown_event(rec)
        return head + _block_delta(rec, block, {"type": "text_delta", "text": text})

    def tool_call(self, rec: RecordedRequest, call: ScriptedToolCall, step: Step) -> list[bytes]:
        layout = self._layout(rec)
        block = layout.tool_block(step.call)
        events: list[bytes] = []
        if step.first:
            if step.call == 0 and layout.text_blocks:
                events.append(_block_stop(rec, layout.last_text_block))
            call_id = call.id or f"toolu_fake{step.call}"
            start = {"type": "tool_use", "id": call_id, "name": call.name, "input": {}}
            events.append(_block_start(rec, block, start))
            if block == 0:
                events.append(_ping())
        delta = {"type": "input_json_delta", "partial_json": step.text}
        events.append(_block_delta(rec, block, delta))
        if step.last:
            events.append(_block_stop(rec, block))
        return events

    def closing(
        self,
        rec: RecordedRequest,
        finish_reason: str,
        usage: tuple[int, int] | None,
        last_text: str | None,
    ) -> list[bytes]:
        shape = rec.shape
        stop_reason = _STOP_REASONS.get(finish_reason, finish_reason)
        delta: dict[str, Any] = {"stop_reason": stop_reason}
        if "sparse" not in shape:
            delta["stop_sequence"] = None
        if stop_reason == "refusal":
            delta["stop_details"] = {
                "type": "refusal",
                "category": "general_harms",
                "explanation": rec.script.error_message if rec.script is not None else None,
            }
        message_delta: dict[str, Any] = {"type": "message_delta", "delta": _extra(rec, delta)}
        if "no_delta_usage" not in shape:
            counts = _prompt_counts(rec) if "usage_in_delta" in shape else {}
            counts["output_tokens"] = usage[1] if usage else 0
            message_delta["usage"] = _extra(rec, counts)
        layout = self._layout(rec)
        events = []
        # The thinking block and tool-call blocks are closed as they end; a text block is
        # still open unless a tool call came after it.
        if layout.text_blocks and not layout.tool_calls:
            events.append(_block_stop(rec, layout.last_text_block))
        events.append(_event(rec, message_delta))
        if "unknown_events" in shape:
            events.append(_unknown_event(rec))
        events.append(_event(rec, {"type": "message_stop"}))
        return events

    def error_event(self, rec: RecordedRequest, kind: FaultKind, message: str) -> bytes:
        return sse(
            _dump({"type": "error", "error": {"type": _ERROR_TYPES[kind], "message": message}}),
            "error",
        )

    def malformed(self) -> bytes:
        return (
            b"event: content_block_delta\n"
            b'data: {"type": "content_block_delta", "index": 0, "delta": \n\n'
        )
