"""Gemini ``streamGenerateContent?alt=sse``, as ``google-genai`` parses it."""

from __future__ import annotations

import base64
import json
from typing import Any

from . import parts
from .parts import PartDict
from .script import FaultKind, RecordedRequest, ScriptedToolCall, Step
from .wire import ParsedRequest, sse

__all__ = ["GoogleWire", "call_signature"]

_FINISH = {
    "stop": "STOP",
    "length": "MAX_TOKENS",
    "content_filter": "SAFETY",
    "tool_calls": "STOP",
}
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
    if not isinstance(part, dict) or part.get("thought"):
        # A thought part sent back is no text of the turn: kept as sent.
        return parts.other(part)
    try:
        if "text" in part:
            return parts.text(part["text"])
        call = _field(part, "functionCall", "function_call")
        if isinstance(call, dict):
            return parts.tool_call(call.get("id"), call.get("name"), call.get("args"))
        response = _field(part, "functionResponse", "function_response")
        if isinstance(response, dict):
            return _tool_result(response)
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


def _tool_result(response: dict[str, Any]) -> PartDict:
    """A function response: its ``result`` or ``error`` as the content (``is_error`` says
    which), or the whole ``response`` when it holds neither."""
    body = response.get("response")
    call_id, name = response.get("id"), response.get("name")
    if isinstance(body, dict) and len(body) == 1 and ("result" in body or "error" in body):
        is_error = "error" in body
        return parts.tool_result(
            call_id, name, body["error" if is_error else "result"], is_error=is_error
        )
    return parts.tool_result(call_id, name, body)


def _role(turn: dict[str, Any], content: list[PartDict]) -> str:
    """``assistant`` for a model turn, ``tool`` for a user turn of function responses only."""
    if turn.get("role") == "model":
        return "assistant"
    if content and all(p["type"] == "tool_result" for p in content):
        return "tool"
    return "user"


def _tools(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The function declarations of every tool, as ``{"name", "description", "parameters"}``
    (the JSON schema, or the OpenAPI ``parameters`` when that was sent)."""
    found = []
    for tool in body.get("tools") or []:
        declarations = _field(tool, "functionDeclarations", "function_declarations") or []
        for declaration in declarations:
            schema = _field(declaration, "parametersJsonSchema", "parameters_json_schema")
            found.append(
                {
                    "name": declaration.get("name"),
                    "description": declaration.get("description") or "",
                    "parameters": schema if schema is not None else declaration.get("parameters"),
                }
            )
    return found


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


def _arguments(call: ScriptedToolCall) -> dict[str, Any]:
    """A call's arguments as the object Gemini sends (it has no way to send other JSON)."""
    try:
        value = json.loads(call.arguments_text)
    except json.JSONDecodeError:
        value = None
    if not isinstance(value, dict):
        raise ValueError(
            f"Gemini sends a call's arguments as a JSON object, not {call.arguments!r}"
        )
    return value


def call_signature(call: ScriptedToolCall) -> str:
    """The thought signature the wire sends with ``call`` when it is an answer's first call
    (base64 text, as Gemini sends them)."""
    return base64.b64encode(f"signature of {call.name}".encode()).decode("ascii")


class GoogleWire:
    name = "google"

    def parse(self, path: str, body: dict[str, Any]) -> ParsedRequest:
        # /v1beta/models/{model}:streamGenerateContent
        model = path.rsplit("/models/", 1)[-1].split(":", 1)[0]
        system = _parts(body.get("systemInstruction") or body.get("system_instruction"))
        turns = [c for c in body.get("contents", []) if isinstance(c, dict)]
        contents = [_parts(c) for c in turns]
        config = body.get("generationConfig") or {}
        tool_config = _field(body, "toolConfig", "tool_config") or {}
        return ParsedRequest(
            model=model,
            system=parts.text_of_parts(system) or None,
            messages=[
                {"role": _role(c, content), "content": parts.text_of_parts(content)}
                for c, content in zip(turns, contents, strict=True)
            ],
            parts=contents,
            json_mode=config.get("responseMimeType") == "application/json",
            tools=_tools(body),
            tool_choice=_field(tool_config, "functionCallingConfig", "function_calling_config"),
            reasoning=_field(config, "thinkingConfig", "thinking_config"),
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

    def reasoning(self, rec: RecordedRequest, text: str, index: int) -> bytes:
        part = _extra(rec, {"text": text, "thought": True})
        candidate = {"content": _extra(rec, {"parts": [part], "role": "model"})}
        return self._chunk(rec, candidate, self._running_usage(rec))

    def tool_call(self, rec: RecordedRequest, call: ScriptedToolCall, step: Step) -> list[bytes]:
        """Gemini sends whole calls: nothing for a piece but the last. Calls whose last
        pieces come one after the other (parallel calls) go out together, in one chunk, on
        the last of them."""
        assert rec.script is not None
        script = rec.script
        steps = [s for s in script.steps(rec) if s.kind == "tool_call"]
        following = steps[step.index + 1] if step.index + 1 < len(steps) else None
        if not step.last or (following is not None and following.last):
            return []
        first = step.index
        while first > 0 and steps[first - 1].last:
            first -= 1
        calls = [steps[i].call for i in range(first, step.index + 1)]
        function_calls = [self._function_call(rec, script.tool_calls[c], c) for c in calls]
        candidate = {"content": _extra(rec, {"parts": function_calls, "role": "model"})}
        return [self._chunk(rec, candidate, self._running_usage(rec))]

    def _function_call(
        self, rec: RecordedRequest, call: ScriptedToolCall, index: int
    ) -> dict[str, Any]:
        """A ``functionCall`` part; the answer's first call carries a thought signature, as
        Gemini 3 sends it. The id is sent only when the script gives one (Gemini usually
        sends none)."""
        function_call: dict[str, Any] = {"name": call.name, "args": _arguments(call)}
        if call.id is not None:
            function_call["id"] = call.id
        part: dict[str, Any] = {"functionCall": _extra(rec, function_call)}
        if index == 0:
            part["thoughtSignature"] = call_signature(call)
        return _extra(rec, part)

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
            # Gemini counts the thoughts apart from the candidates.
            thoughts = rec.script.reasoning_token_count if rec.script is not None else 0
            metadata["candidatesTokenCount"] = max(0, completion - thoughts)
            if thoughts:
                metadata["thoughtsTokenCount"] = thoughts
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
