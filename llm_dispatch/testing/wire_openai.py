"""OpenAI chat-completions streaming, as ``openai`` parses it (also vLLM, Ollama, xAI).

Reasoning streams as ``delta.reasoning_content`` (as DeepSeek, vLLM and Ollama send it);
each piece of a tool call is a ``delta.tool_calls`` entry with the call's ``index``, its
``id``, ``type`` and ``function.name`` on the first piece only (the id ``call_<n>`` unless
the script gives one); an answer of tool calls finishes with ``tool_calls``. The usage
chunk reports ``completion_tokens_details.reasoning_tokens`` and
``prompt_tokens_details.cached_tokens``. A refusal (``finish_reason="content_filter"``)
to a request with a ``json_schema`` response format streams as OpenAI's structured-output
refusals do: the script's ``error_message`` as ``delta.refusal``, then ``finish_reason:
"stop"``.

A request's ``tools`` are recorded as ``{"name", "description", "parameters"}``,
``tool_choice`` and ``reasoning_effort`` (as ``reasoning``) as sent, an assistant
message's ``tool_calls`` as tool-call parts (arguments parsed from their JSON text; text
that is not JSON is kept as it is) and a ``tool`` message as a tool-result part (with
``name`` and ``is_error`` None: the wire has neither).
"""

from __future__ import annotations

import json
import time
from typing import Any

from . import parts
from .parts import PartDict
from .script import FaultKind, RecordedRequest, ScriptedToolCall, Step
from .wire import ParsedRequest, sse

__all__ = ["OpenAIWire"]

_ERROR_TYPES: dict[FaultKind, tuple[str, str]] = {
    "overloaded": ("server_error", "overloaded"),
    "server": ("server_error", "internal_error"),
    "rate_limit": ("rate_limit_exceeded", "rate_limit_exceeded"),
    "bad_request": ("invalid_request_error", "invalid_request"),
}


def _parts(value: Any) -> list[PartDict]:
    """A message's content (a string, or a list of content parts) as normalised parts."""
    if isinstance(value, str):
        return [parts.text(value)]
    if not isinstance(value, list):
        return []
    return [_part(p) for p in value]


def _part(part: Any) -> PartDict:
    kind = part.get("type") if isinstance(part, dict) else None
    try:
        if kind == "text":
            return parts.text(part.get("text", ""))
        if kind == "image_url":
            image = part.get("image_url")
            url = image.get("url") if isinstance(image, dict) else image
            inline = parts.from_data_uri(url) if isinstance(url, str) else None
            if inline is not None:
                return parts.media("image", inline[0], data=inline[1])
            if isinstance(url, str):
                return parts.media("image", None, url=url)
        if kind == "input_audio":
            audio = part["input_audio"]
            fmt = audio.get("format")
            mime = parts.AUDIO_MIME_TYPES.get(fmt, f"audio/{fmt}")
            data = parts.decode_base64(audio.get("data"))
            return {**parts.media("audio", mime, data=data), "format": fmt}
        if kind == "file" and isinstance(part["file"].get("file_data"), str):
            file = part["file"]
            inline = parts.from_data_uri(file["file_data"])
            # A bare base64 string says no MIME type.
            file_mime = inline[0] if inline else None
            data = inline[1] if inline else parts.decode_base64(file["file_data"])
            document = parts.media("document", file_mime, data=data)
            return {**document, "name": file.get("filename")}
    except (KeyError, TypeError, AttributeError, ValueError):
        pass
    return parts.other(part)


def _message_parts(message: dict[str, Any]) -> list[PartDict]:
    """A message's parts: its content, then an assistant's tool calls; a ``tool`` message
    is one tool result."""
    content = _parts(message.get("content"))
    if message.get("role") == "tool":
        text = parts.text_of_parts(content)
        return [parts.tool_result(message.get("tool_call_id"), None, text)]
    calls = message.get("tool_calls")
    if isinstance(calls, list):
        content += [_tool_call_part(call) for call in calls]
    return content


def _tool_call_part(call: Any) -> PartDict:
    function = call.get("function") if isinstance(call, dict) else None
    if not isinstance(function, dict):
        return parts.other(call)
    return parts.tool_call(call.get("id"), function.get("name"), _arguments(function))


def _arguments(function: dict[str, Any]) -> Any:
    """A call's arguments parsed from their JSON text (text that is not JSON as it is)."""
    text = function.get("arguments")
    if not isinstance(text, str):
        return text
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def _tool(tool: Any) -> dict[str, Any]:
    """An offered tool as ``{"name", "description", "parameters"}`` (None for what it
    leaves out)."""
    function = tool.get("function") if isinstance(tool, dict) else None
    spec = function if isinstance(function, dict) else {}
    return {
        "name": spec.get("name"),
        "description": spec.get("description"),
        "parameters": spec.get("parameters"),
    }


def _event(rec: RecordedRequest, payload: dict[str, Any]) -> bytes:
    if "unknown_fields" in rec.shape:
        # OpenAI pads chunks with a random string; clients are meant to ignore it.
        payload = {**payload, "obfuscation": "fAk3"}
    return sse(json.dumps(payload, separators=(",", ":")))


