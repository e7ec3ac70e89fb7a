"""OpenAI chat-completions streaming, as ``openai`` parses it (also vLLM, Ollama, xAI)."""

from __future__ import annotations

import json
import time
from typing import Any

from .script import FaultKind, RecordedRequest
from .wire import sse

__all__ = ["OpenAIWire"]

_ERROR_TYPES: dict[FaultKind, tuple[str, str]] = {
    "overloaded": ("server_error", "overloaded"),
    "server": ("server_error", "internal_error"),
    "rate_limit": ("rate_limit_exceeded", "rate_limit_exceeded"),
    "bad_request": ("invalid_request_error", "invalid_request"),
}


def _content(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "".join(p.get("text", "") for p in value if isinstance(p, dict))
    return ""


class OpenAIWire:
    name = "openai"

    def parse(
        self, path: str, body: dict[str, Any]
    ) -> tuple[str, str | None, list[dict[str, str]], bool]:
        system_parts: list[str] = []
        messages: list[dict[str, str]] = []
        for m in body.get("messages", []):
            if m.get("role") in ("system", "developer"):
                system_parts.append(_content(m.get("content")))
            else:
                messages.append(
                    {"role": m.get("role", "user"), "content": _content(m.get("content"))}
                )
        fmt = body.get("response_format") or {}
        json_mode = fmt.get("type") in ("json_object", "json_schema")
        return str(body.get("model", "")), ("\n\n".join(system_parts) or None), messages, json_mode

    def error_body(self, status: int, message: str) -> dict[str, Any]:
        kind = {429: "rate_limit_exceeded", 401: "invalid_api_key", 404: "model_not_found"}
        return {
            "error": {
                "message": message,
                "type": "invalid_request_error" if status < 500 else "server_error",
                "param": None,
                "code": kind.get(status),
            }
        }

    def _chunk(self, rec: RecordedRequest, delta: dict[str, Any], finish: str | None) -> bytes:
        payload = {
            "id": f"chatcmpl-fake{id(rec):x}",
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": rec.model,
            "system_fingerprint": "fp_fake",
            "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
        }
        if rec.body.get("stream_options", {}).get("include_usage"):
            payload["usage"] = None
        return sse(json.dumps(payload, separators=(",", ":")))

    def opening(self, rec: RecordedRequest, prompt_tokens: int) -> list[bytes]:
        return [self._chunk(rec, {"role": "assistant", "content": "", "refusal": None}, None)]

    def text(self, rec: RecordedRequest, text: str, index: int) -> bytes:
        return self._chunk(rec, {"content": text}, None)

    def closing(
        self,
        rec: RecordedRequest,
        finish_reason: str,
        usage: tuple[int, int] | None,
        last_text: str | None,
    ) -> list[bytes]:
        out = [self._chunk(rec, {}, finish_reason)]
        if usage is not None and rec.body.get("stream_options", {}).get("include_usage"):
            prompt, completion = usage
            payload = {
                "id": f"chatcmpl-fake{id(rec):x}",
                "object": "chat.completion.chunk",
                "created": int(time.time()),
                "model": rec.model,
                "choices": [],
                "usage": {
                    "prompt_tokens": prompt,
                    "completion_tokens": completion,
                    "total_tokens": prompt + completion,
                },
            }
            out.append(sse(json.dumps(payload, separators=(",", ":"))))
        out.append(b"data: [DONE]\n\n")
        return out

    def error_event(self, rec: RecordedRequest, kind: FaultKind, message: str) -> bytes:
        err_type, code = _ERROR_TYPES[kind]
        return sse(json.dumps({"error": {"message": message, "type": err_type, "code": code}}))

    def malformed(self) -> bytes:
        return b'data: {"id": "chatcmpl-broken", "choices": [{"delta": \n\n'
