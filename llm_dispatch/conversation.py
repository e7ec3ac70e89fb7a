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

from pydantic import BaseModel, ValidationError

from .content import (
    AudioPart,
    Content,
    DocumentPart,
    ImagePart,
    Part,
    ReasoningPart,
    TextPart,
    ToolCallPart,
    ToolResultPart,
    text_of,
)
from .errors import RequestBindingError
from .media import audio_part, document_part, image_part
from .request import Message
from .tools import ToolArgumentsError, parse_arguments

__all__ = ["coerce_messages", "message_content"]

_ROLES = ("system", "user", "assistant", "tool")
_MEDIA_READERS: dict[str, Callable[..., Part]] = {
    "image": image_part, "audio": audio_part, "document": document_part,
}  # fmt: skip
_BUILT_PARTS = (
    TextPart, ImagePart, AudioPart, DocumentPart, ToolCallPart, ToolResultPart, ReasoningPart,
)  # fmt: skip


def coerce_messages(
    value: Any, where: str, name: str = "messages"
) -> tuple[tuple[Message, ...], str | None]:
    """The turns ``value`` holds, and the system prompt among them (None when none)."""
    if not isinstance(value, Sequence) or isinstance(value, str | bytes):
        raise RequestBindingError(f"{where}: {name!r} must be a list of role/content dicts")
    system_parts: list[str] = []
    turns: list[Message] = []
    tool_names: dict[str, str] = {}  # the tool each call id called, for results that omit it
    for i, item in enumerate(value):
        label = f"{name}[{i}]"
        for message in _turns(item, label, where, tool_names):
            if message.role == "system":
                system_parts.append(message.text)
            else:
                turns.append(message)
                tool_names.update((c.id, c.name) for c in message.tool_calls)
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


def _turns(item: Any, label: str, where: str, tool_names: Mapping[str, str]) -> list[Message]:
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
    calls = data.get("tool_calls") if isinstance(data, Mapping) else None
    if not isinstance(data, Mapping) or "role" not in data or ("content" not in data and not calls):
        raise RequestBindingError(
            f"{where}: {label} must be a dict with 'role' and 'content' "
            "(or a (user, assistant) pair of strings)"
        )
    role = data["role"]
    if role not in _ROLES:
        raise RequestBindingError(
            f"{where}: {label} has role {role!r}; expected 'system', 'user', 'assistant' or 'tool'"
        )
    if role == "tool" and "tool_call_id" in data:
        return [Message(role="tool", content=(_openai_result(data, label, where, tool_names),))]
    if calls:
        return [_with_tool_calls(data, calls, label, where)]
    content = message_content(data["content"], label, where)
    if role == "system" and not isinstance(content, str):
        if not all(isinstance(p, TextPart) for p in content):
            raise RequestBindingError(f"{where}: {label} is a system turn with media")
        content = "\n\n".join(p.text for p in content if isinstance(p, TextPart))
    try:
        return [Message(role=role, content=content)]
    except ValidationError as exc:
        detail = "; ".join(e["msg"].removeprefix("Value error, ") for e in exc.errors())
        raise RequestBindingError(f"{where}: {label}: {detail}") from None


def _openai_result(
    data: Mapping[str, Any], label: str, where: str, tool_names: Mapping[str, str]
) -> ToolResultPart:
    """A ``{"role": "tool", "tool_call_id", "content"}`` message's result."""
    call_id = data["tool_call_id"]
    name = data.get("name") or tool_names.get(call_id)
    if not isinstance(call_id, str) or not call_id or not name:
        raise RequestBindingError(
            f"{where}: {label} answers tool call {call_id!r}, which no earlier assistant "
            "turn made; give its 'name'"
        )
    content = data.get("content")
    if isinstance(content, str):
        text = content
    else:
        parts = message_content(content, label, where)
        others = [] if isinstance(parts, str) else [p.type for p in parts if p.type != "text"]
        if others:
            # A tool result is text: a part of another kind would be lost on the way.
            raise RequestBindingError(
                f"{where}: {label}.content holds a part of type {others[0]!r}; a tool result "
                "is text (send media in a user turn)"
            )
        text = text_of(parts)
    return ToolResultPart(
        tool_call_id=call_id, name=name, content=text, is_error=bool(data.get("is_error"))
    )


def _with_tool_calls(data: Mapping[str, Any], calls: Any, label: str, where: str) -> Message:
    """An assistant message in OpenAI's form: its text, and its ``tool_calls``."""
    if data["role"] != "assistant" or not isinstance(calls, Sequence):
        raise RequestBindingError(f"{where}: {label}: only an assistant turn has tool_calls")
    content = data.get("content")
    parts: list[Part] = []
    if content:
        text = message_content(content, label, where)
        parts.extend((TextPart(text=text),) if isinstance(text, str) else text)
    for j, call in enumerate(calls):
        function = call.get("function") if isinstance(call, Mapping) else None
        if not isinstance(function, Mapping) or not call.get("id") or not function.get("name"):
            raise RequestBindingError(
                f"{where}: {label}.tool_calls[{j}] needs an 'id' and a function 'name'"
            )
        parts.append(
            ToolCallPart(
                id=call["id"],
                name=function["name"],
                arguments=_arguments(function.get("arguments"), f"{label}.tool_calls[{j}]", where),
            )
        )
    return Message(role="assistant", content=tuple(parts))


def _arguments(value: Any, label: str, where: str) -> dict[str, Any]:
    if isinstance(value, Mapping):
        return dict(value)
    try:
        return parse_arguments(value if isinstance(value, str) else "")
    except ToolArgumentsError as exc:
        raise RequestBindingError(f"{where}: {label}: {exc}") from None


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
        if kind in ("tool_call", "tool_result", "reasoning"):
            return _tool_part(kind, item, label)
        if kind in _MEDIA_READERS:
            if kind not in item:
                raise RequestBindingError(f"{label}: an {kind} part holds it under {kind!r}")
            return _MEDIA_READERS[kind](item[kind], label, mime_type=item.get("mime_type"))
        return _openai_part(kind, item, label)
    except RequestBindingError as exc:
        raise RequestBindingError(f"{where}: {exc}") from None


def _tool_part(kind: str, item: Mapping[str, Any], label: str) -> Part:
    """A tool call, tool result or reasoning part written as a dict of its fields."""
    fields = {k: v for k, v in item.items() if k != "type"}
    if kind == "tool_call":
        fields["arguments"] = _arguments(fields.get("arguments"), label, "")
    model: type[ToolCallPart | ToolResultPart | ReasoningPart] = (
        ToolCallPart
        if kind == "tool_call"
        else ToolResultPart
        if kind == "tool_result"
        else ReasoningPart
    )
    try:
        return model.model_validate(fields)
    except ValidationError as exc:
        detail = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise RequestBindingError(f"{label}: a {kind} part: {detail}") from None


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
