"""Gemini ``streamGenerateContent?alt=sse``, as ``google-genai`` parses it."""

from __future__ import annotations

import json
from typing import Any

from . import parts
from .parts import PartDict
from .script import FaultKind, RecordedRequest
from .wire import ParsedRequest, sse

__all__ = ["GoogleWire"]

_FINISH = {"stop": "STOP", "length": "MAX_TOKENS", "content_filter": "SAFETY"}
# Finish reasons for which Gemini withholds the candidate's content.
_REFUSALS = frozenset(
    {"SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "MODEL_ARMOR"}
)
_SAFETY_RATINGS = [
    {"category": "HARM_CATEGORY_HATE_SPEECH", "probability": "NEGLIGIBLE"},
    {"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH", "blocked": True},
    {"category": "HARM_CATEGORY_HARASSMENT", "probability": "NEGLIGIBLE"},
    {"category": "HARM_CATEGORY_SEXUALLY_EXPLICIT", "probability": "NEGLIGIBLE"},
]
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


def _parts(content: Any) -> list[PartDict]:
    """The parts of a ``Content`` as normalised parts."""
    if not isinstance(content, dict) or not isinstance(content.get("parts"), list):
        return []
    return [_part(p) for p in content["parts"]]


def _field(obj: dict[str, Any], camel: str, snake: str) -> Any:
    """A field the SDK may send in camel or in snake case."""
    return obj.get(camel, obj.get(snake))


def _part(part: Any) -> PartDict:
    if not isinstance(part, dict):
        return parts.other(part)
    try:
        if "text" in part:
            return parts.text(part["text"])
        inline = _field(part, "inlineData", "inline_data")
        if isinstance(inline, dict):
            mime = _field(inline, "mimeType", "mime_type")
            data = parts.decode_base64(inline.get("data"))
            return parts.media(parts.kind_of_mime(mime), mime, data=data)
        file = _field(part, "fileData", "file_data")
        if isinstance(file, dict):
            mime = _field(file, "mimeType", "mime_type")
            url = _field(file, "fileUri", "file_uri")
            return parts.media(parts.kind_of_mime(mime), mime, url=url)
    except ValueError:
        pass
    return parts.other(part)


def _dump(obj: dict[str, Any]) -> str:
    return json.dumps(obj, separators=(",", ":"))


def _extra(rec: RecordedRequest, obj: dict[str, Any]) -> dict[str, Any]:
    """``obj``, plus a field no SDK knows when the shape asks for unknown fields."""
    if "unknown_fields" in rec.shape:
        return {**obj, "fakeFutureField": {"nested": [1, 2]}}
    return obj


def _prompt_usage(rec: RecordedRequest, prompt: int) -> dict[str, Any]:
    """``usageMetadata`` counting the prompt only (and its cached part, if any)."""
    usage: dict[str, Any] = {"promptTokenCount": prompt, "totalTokenCount": prompt}
    read = rec.script.cache_tokens[1] if rec.script is not None else 0
    if read:
        usage["cachedContentTokenCount"] = read
    return usage


class GoogleWire:
    name = "google"

    def parse(self, path: str, body: dict[str, Any]) -> ParsedRequest:
        # /v1beta/models/{model}:streamGenerateContent
        model = path.rsplit("/models/", 1)[-1].split(":", 1)[0]
        system = _parts(body.get("systemInstruction") or body.get("system_instruction"))
        turns = [c for c in body.get("contents", []) if isinstance(c, dict)]
        contents = [_parts(c) for c in turns]
        config = body.get("generationConfig") or {}
        return ParsedRequest(
            model=model,
            system=parts.text_of_parts(system) or None,
            messages=[
                {
                    "role": "assistant" if c.get("role") == "model" else "user",
                    "content": parts.text_of_parts(content),
                }
                for c, content in zip(turns, contents, strict=True)
            ],
            parts=contents,
            json_mode=config.get("responseMimeType") == "application/json",
        )

    def error_body(self, status: int, message: str) -> dict[str, Any]:
        return {
            "error": {
                "code": status,
                "message": message,
                "status": _STATUS_NAMES.get(status, "UNKNOWN"),
            }
        }

    def _chunk(
        self,
        rec: RecordedRequest,
        candidate: dict[str, Any] | None,
        usage: dict[str, Any] | None = None,
    ) -> bytes:
        """One chunk: a candidate (None: none) and ``usageMetadata``, framed as Gemini does."""
        shape = rec.shape
        payload: dict[str, Any] = {}
        if candidate is not None:
            if "sparse" not in shape:
                candidate = {**candidate, "index": 0}
            payload["candidates"] = [_extra(rec, candidate)]
        if usage is not None:
            payload["usageMetadata"] = _extra(rec, usage)
        if "sparse" not in shape:
            payload["modelVersion"] = rec.model
            payload["responseId"] = f"fake{id(rec):x}"
        return sse(_dump(_extra(rec, payload))).replace(b"\n\n", b"\r\n\r\n")

    def _text_candidate(self, rec: RecordedRequest, text: str) -> dict[str, Any]:
        part = _extra(rec, {"text": text})
        return {"content": _extra(rec, {"parts": [part], "role": "model"})}

    def _running_usage(self, rec: RecordedRequest) -> dict[str, Any] | None:
        """What a text chunk reports with ``partial_usage``: the prompt's counts so far."""
        script = rec.script
        if script is None or "partial_usage" not in rec.shape or not script.send_usage:
            return None
        return _prompt_usage(rec, rec.prompt_tokens)

    def opening(self, rec: RecordedRequest, prompt_tokens: int) -> list[bytes]:
        return []

    def text(self, rec: RecordedRequest, text: str, index: int) -> bytes:
        out = self._chunk(rec, self._text_candidate(rec, text), self._running_usage(rec))
        if index == 0 and "unknown_events" in rec.shape:
            # Gemini has no event types; this chunk carries nothing the client reads.
            out += self._chunk(rec, None)
        return out

    def closing(
        self,
        rec: RecordedRequest,
        finish_reason: str,
        usage: tuple[int, int] | None,
        last_text: str | None,
    ) -> list[bytes]:
        shape = rec.shape
        finish = _FINISH.get(finish_reason, finish_reason)
        metadata = None
        if usage is not None:
            prompt, completion = usage
            metadata = _prompt_usage(rec, prompt)
            metadata["candidatesTokenCount"] = completion
            metadata["totalTokenCount"] = prompt + completion
        out = []
        refused = finish in _REFUSALS
        if refused or "sparse" in shape:
            # A refusal comes as a candidate without content, after the text so far; the
            # sparse shape also puts the finish reason in a chunk of its own.
            if last_text:
                text = self._text_candidate(rec, last_text)
                out.append(self._chunk(rec, text, self._running_usage(rec)))
            if refused:
                candidate: dict[str, Any] = {"finishReason": finish}
                if finish == "SAFETY":
                    candidate["safetyRatings"] = _SAFETY_RATINGS
            else:
                signature = {"thoughtSignature": "ZmFrZS1zaWduYXR1cmU="}
                out.append(self._chunk(rec, {"content": {"parts": [signature], "role": "model"}}))
                candidate = {"content": {"role": "model"}, "finishReason": finish}
        else:
            candidate = {**self._text_candidate(rec, last_text or ""), "finishReason": finish}
        out.append(self._chunk(rec, candidate, metadata))
        return out

    def error_event(self, rec: RecordedRequest, kind: FaultKind, message: str) -> bytes:
        code, status = _ERROR_STATUS[kind]
        return sse(_dump({"error": {"code": code, "message": message, "status": status}}))

    def malformed(self) -> bytes:
        return b'data: {"candidates": [{"content": \r\n\r\n'
