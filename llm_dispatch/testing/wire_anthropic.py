"""Anthropic messages streaming, as ``anthropic`` parses it."""

from __future__ import annotations

import json
from typing import Any

from . import parts
from .parts import PartDict
from .script import FaultKind, RecordedRequest
from .wire import ParsedRequest, sse

__all__ = ["AnthropicWire"]

_ERROR_TYPES: dict[FaultKind, str] = {
    "overloaded": "overloaded_error",
    "server": "api_error",
    "rate_limit": "rate_limit_error",
    "bad_request": "invalid_request_error",
}
_STOP_REASONS = {"stop": "end_turn", "length": "max_tokens", "content_filter": "refusal"}
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
    except (KeyError, TypeError, ValueError):
        pass
    return parts.other(block)


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
    """The content block of text chunk ``index``: with ``ping_between_blocks`` the first
    chunk has block 0 to itself and the others are in block 1."""
    return 1 if index >= 1 and "ping_between_blocks" in rec.shape else 0


def _block_start(rec: RecordedRequest, index: int) -> bytes:
    block = _extra(rec, {"type": "text", "text": ""})
    return _event(rec, {"type": "content_block_start", "index": index, "content_block": block})


def _block_stop(rec: RecordedRequest, index: int) -> bytes:
    return _event(rec, {"type": "content_block_stop", "index": index})


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

    def parse(self, path: str, body: dict[str, Any]) -> ParsedRequest:
        contents = [_parts(m.get("content")) for m in body.get("messages", [])]
        return ParsedRequest(
            model=str(body.get("model", "")),
            system=parts.text_of_parts(_parts(body.get("system"))) or None,
            messages=[
                {"role": m.get("role", "user"), "content": parts.text_of_parts(content)}
                for m, content in zip(body.get("messages", []), contents, strict=True)
            ],
            parts=contents,
            json_mode=bool(body.get("output_format") or body.get("output_config")),
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
        events += [
            _event(rec, {"type": "message_start", "message": _extra(rec, message)}),
            _block_start(rec, 0),
            _ping(),
        ]
        if "unknown_events" in shape:
            events.append(_unknown_event(rec))
        return events

    def text(self, rec: RecordedRequest, text: str, index: int) -> bytes:
        shape = rec.shape
        block = _block_of(rec, index)
        head = b""
        if index == 1 and block == 1:
            head = _block_stop(rec, 0) + _ping() + _block_start(rec, 1)
        elif index and "ping_between_deltas" in shape:
            head = _ping()
        if index == 1 and "unknown_events" in shape:
            # A delta type this SDK generation does not know, carrying text that is not
            # part of the answer, then an event type it does not know.
            future = _extra(rec, {"type": "fake_future_delta", "text": "[not answer text]"})
            head += _event(rec, {"type": "content_block_delta", "index": block, "delta": future})
            head += _unknown_event(rec)
        delta = _extra(rec, {"type": "text_delta", "text": text})
        return head + _event(rec, {"type": "content_block_delta", "index": block, "delta": delta})

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
        events = [_block_stop(rec, _block_of(rec, rec.chunks_sent - 1)), _event(rec, message_delta)]
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
