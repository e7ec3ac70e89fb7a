"""The chat-completions form of a request's messages, tools and reasoning setting.

Used by :mod:`.openai` to build the arguments of ``chat.completions.create``:

- :func:`chat_messages`: the system prompt as a first ``system`` message, then every
  message in order. A message of text only is a string content; a user message with media
  is a list of content parts. An assistant turn with tool calls is one message with
  ``tool_calls`` (its text as ``content``, or None); a ``tool`` turn is one ``tool``
  message per result. Reasoning parts are left out: chat completions take no reasoning
  back.
- :func:`tool_arguments`: ``tools`` and ``tool_choice``.
- :func:`reasoning_effort`: ``Request.reasoning`` as a ``reasoning_effort``.

Whatever cannot be sent raises ``BadRequestError`` before anything is sent.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..content import (
    AudioPart,
    DocumentPart,
    ImagePart,
    Part,
    ReasoningPart,
    TextPart,
    ToolCallPart,
    ToolResultPart,
    text_of,
)
from ..request import Message, Reasoning, Request
from ..tools import TOOL_CHOICES, Tool
from .options import request_error
from .parts import base64_text, data_uri, media_content, part_error, text_only

if TYPE_CHECKING:
    from .base import ProviderSettings

__all__ = [
    "EFFORT_BUDGETS",
    "TOOL_ERROR_PREFIX",
    "chat_messages",
    "effort_for_budget",
    "reasoning_effort",
    "tool_arguments",
]

#: What a failed tool's result content starts with (chat completions have no error flag).
TOOL_ERROR_PREFIX = "Error: "

#: The largest ``budget_tokens`` each effort stands for; a larger budget is ``high``.
EFFORT_BUDGETS: tuple[tuple[int, str], ...] = ((4096, "low"), (16384, "medium"))

# The file name sent with a document that has none (the API asks for one).
_DOCUMENT_NAME = "document.pdf"


# -- messages ---------------------------------------------------------------------------------


def chat_messages(request: Request, settings: ProviderSettings, model: str) -> list[dict[str, Any]]:
    """Every message of ``request`` as chat messages, the system prompt first."""
    messages: list[dict[str, Any]] = []
    if request.system:
        messages.append({"role": "system", "content": request.system})
    for message in request.messages:
        messages.extend(_messages(message, settings, model))
    return messages


def _messages(message: Message, settings: ProviderSettings, model: str) -> list[dict[str, Any]]:
    """``message`` as chat messages: one, or one per tool result of a ``tool`` turn."""
    content = message.content
    if isinstance(content, str):
        return [{"role": message.role, "content": content}]
    if message.role == "tool":
        return [_tool_result(p) for p in content if isinstance(p, ToolResultPart)]
    kept = tuple(p for p in content if not isinstance(p, ReasoningPart))
    if message.role == "assistant" and message.tool_calls:
        return [_assistant_with_calls(kept, settings, model)]
    if text_only(kept):
        return [{"role": message.role, "content": text_of(kept)}]
    return [
        {"role": message.role, "content": [_part(p, settings, model, message.role) for p in kept]}
    ]


def _assistant_with_calls(
    parts: tuple[Part, ...], settings: ProviderSettings, model: str
) -> dict[str, Any]:
    """An assistant turn that called tools: its text (None without any) and its calls."""
    calls: list[dict[str, Any]] = []
    for part in parts:
        if isinstance(part, ToolCallPart):
            calls.append(_tool_call(part))
        elif not isinstance(part, TextPart):
            _part(part, settings, model, "assistant")  # raises: assistant turns take text only
    text = text_of(tuple(p for p in parts if isinstance(p, TextPart)))
    return {"role": "assistant", "content": text or None, "tool_calls": calls}


def _tool_call(part: ToolCallPart) -> dict[str, Any]:
    """A call of an assistant turn; its arguments as JSON text. A signature (Gemini's) is
    left out: chat completions have no field for it."""
    arguments = json.dumps(part.arguments, ensure_ascii=False, separators=(",", ":"))
    return {
        "id": part.id,
        "type": "function",
        "function": {"name": part.name, "arguments": arguments},
    }


def _tool_result(part: ToolResultPart) -> dict[str, Any]:
    """One ``tool`` message; a failed tool's content starts with :data:`TOOL_ERROR_PREFIX`."""
    content = f"{TOOL_ERROR_PREFIX}{part.content}" if part.is_error else part.content
    return {"role": "tool", "tool_call_id": part.tool_call_id, "content": content}


def _part(part: Part, settings: ProviderSettings, model: str, role: str) -> dict[str, Any]:
    """One content part of a chat message (only user messages may hold media)."""
    if isinstance(part, TextPart):
        return {"type": "text", "text": part.text}
    if not isinstance(part, (ImagePart, AudioPart, DocumentPart)):
        raise request_error(
            settings, model, f"a {part.type} part cannot be sent in a {role} message"
        )
    if role != "user":
        raise part_error(settings, model, part, "chat completions take media in user messages only")
    content = media_content(settings, model, part)
    if isinstance(part, ImagePart):
        url = data_uri(part.mime_type, content) if isinstance(content, bytes) else content
        return {"type": "image_url", "image_url": {"url": url}}
    if not isinstance(content, bytes):
        raise part_error(
            settings, model, part, f"chat completions take {part.type} as bytes, not a URL"
        )
    if isinstance(part, AudioPart):
        return {
            "type": "input_audio",
            "input_audio": {"data": base64_text(content), "format": part.format},
        }
    return {
        "type": "file",
        "file": {
            "file_data": data_uri(part.mime_type, content),
            "filename": part.name or _DOCUMENT_NAME,
        },
    }


# -- tools ------------------------------------------------------------------------------------


def tool_arguments(request: Request, settings: ProviderSettings, model: str) -> dict[str, Any]:
    """``tools`` and ``tool_choice`` for ``request`` (empty when it offers no tools).

    ``tool_choice="none"`` without tools is left out (the API takes a choice only with
    tools, and without tools none is called); any other choice needs tools.
    """
    choice = request.tool_choice
    if not request.tools:
        if choice is None or choice == "none":
            return {}
        raise request_error(settings, model, f"tool_choice={choice!r} needs tools")
    arguments: dict[str, Any] = {"tools": [_tool(t) for t in request.tools]}
    if choice is not None:
        arguments["tool_choice"] = _tool_choice(choice, request.tools, settings, model)
    return arguments


def _tool(tool: Tool) -> dict[str, Any]:
    function: dict[str, Any] = {"name": tool.name}
    if tool.description:
        function["description"] = tool.description
    function["parameters"] = tool.parameters
    return {"type": "function", "function": function}


def _tool_choice(
    choice: str, tools: tuple[Tool, ...], settings: ProviderSettings, model: str
) -> str | dict[str, Any]:
    """``auto`` / ``none`` / ``required`` as they are; a tool's name as a named choice."""
    if choice in TOOL_CHOICES:
        return choice
    if choice not in {t.name for t in tools}:
        names = ", ".join(repr(t.name) for t in tools)
        raise request_error(
            settings, model, f"tool_choice={choice!r} names no tool of the request ({names})"
        )
    return {"type": "function", "function": {"name": choice}}


# -- reasoning --------------------------------------------------------------------------------


def effort_for_budget(budget_tokens: int) -> str:
    """The effort a token budget stands for: ≤ 4096 ``low``, ≤ 16384 ``medium``, else
    ``high``."""
    for limit, effort in EFFORT_BUDGETS:
        if budget_tokens <= limit:
            return effort
    return "high"


def reasoning_effort(
    reasoning: Reasoning | None,
    options: Mapping[str, Any],
    settings: ProviderSettings,
    model: str,
) -> str | None:
    """The ``reasoning_effort`` ``reasoning`` asks for (its effort, else the effort of its
    budget), or None without one. A ``reasoning_effort`` option that says otherwise is
    refused."""
    if reasoning is None:
        return None
    effort: str
    if reasoning.effort is not None:
        effort = reasoning.effort
    elif reasoning.budget_tokens is not None:
        effort = effort_for_budget(reasoning.budget_tokens)
    else:
        return None
    option = options.get("reasoning_effort")
    if option is not None and option != effort:
        raise request_error(
            settings,
            model,
            f"provider option reasoning_effort={option!r} contradicts the request's reasoning "
            f"(reasoning_effort {effort!r}): set one of them",
        )
    return effort
