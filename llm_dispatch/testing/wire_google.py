"""Gemini ``streamGenerateContent?alt=sse``, as ``google-genai`` parses it."""

from __future__ import annotations

import json
from typing import Any

from .script import FaultKind, RecordedRequest
from .wire import sse

__all__ = ["GoogleWire"]

_FINISH = {"stop": "STOP", "length": "MAX_TOKENS", "content_filter": "SAFETY"}
_ERROR_STATUS: dict[FaultKind, tuple[int, str]] = {
    "overloaded": (503, "UNAVAILABLE"),
    "server": (500, "INTERNAL"),
    "rate_limit": (429, "RESOURCE_EXHAUSTED"),
    "bad_request": (400, "INVALID_ARGUMENT"),
}
_STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}


def _parts_text(content: Any) -> str:
    if not isinstance(content, dict):
        return ""
    return "".join(p.get("text", "") for p in content.get("parts", []) if isinstance(p, dict))


def _dump(obj: dict[str, Any]) -> str:
    return json.dumps(obj, separators=(",", ":"))


class GoogleWire:
    name = "google"

    def parse(
        self, path: str, body: dict[str, Any]
    ) -> tuple[str, str | None, list[dict[str, str]], bool]:
        # /v1beta/models/{model}:streamGenerateContent
        model = path.rsplit("/models/", 1)[-1].split(":", 1)[0]
        system = _parts_text(body.get("systemInstruction") or body.get("system_instruction"))
        messages = [
            {"role": "assistant" if c.get("role") == "model" else "user", "content": _parts_text(c)}
            for c in body.get("contents", [])
        ]
        config = body.get("generationConfig") or {}
        json_mode = config.get("responseMimeType") == "application/json"
        return model, (system or None), messages, json_mode

    def error_body(self, status: int, message: str) -> dict[str, Any]:
        return {
            "error": {
                "code": status,
                "message": message,
                "status": _STATUS_NAMES.get(status, "UNKNOWN"),
            }
        }

    def _chunk(self, rec: RecordedRequest, text: str, extra: dict[str, Any] | None = None) -> bytes:
        candidate: dict[str, Any] = {
            "content": {"parts": [{"text": text}], "role": "model"},
            "index": 0,
        }
        payload: dict[str, Any] = {"candidates": [candidate], "modelVersion": rec.model}
        if extra:
            candidate.update(extra.get("candidate", {}))
            payload.update(extra.get("payload", {}))
        return sse(_dump(payload)).replace(b"\n\n", b"\r\n\r\n")

    def opening(self, rec: RecordedRequest, prompt_tokens: int) -> list[bytes]:
        rec.body.setdefault("_prompt_tokens", prompt_tokens)
        return []

    def text(self, rec: RecordedRequest, text: str, index: int) -> bytes:
        return self._chunk(rec, text)

    def closing(
        self,
        rec: RecordedRequest,
        finish_reason: str,
        usage: tuple[int, int] | None,
        last_text: str | None,
    ) -> list[bytes]:
        extra: dict[str, Any] = {"candidate": {"finishReason": _FINISH.get(finish_reason, "STOP")}}
        if usage is not None:
            prompt, completion = usage
            extra["payload"] = {
                "usageMetadata": {
                    "promptTokenCount": prompt,
                    "candidatesTokenCount": completion,
                    "totalTokenCount": prompt + completion,
                }
            }
        return [self._chunk(rec, last_text or "", extra)]

    def error_event(self, rec: RecordedRequest, kind: FaultKind, message: str) -> bytes:
        code, status = _ERROR_STATUS[kind]
        return sse(_dump({"error": {"code": code, "message": message, "status": status}}))

    def malformed(self) -> bytes:
        return b'data: {"candidates": [{"content": \r\n\r\n'
