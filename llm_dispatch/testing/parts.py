"""The normalised form of a message's parts, as the fake server records them.

Each wire reads its provider's content parts into dicts of one shape, whatever the wire:

- ``{"type": "text", "text": ...}``;
- ``{"type": "image" | "audio" | "document", "mime_type": ..., "data": <bytes>}`` for inline
  bytes (decoded from the base64 the SDK sent), or ``{..., "url": ...}`` for a URL
  (``mime_type`` None when the wire does not say). OpenAI's audio also has the ``format``
  it was sent with (``mime_type`` is the type that format names), and its documents the
  ``name`` they were sent with;
- ``{"type": "tool_call", "id": ..., "name": ..., "arguments": <dict>}`` for a tool call an
  assistant turn holds, ``{"type": "tool_result", "tool_call_id": ..., "name": ...,
  "content": <text>, "is_error": bool}`` for a tool's result (a wire that does not send one
  of the fields records None for it); the message of a tool result has role ``tool``;
- ``{"type": "other", "raw": <the part as sent>}`` for anything else.

The fake usage counts each media part as :data:`MEDIA_TOKENS` prompt tokens (by type), on
top of one token per word of text.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable
from typing import Any

__all__ = [
    "AUDIO_MIME_TYPES",
    "MEDIA_TOKENS",
    "PartDict",
    "decode_base64",
    "from_data_uri",
    "kind_of_mime",
    "media",
    "media_tokens",
    "other",
    "text",
    "text_of_parts",
    "tool_call",
    "tool_result",
]

PartDict = dict[str, Any]

#: Prompt tokens the fake usage counts for one part of each media type.
MEDIA_TOKENS = {"image": 85, "audio": 50, "document": 250}

#: The MIME type of each OpenAI ``input_audio`` format.
AUDIO_MIME_TYPES = {"wav": "audio/wav", "mp3": "audio/mpeg"}

_DATA_URI = re.compile(r"data:(?P<mime>[^;,]+)(?:;[^;,=]+=[^;,]*)*;base64,", re.IGNORECASE)


def decode_base64(value: Any) -> bytes:
    """The bytes of a base64 string, in the standard or the URL-safe alphabet (google-genai
    sends the latter); padding may be left out. Not base64 at all: ``ValueError``."""
    if not isinstance(value, str):
        raise ValueError(f"expected a base64 string, got {type(value).__name__}")
    plain = value.replace("-", "+").replace("_", "/")
    try:
        return base64.b64decode(plain + "=" * (-len(plain) % 4), validate=True)
    except binascii.Error as exc:
        raise ValueError(f"not base64: {exc}") from None


def from_data_uri(value: str) -> tuple[str, bytes] | None:
    """(MIME type, bytes) of a ``data:<mime>;base64,...`` URI, or None for anything else."""
    match = _DATA_URI.match(value)
    if match is None:
        return None
    return match["mime"].lower(), decode_base64(value[match.end() :])


def text(value: Any) -> PartDict:
    return {"type": "text", "text": str(value)}


def media(
    kind: str, mime_type: str | None, *, data: bytes | None = None, url: str | None = None
) -> PartDict:
    """A media part: its bytes, or its URL."""
    part: PartDict = {"type": kind, "mime_type": mime_type}
    if data is not None:
        part["data"] = data
    else:
        part["url"] = url
    return part


def tool_call(call_id: str | None, name: str | None, arguments: Any) -> PartDict:
    return {"type": "tool_call", "id": call_id, "name": name, "arguments": arguments}


def tool_result(
    tool_call_id: str | None, name: str | None, content: Any, *, is_error: bool | None = None
) -> PartDict:
    return {
        "type": "tool_result",
        "tool_call_id": tool_call_id,
        "name": name,
        "content": content,
        "is_error": is_error,
    }


def other(raw: Any) -> PartDict:
    return {"type": "other", "raw": raw}


def kind_of_mime(mime_type: str | None) -> str:
    """``image`` / ``audio`` for those MIME types, ``document`` for any other."""
    family = (mime_type or "").split("/", 1)[0]
    return family if family in ("image", "audio") else "document"


def text_of_parts(parts: Iterable[PartDict]) -> str:
    """The text of a message: its text parts, joined."""
    return "".join(p["text"] for p in parts if p["type"] == "text")


def media_tokens(messages_parts: Iterable[Iterable[PartDict]]) -> int:
    """The prompt tokens the fake usage counts for every media part of the messages."""
    return sum(MEDIA_TOKENS.get(p["type"], 0) for parts in messages_parts for p in parts)
