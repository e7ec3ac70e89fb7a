"""Claude on Amazon Bedrock: the Anthropic wire inside AWS's binary event stream.

``POST /model/{model}/invoke-with-response-stream`` answers
``application/vnd.amazon.eventstream``: a sequence of binary messages, each

- a prelude: the message's total length and its headers' length (4-byte big-endian
  integers), then the CRC-32 of those 8 bytes;
- headers: per header, its name's length (1 byte) and name, its value type (7: string),
  its value's length (2 bytes) and value;
- the payload, then the CRC-32 of everything before it.

Each Anthropic event is a ``chunk`` event (``:message-type: event``, ``:event-type:
chunk``) whose JSON payload's ``bytes`` is the event's JSON, base64-encoded; botocore
decodes it and the SDK reads the event inside. The Anthropic wire's in-stream ``error``
becomes an ``exception`` message of the Bedrock type its kind has (``throttlingException``
...); an HTTP error is Bedrock's ``{"message": ...}`` body. Pings are not sent.
"""

from __future__ import annotations

import base64
import json
import struct
import zlib
from typing import Any

from .script import FaultKind, RecordedRequest, ScriptedToolCall, Step
from .wire import ParsedRequest
from .wire_anthropic import AnthropicWire
from .wire_cloud import path_model

__all__ = ["EVENT_STREAM_TYPE", "BedrockWire", "event_message"]

EVENT_STREAM_TYPE = "application/vnd.amazon.eventstream"

_EXCEPTIONS: dict[FaultKind, str] = {
    "overloaded": "serviceUnavailableException",
    "server": "internalServerException",
    "rate_limit": "throttlingException",
    "bad_request": "validationException",
}
_STRING = 7


def event_message(headers: dict[str, str], payload: bytes) -> bytes:
    """One event-stream message of ``headers`` (string values) and ``payload``."""
    head = b"".join(
        struct.pack(">B", len(name)) + name.encode() + struct.pack(">BH", _STRING, len(value))
        + value.encode()
        for name, value in headers.items()
    )  # fmt: skip
    total = 12 + len(head) + len(payload) + 4
    prelude = struct.pack(">II", total, len(head))
    message = prelude + struct.pack(">I", zlib.crc32(prelude)) + head + payload
    return message + struct.pack(">I", zlib.crc32(message))


def _chunk(data: bytes) -> bytes:
    payload = json.dumps({"bytes": base64.b64encode(data).decode("ascii")}).encode()
    headers = {
        ":event-type": "chunk",
        ":content-type": "application/json",
        ":message-type": "event",
    }
    return event_message(headers, payload)


def _exception(kind: str, message: str) -> bytes:
    headers = {
        ":exception-type": kind,
        ":content-type": "application/json",
        ":message-type": "exception",
    }
    return event_message(headers, json.dumps({"message": message}).encode())


def _reframe(events: bytes) -> bytes:
    """The Anthropic wire's server-sent events as event-stream messages (pings dropped)."""
    out = b""
    for block in events.split(b"\n\n"):
        name, data = b"", b""
        for line in block.split(b"\n"):
            if line.startswith(b"event: "):
                name = line[len(b"event: ") :]
            elif line.startswith(b"data: "):
                data = line[len(b"data: ") :]
        if not data or name == b"ping":
            continue
        out += _chunk(data)
    return out


class BedrockWire(AnthropicWire):
    name = "anthropic_bedrock"
    content_type = EVENT_STREAM_TYPE

    def parse(self, path: str, body: dict[str, Any]) -> ParsedRequest:
        parsed = super().parse(path, body)
        parsed.model = path_model(path, "/model/", "/")
        return parsed

    def error_body(self, status: int, message: str) -> dict[str, Any]:
        return {"message": message}

    def opening(self, rec: RecordedRequest, prompt_tokens: int) -> list[bytes]:
        return [_reframe(e) for e in super().opening(rec, prompt_tokens)]

    def text(self, rec: RecordedRequest, text: str, index: int) -> bytes:
        return _reframe(super().text(rec, text, index))

    def reasoning(self, rec: RecordedRequest, text: str, index: int) -> bytes:
        return _reframe(super().reasoning(rec, text, index))

    def tool_call(self, rec: RecordedRequest, call: ScriptedToolCall, step: Step) -> list[bytes]:
        return [_reframe(e) for e in super().tool_call(rec, call, step)]

    def closing(
        self,
        rec: RecordedRequest,
        finish_reason: str,
        usage: tuple[int, int] | None,
        last_text: str | None,
    ) -> list[bytes]:
        return [_reframe(e) for e in super().closing(rec, finish_reason, usage, last_text)]

    def error_event(self, rec: RecordedRequest, kind: FaultKind, message: str) -> bytes:
        return _exception(_EXCEPTIONS[kind], message)

    def malformed(self) -> bytes:
        """A chunk whose bytes are not the JSON of an event."""
        return _chunk(b'{"type": "content_block_delta", "index": 0, "delta": ')
