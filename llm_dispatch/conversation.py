"""Turns a caller gives as a conversation (``messages=``, ``history=``) as :class:`Message` s.

A turn is a :class:`Message`, a role/content mapping (or a pydantic model with those
fields), or a ``(user, assistant)`` pair of strings, as chat UIs keep their history; a pair
whose answer is None (the turn being asked now) adds the user message only. Roles are
``system``, ``user`` and ``assistant``; system turns are taken out and joined into the
request's system prompt.

A turn's content is a string, or a list of parts, each one of:

- a string, or ``{"type": "text", "text": ...}``;
- ``{"type": "image", "image": <value>}``, and the same for ``"audio"`` and ``"document"``,
  where the value is anything :mod:`.media` reads (bytes, a path, base64, a data URI, a URL),
  with an optional ``"mime_type"``;
- OpenAI's chat forms: ``{"type": "image_url", "image_url": {"url": ...}}``,
  ``{"type": "input_audio", "input_audio": {"data": <base64>, "format": "wav"}}`` and
  ``{"type": "file", "file": {"file_data": <data URI>, "filename": ...}}``;
- a part already built (:class:`~llm_dispatch.content.ImagePart` ...).

Anything else is a :class:`~llm_dispatch.errors.RequestBindingError` naming the turn and
the part (``messages[2].content[1]``): content is never turned into text by ``str()``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from pydantic import BaseModel

from .content import AudioPart, Content, DocumentPart, ImagePart, Part, TextPart
from .errors import RequestBindingError
from .media import audio_part, document_part, image_part
from .request import Message

__all__ = ["coerce_messages", "message_content"]

_ROLES = ("system", "user", "assistant")
_MEDIA_READERS: dict[str, Callable[..., Part]] = {
    "image": image_part, "audio": audio_part, "document": document_part,
}  # fmt: skip
_BUILT_PARTS = (TextPart, ImagePart, AudioPart, DocumentPart)


def coerce_messages(
    value: Any, where: str, name: str = "messages"
) -> tuple[tuple[Message, ...], str | None]:
    """The turns ``value`` holds, and the system prompt among them (None when none)."""
    if not isinstance(value, Sequence) or isinstance(value, str | bytes):
        raise RequestBindingError(f"{where}: {name!r} must be a list of role/content dicts")
    system_parts: list[str] = []
    turns: list[Message] = []
    for i, item in enumerate(value):
        label = f"{name}[{i}]"
        for message in _turns(item, label, where):
            if message.role == "system":
                system_parts.append(message.text)
            else:
                turns.append(message)
    return tuple(turns), ("\n\n".join(system_parts) if system_parts else None)


def message_content(value: Any, turn: str, where: str) -> Content:
    """``value`` as the content of the turn labelled ``turn`` (``messages[2]``): its text, or
    its parts (see the module docstring)."""
    if isinstance(value, str):
        if not value.strip():
            raise RequestBindingError(f"{where}: {turn} has empty content")
        return value
    if not isinstance(value, Sequence) or isinstance(value, bytes | bytearray):
        raise RequestBindingError(
            f"{where}: {turn} has content of type {type(value).__name__}; "
            "expected text or a list of parts"
        )
    parts = tuple(_part(item, f"{turn}.content[{j}]", where) for j, item in enumerate(value))
    if not any(not isinstance(p, TextPart) or p.text.strip() for p in parts):
        raise RequestBindingError(f"{where}: {turn} has empty content")
    return parts


def _turns(item: Any, label: str, where: str) -> list[Message]:
    if isinstance(item, Message):
        return [item]
    if (
        isinstance(item, list | tuple)
        and len(item) == 2
        and all(isinstance(x, str) or x is None for x in item)
    ):
        user, answer = item
        if user is None:
            raise RequestBindingError(f"{where}: {label} is a pair without its user message")
        asked = [Message(role="user", content=message_content(user, f"{label}[0]", where))]
        if answer is None:
            return asked
        said = message_content(answer, f"{label}[1]", where)
        return [*asked, Message(role="assistant", content=said)]
    data = item.model_dump() if isinstance(item, BaseModel) else item
    if not isinstance(data, Mapping) or "role" not in data or "content" not in data:
        raise RequestBindingError(
            f"{where}: {label} must be a dict with 'role' and 'content' "
            "(or a (user, assistant) pair of strings)"
        )
    role = data["role"]
    if role not in _ROLES:
        raise RequestBindingError(
            f"{where}: {label} has role {role!r}; expected 'system', 'user' or 'assistant'"
        )
    content = message_content(data["content"], label, where)
    if role == "system" and not isinstance(content, str):
        if not all(isinstance(p, TextPart) for p in content):
            raise RequestBindingError(f"{where}: {label} is a system turn with media")
        content = "\n\n".join(p.text for p in content if isinstance(p, TextPart))
    return [Message(role=role, content=content)]


def _part(item: Any, label: str, where: str) -> Part:
    if isinstance(item, _BUILT_PARTS):
        return item
    if isinstance(item, str):
        return TextPart(text=item)
    if not isinstance(item, Mapping) or not isinstance(item.get("type"), str):
        raise RequestBindingError(
            f"{where}: {label} must be text or a dict with a 'type' "
            "(text, image, audio, document, image_url, input_audio, file)"
        )
    kind = item["type"]
    try:
        if kind == "text":
            text = item.get("text")
            if not isinstance(text, str):
                raise RequestBindingError(f"{label}: a text part needs 'text' as a string")
            return TextPart(text=text)
        if kind in _MEDIA_READERS:
            if kind not in item:
                raise RequestBindingError(f"{label}: an {kind} part holds it under {kind!r}")
            return _MEDIA_READERS[kind](item[kind], label, mime_type=item.get("mime_type"))
        return _openai_part(kind, item, label)
    except RequestBindingError as exc:
        raise RequestBindingError(f"{where}: {exc}") from None


def _openai_part(kind: str, item: Mapping[str, Any], label: str) -> Part:
    """A part written in OpenAI's chat completions form."""
    body = item.get(kind)
    if kind == "image_url":
        url = body.get("url") if isinstance(body, Mapping) else body
        return image_part(url, label)
    if kind == "input_audio" and isinstance(body, Mapping):
        audio_format = body.get("format")
        mime = {"wav": "audio/wav", "mp3": "audio/mpeg"}.get(str(audio_format))
        return audio_part(body.get("data"), label, mime_type=mime)
    if kind == "file" and isinstance(body, Mapping):
        part = document_part(body.get("file_data"), label)
        name = body.get("filename")
        return part.model_copy(update={"name": name}) if isinstance(name, str) else part
    raise RequestBindingError(
        f"{label} has type {kind!r}; expected text, image, audio, document, image_url, "
        "input_audio or file"
    )
