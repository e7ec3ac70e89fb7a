"""What a message holds: text, or a sequence of typed, provider-neutral parts.

A part is text, an image, audio or a document (PDF), or, in a tool-using conversation, a
tool call the assistant made (:class:`ToolCallPart`), what a tool returned
(:class:`ToolResultPart`), or the model's own reasoning (:class:`ReasoningPart`).

Media parts carry their bytes (or, for an image or a document, a URL the provider
fetches), their MIME type, and where they came from (``source``: the argument they were
bound from, e.g. ``images[0]``), which errors name. Every provider maps them to its own
form; the cache keys on their digest, never on their bytes. :mod:`.media` turns what a
caller passes (bytes, a path, base64, a data URI, a URL) into parts.
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
    "MediaPart",
    "Modality",
    "Part",
    "ReasoningPart",
    "TextPart",
    "ToolCallPart",
    "ToolResultPart",
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


class ToolCallPart(BaseModel):
    """A tool call the assistant made (in an assistant turn): its id, the tool's name and
    the arguments, parsed."""

    model_config = _PART_CONFIG

    type: Literal["tool_call"] = "tool_call"
    id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    arguments: dict[str, Any] = Field(default_factory=dict)
    #: An opaque token the provider attached to the call (Gemini's thought signature), sent
    #: back with it.
    signature: str | None = None


class ReasoningPart(BaseModel):
    """The model's reasoning in an assistant turn, as it streamed it. ``signature`` is the
    provider's token that vouches for it (Anthropic's thinking signature) and
    ``provider_kind`` the kind that wrote it: a provider sends reasoning back only to its
    own kind (Anthropic needs it to go on after a tool call made while thinking); the
    others leave it out."""

    model_config = _PART_CONFIG

    type: Literal["reasoning"] = "reasoning"
    text: str
    signature: str | None = None
    provider_kind: str | None = None


class ToolResultPart(BaseModel):
    """What a tool call returned (in a ``tool`` turn): the call's id and tool name, and the
    result as text; ``is_error`` when the tool failed."""

    model_config = _PART_CONFIG

    type: Literal["tool_result"] = "tool_result"
    tool_call_id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    content: str
    is_error: bool = False


Part = Annotated[
    TextPart | ImagePart | AudioPart | DocumentPart | ToolCallPart | ToolResultPart | ReasoningPart,
    Field(discriminator="type"),
]
MediaPart: TypeAlias = ImagePart | AudioPart | DocumentPart
_MEDIA_TYPES = (ImagePart, AudioPart, DocumentPart)

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
            found.update(p.type for p in content if isinstance(p, _MEDIA_TYPES))
    return frozenset(found)


def cache_form(content: Content) -> Any:
    """``content`` as a cache key may hold it: text and tool parts as they are, media by
    digest and type."""
    if isinstance(content, str):
        return content
    return [
        {"type": p.type, "mime_type": p.mime_type, "sha256": p.digest}
        if isinstance(p, _MEDIA_TYPES)
        else p.model_dump(mode="json")
        for p in content
    ]
