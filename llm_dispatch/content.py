"""What a message holds: text, or a sequence of typed, provider-neutral parts.

A part is text, an image, audio or a document (PDF). Media parts carry their bytes (or, for
an image or a document, a URL the provider fetches), their MIME type, and where they came
from (``source``: the argument they were bound from, e.g. ``images[0]``), which errors
name. Every provider maps them to its own form; the cache keys on their digest, never on
their bytes. :mod:`.media` turns what a caller passes (bytes, a path, base64, a data URI, a
URL) into parts.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Annotated, Any, Literal, TypeAlias

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "AudioPart",
    "Content",
    "DocumentPart",
    "ImagePart",
    "Modality",
    "Part",
    "TextPart",
    "cache_form",
    "modalities_of",
    "text_of",
]

#: What a model may be given, besides text.
Modality = Literal["text", "image", "audio", "document"]

_PART_CONFIG = ConfigDict(frozen=True, extra="forbid", ser_json_bytes="base64")


class TextPart(BaseModel):
    model_config = _PART_CONFIG

    type: Literal["text"] = "text"
    text: str


class _MediaPart(BaseModel):
    model_config = _PART_CONFIG

    mime_type: str
    #: The bytes, or None when the provider fetches ``url``.
    data: bytes | None = Field(default=None, repr=False)
    url: str | None = None
    #: The argument the part came from (``images[0]``), for errors; not part of its identity.
    source: str = ""

    @property
    def digest(self) -> str:
        """SHA-256 of the bytes, or of the URL: what identifies the part in a cache key."""
        payload = self.data if self.data is not None else (self.url or "").encode()
        return hashlib.sha256(payload).hexdigest()

    @property
    def size(self) -> int | None:
        """Bytes sent inline (None for a URL)."""
        return len(self.data) if self.data is not None else None


class ImagePart(_MediaPart):
    type: Literal["image"] = "image"


class AudioPart(_MediaPart):
    type: Literal["audio"] = "audio"

    @property
    def format(self) -> str:
        """The short name of the encoding (``wav``, ``mp3`` ...), as OpenAI's audio input
        names it."""
        return _AUDIO_FORMATS.get(self.mime_type, self.mime_type.rsplit("/", 1)[-1])


class DocumentPart(_MediaPart):
    type: Literal["document"] = "document"
    #: A file name the provider may show (OpenAI asks for one).
    name: str | None = None


_AUDIO_FORMATS = {
    "audio/wav": "wav",
    "audio/x-wav": "wav",
    "audio/mpeg": "mp3",
    "audio/mp3": "mp3",
    "audio/ogg": "ogg",
    "audio/flac": "flac",
    "audio/mp4": "m4a",
    "audio/webm": "webm",
}

Part = Annotated[TextPart | ImagePart | AudioPart | DocumentPart, Field(discriminator="type")]

#: A message's content: plain text, or parts in order.
Content: TypeAlias = str | tuple[Part, ...]


def text_of(content: Content) -> str:
    """The text of ``content`` (its text parts, joined by blank lines)."""
    if isinstance(content, str):
        return content
    return "\n\n".join(p.text for p in content if isinstance(p, TextPart))


def modalities_of(contents: Iterable[Content]) -> frozenset[Modality]:
    """Every modality the ``contents`` use (``text`` always)."""
    found: set[Modality] = {"text"}
    for content in contents:
        if not isinstance(content, str):
            found.update(p.type for p in content)
    return frozenset(found)


def cache_form(content: Content) -> Any:
    """``content`` as a cache key may hold it: text as it is, media by digest and type."""
    if isinstance(content, str):
        return content
    return [
        {"type": "text", "text": p.text}
        if isinstance(p, TextPart)
        else {"type": p.type, "mime_type": p.mime_type, "sha256": p.digest}
        for p in content
    ]
