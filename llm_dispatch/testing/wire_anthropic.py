"""Anthropic messages streaming, as ``anthropic`` parses it."""

from __future__ import annotations

import json
from typing import Any

from .script import FaultKind, RecordedRequest
from .wire import sse

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


def _content(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "".join(p.get("text", "") for p in value if isinstance(p, dict))
    return ""


def _dump(obj: dict[str, Any]) -> str:
    return json.dumps(obj, separators=(",", ":"))


class AnthropicWire:
    name = "anthropic"

    def parse(
        self, path: str, body: dict[str, Any]
    ) -> tuple[str, str | None, list[dict[str, str]], bool]:
        system = body.get("system")
        messages = [
            {"role": m.get("role", "user"), "content": _content(m.get("content"))}
            for m in body.get("messages", [])
        ]
        json_mode = bool(body.get("output_format") or body.get("output_config"))
        return str(body.get("model", "")), (_content(system) or None), messages, json_mode

    def error_body(self, status: int, message: str) -> dict[str, Any]:
        err_type = _STATUS_TYPES.get(
            status, "api_error" if status >= 500 else "invalid_request_error"
        )
        return {"type": "error", "error": {"type": err_type, "message": message}}

    def opening(self, rec: RecordedRequest, prompt_tokens: int) -> list[bytes]:
        message: dict[str, Any] = {
            "id": f"msg_fake{id(rec):x}",
            "type": "message",
            "role": "assistant",
            "content": [],
            "model": rec.model,
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {"input_tokens": prompt_tokens, "output_tokens": 1},
        }
        return [
            sse(_dump({"type": "message_start", "message": message}), "message_start"),
            sse(
                _dump(
                    {
                        "type": "content_block_start",
                        "index": 0,
                        "content_block": {"type": "text", "text": ""},
                    }
                ),
                "content_block_start",
            ),
            sse(_dump({"type": "ping"}), "ping"),
        ]

    def text(self, rec: RecordedRequest, text: str, index: int) -> bytes:
        delta = {
            "type": "content_block_delta",
            "index": 0,
            "delta": {"type": "text_delta", "text": text},
        }
        return sse(_dump(delta), "content_block_delta")

    def closing(
        self,
        rec: RecordedRequest,
        finish_reason: str,
        usage: tuple[int, int] | None,
        last_text: str | None,
    ) -> list[bytes]:
        delta: dict[str, Any] = {
            "type": "message_delta",
            "delta": {
                "stop_reason": _STOP_REASONS.get(finish_reason, finish_reason),
                "stop_sequence": None,
            },
            "usage": {"output_tokens": usage[1] if usage else 0},
        }
        return [
            sse(_dump({"type": "content_block_stop", "index": 0}), "content_block_stop"),
            sse(_dump(delta), "message_delta"),
            sse(_dump({"type": "message_stop"}), "message_stop"),
        ]

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