class OpenAIWire:
    name = "openai"

    def parse(self, path: str, body: dict[str, Any]) -> ParsedRequest:
        system_parts: list[str] = []
        parsed = ParsedRequest(model=str(body.get("model", "")), system=None, messages=[])
        for m in body.get("messages", []):
            content = _message_parts(m)
            if m.get("role") in ("system", "developer"):
                system_parts.append(parts.text_of_parts(content))
            else:
                role = m.get("role", "user")
                parsed.messages.append({"role": role, "content": parts.text_of_parts(content)})
                parsed.parts.append(content)
        parsed.system = "\n\n".join(system_parts) or None
        fmt = body.get("response_format") or {}
        parsed.json_mode = fmt.get("type") in ("json_object", "json_schema")
        parsed.tools = [_tool(t) for t in body.get("tools") or []]
        parsed.tool_choice = body.get("tool_choice")
        parsed.reasoning = body.get("reasoning_effort")
        return parsed

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

    def _chunk(
        self, rec: RecordedRequest, delta: dict[str, Any] | None, finish: str | None
    ) -> bytes:
        """A chunk with one choice; ``delta=None`` leaves the choice's delta out."""
        sparse = "sparse" in rec.shape
        choice: dict[str, Any] = {"index": 0}
        if delta is not None:
            choice["delta"] = delta
        if not sparse:
            choice["logprobs"] = None
        choice["finish_reason"] = finish
        if "unknown_fields" in rec.shape:
            # Azure OpenAI's per-choice filter report.
            choice["content_filter_results"] = {"hate": {"filtered": False, "severity": "safe"}}
        payload = self._envelope(rec, [choice])
        if rec.body.get("stream_options", {}).get("include_usage") and not sparse:
            payload["usage"] = None
        return _event(rec, payload)

    def _envelope(self, rec: RecordedRequest, choices: list[dict[str, Any]]) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "id": f"chatcmpl-fake{id(rec):x}",
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": rec.model,
        }
        if "sparse" not in rec.shape:
            payload["system_fingerprint"] = "fp_fake"
        payload["choices"] = choices
        return payload

    def opening(self, rec: RecordedRequest, prompt_tokens: int) -> list[bytes]:
        shape = rec.shape
        events = []
        if "sparse" in shape:
            # Azure OpenAI opens with a chunk that has no choices (with its prompt filter
            # report as an unknown field).
            payload = self._envelope(rec, [])
            if "unknown_fields" in shape:
                payload["prompt_filter_results"] = [
                    {"prompt_index": 0, "content_filter_results": {}}
                ]
            events.append(_event(rec, payload))
            role: dict[str, Any] = {"role": "assistant", "content": None}
        else:
            role = {"role": "assistant", "content": "", "refusal": None}
        events.append(self._chunk(rec, role, None))
        if "unknown_events" in shape:
            # Compatible servers send SSE comments as keep-alives; and an event by a name
            # no client knows, whose data is no chunk.
            events.append(b": keep-alive\n\n")
            events.append(sse('{"type":"fake_future_event"}', "fake_future_event"))
        return events

    def text(self, rec: RecordedRequest, text: str, index: int) -> bytes:
        return self._chunk(rec, {"content": text}, None)

    def reasoning(self, rec: RecordedRequest, text: str, index: int) -> bytes:
        delta: dict[str, Any] = {"reasoning_content": text}
        if "sparse" not in rec.shape:
            delta = {"content": None, **delta}
        return self._chunk(rec, delta, None)

    def tool_call(self, rec: RecordedRequest, call: ScriptedToolCall, step: Step) -> list[bytes]:
        function: dict[str, Any] = {"arguments": step.text}
        piece: dict[str, Any] = {"index": step.call}
        if step.first:
            piece["id"] = call.id or f"call_{step.call}"
            piece["type"] = "function"
            function = {"name": call.name, **function}
        piece["function"] = function
        return [self._chunk(rec, {"tool_calls": [piece]}, None)]

    def closing(
        self,
        rec: RecordedRequest,
        finish_reason: str,
        usage: tuple[int, int] | None,
        last_text: str | None,
    ) -> list[bytes]:
        out = []
        if finish_reason == "content_filter" and _schema_format(rec):
            # A structured-output refusal: the refusal text as deltas, then a plain stop.
            message = rec.script.error_message if rec.script is not None else "refused"
            out.append(self._chunk(rec, {"refusal": message}, None))
            finish_reason = "stop"
        out.append(self._chunk(rec, None if "sparse" in rec.shape else {}, finish_reason))
        if usage is not None and rec.body.get("stream_options", {}).get("include_usage"):
            prompt, completion = usage
            script = rec.script
            cached = script.cache_tokens[1] if script is not None else 0
            reasoning = script.reasoning_token_count if script is not None else 0
            payload = self._envelope(rec, [])
            payload["usage"] = {
                "prompt_tokens": prompt,
                "completion_tokens": completion,
                "total_tokens": prompt + completion,
                "prompt_tokens_details": {"cached_tokens": cached, "audio_tokens": 0},
                "completion_tokens_details": {"reasoning_tokens": reasoning, "audio_tokens": 0},
            }
            out.append(_event(rec, payload))
        out.append(b"data: [DONE]\n\n")
        return out

    def error_event(self, rec: RecordedRequest, kind: FaultKind, message: str) -> bytes:
        err_type, code = _ERROR_TYPES[kind]
        return sse(json.dumps({"error": {"message": message, "type": err_type, "code": code}}))

    def malformed(self) -> bytes:
        return b'data: {"id": "chatcmpl-broken", "choices": [{"delta": \n\n'


def _schema_format(rec: RecordedRequest) -> bool:
    """Whether the request asked for structured output (a ``json_schema`` response format)."""
    response_format = rec.body.get("response_format")
    return isinstance(response_format, dict) and response_format.get("type") == "json_schema"
