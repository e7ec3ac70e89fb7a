"""The arguments of an OpenAI Responses API call (``client.responses.create(stream=True)``)
for a :class:`~llm_dispatch.request.Request`.

- The system prompt is ``instructions``; each message becomes input items, in order:

  - a user or system message of text only: ``{"role", "content": <text>}``;
  - a user message with media: ``{"role": "user", "content": [<parts>]}``, each part an
    ``input_text``, ``input_image`` or ``input_file``;
  - an assistant message: each run of its text as ``{"role": "assistant", "content":
    <text>}``, each ``ToolCallPart`` as ``{"type": "function_call", "call_id", "name",
    "arguments": <JSON text>}``, in order;
  - a tool message: each ``ToolResultPart`` as ``{"type": "function_call_output",
    "call_id", "output"}``.

  An image is ``input_image`` with its URL or a ``data:`` URI of its bytes (``detail:
  "auto"``); a document is ``input_file`` with a data URI as ``file_data`` and its name (or
  ``document.pdf``) as ``filename``, or its URL as ``file_url``. The API takes no audio,
  and media only in user messages: such a part raises ``BadRequestError`` naming its
  ``source``. ``ReasoningPart`` s are left out (the API takes reasoning back only as its
  own stored items, by id). The API has no error flag for a tool result: a failed tool's
  result is sent as its text, which says what went wrong.
- ``max_tokens`` → ``max_output_tokens``; ``temperature`` as is; ``stop`` is refused (the
  API has no stop sequences); ``response_format`` → ``text={"format": ...}`` (a chat-style
  ``json_schema`` format is flattened, and named ``response`` when it gives no name).
- Tools → ``{"type": "function", "name", "description", "parameters", "strict": false}``
  (``strict`` is off, as in chat completions: a strict schema must list every property as
  required); ``tool_choice`` ``auto`` / ``none`` / ``required`` as is, a tool's name as
  ``{"type": "function", "name": ...}``.
- ``reasoning`` → ``{"effort": ..., "summary": "auto"}``; a ``budget_tokens`` without an
  effort picks one (≤ 4096: low, ≤ 16384: medium, else high).
- A continuation (a trailing assistant message) follows the provider's continuation mode:
  ``instruction`` adds the user message that asks the model to go on, ``prefill`` sends the
  partial answer as it is; ``continue_final_message`` (a chat-template flag) is refused.
- Options: ``top_p``, ``user``, ``service_tier``, ``metadata``, ``store``,
  ``top_logprobs`` as the keyword arguments of the same name, ``reasoning_effort`` as
  ``reasoning.effort``, and ``extra_body`` / ``extra_headers`` / ``extra_query`` as in chat
  completions; the other OpenAI options (:data:`CHAT_ONLY_OPTIONS`) are refused.

Every refusal is a ``BadRequestError`` raised before anything is sent.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from ..content import (
    AudioPart,
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
from .base import ProviderSettings
from .options import (
    OPENAI_OPTIONS,
    RESPONSES_OPTIONS,
    check_options,
    extra_body,
    mapping_option,
    request_error,
)
from .parts import data_uri, media_content, part_error, text_only

__all__ = ["CHAT_ONLY_OPTIONS", "RESPONSES_OPTIONS", "effort_for_budget", "responses_kwargs"]

#: Options passed to ``responses.create`` as the keyword argument of the same name.
_ARGUMENT_OPTIONS = frozenset(
    {"top_p", "user", "service_tier", "metadata", "store", "top_logprobs"}
)
#: OpenAI options of chat completions that the Responses API has no field for.
CHAT_ONLY_OPTIONS = OPENAI_OPTIONS - RESPONSES_OPTIONS

# The file name sent with a document that has none (the API asks for one).
_DOCUMENT_NAME = "document.pdf"
# The name of a JSON schema format that gives none (the API asks for one).
_SCHEMA_NAME = "response"
# Reasoning budgets (tokens) up to which each effort is picked, in order.
_BUDGET_EFFORTS = ((4096, "low"), (16384, "medium"))


def responses_kwargs(request: Request, model: str, settings: ProviderSettings) -> dict[str, Any]:
    """The arguments of ``responses.create`` for ``request`` on ``model``."""
    options = _check_options(settings, model, request.options)
    if request.stop:
        raise request_error(
            settings, model, "the OpenAI Responses API takes no stop sequences (stop=...)"
        )
    items: list[dict[str, Any]] = []
    for message in request.messages:
        items.extend(_items(message, settings, model))
    if request.is_continuation:
        items.extend(_continuation(settings, model))
    kwargs: dict[str, Any] = {"model": model, "input": items, "stream": True}
    if request.system:
        kwargs["instructions"] = request.system
    if request.temperature is not None:
        kwargs["temperature"] = request.temperature
    if request.max_tokens is not None:
        kwargs["max_output_tokens"] = request.max_tokens
    if request.response_format is not None:
        kwargs["text"] = {"format": _text_format(settings, model, request.response_format)}
    if request.tools:
        kwargs["tools"] = [_tool(tool) for tool in request.tools]
    if request.tool_choice is not None:
        kwargs["tool_choice"] = _tool_choice(request.tool_choice)
    reasoning = _reasoning(settings, model, request.reasoning, options.get("reasoning_effort"))
    if reasoning is not None:
        kwargs["reasoning"] = reasoning
    kwargs.update((name, options[name]) for name in _ARGUMENT_OPTIONS if name in options)
    body = extra_body(settings, model, options, {}, kwargs.items())
    if body is not None:
        kwargs["extra_body"] = body
    for name in ("extra_headers", "extra_query"):
        value = mapping_option(settings, model, options, name, text=name == "extra_headers")
        if value is not None:
            kwargs[name] = value
    return kwargs


def _check_options(
    settings: ProviderSettings, model: str, given: Mapping[str, Any]
) -> dict[str, Any]:
    """The options to apply: :func:`check_options`, then the chat-only ones refused."""
    options = check_options(settings, model, given)
    refused = sorted(set(options) & CHAT_ONLY_OPTIONS)
    if refused:
        names = ", ".join(repr(name) for name in refused)
        applied = ", ".join(sorted(RESPONSES_OPTIONS))
        raise request_error(
            settings,
            model,
            f"provider option {names} is not applied by the OpenAI Responses API, which "
            f"{model!r} is sent to (the options it applies: {applied})",
        )
    return options


# -- messages -------------------------------------------------------------------------------


def _items(message: Message, settings: ProviderSettings, model: str) -> list[dict[str, Any]]:
    """The input items of one message (see the module docstring)."""
    content = message.content
    if isinstance(content, str):
        return [{"role": message.role, "content": content}]
    parts = [p for p in content if not isinstance(p, ReasoningPart)]
    if message.role == "tool":
        return [_tool_output(p) for p in parts if isinstance(p, ToolResultPart)]
    if message.role == "assistant":
        return _assistant_items(parts, settings, model)
    if text_only(parts):
        return [{"role": message.role, "content": text_of(tuple(parts))}]
    return [
        {"role": message.role, "content": [_part(p, settings, model, message.role) for p in parts]}
    ]


def _assistant_items(
    parts: Sequence[Part], settings: ProviderSettings, model: str
) -> list[dict[str, Any]]:
    """An assistant turn: runs of text as assistant messages, tool calls as
    ``function_call`` items, in order."""
    items: list[dict[str, Any]] = []
    texts: list[str] = []
    for part in parts:
        if isinstance(part, TextPart):
            texts.append(part.text)
            continue
        if isinstance(part, ToolResultPart | ReasoningPart):
            continue  # kept out of assistant turns by Message; reasoning is left out
        if not isinstance(part, ToolCallPart):
            raise part_error(
                settings, model, part, "the Responses API takes media in user messages only"
            )
        if texts:
            items.append({"role": "assistant", "content": "\n\n".join(texts)})
            texts = []
        items.append(_function_call(part))
    if texts:
        items.append({"role": "assistant", "content": "\n\n".join(texts)})
    return items


def _function_call(part: ToolCallPart) -> dict[str, Any]:
    return {
        "type": "function_call",
        "call_id": part.id,
        "name": part.name,
        "arguments": json.dumps(part.arguments, ensure_ascii=False),
    }


def _tool_output(part: ToolResultPart) -> dict[str, Any]:
    return {"type": "function_call_output", "call_id": part.tool_call_id, "output": part.content}


def _part(part: Part, settings: ProviderSettings, model: str, role: str) -> dict[str, Any]:
    """One content part of a user message."""
    if isinstance(part, TextPart):
        return {"type": "input_text", "text": part.text}
    if isinstance(part, ToolCallPart | ToolResultPart | ReasoningPart):
        # The Message validator keeps these out of user and system turns.
        raise request_error(settings, model, f"a {part.type} part cannot be in a {role} message")
    if role != "user":
        raise part_error(
            settings, model, part, "the Responses API takes media in user messages only"
        )
    if isinstance(part, AudioPart):
        raise part_error(
            settings, model, part, "the Responses API takes no audio input (input_audio)"
        )
    content = media_content(settings, model, part)
    if isinstance(part, ImagePart):
        url = data_uri(part.mime_type, content) if isinstance(content, bytes) else content
        return {"type": "input_image", "image_url": url, "detail": "auto"}
    if isinstance(content, str):
        return {"type": "input_file", "file_url": content}
    return {
        "type": "input_file",
        "file_data": data_uri(part.mime_type, content),
        "filename": part.name or _DOCUMENT_NAME,
    }


def _continuation(settings: ProviderSettings, model: str) -> list[dict[str, Any]]:
    """What follows the partial answer of a continuation, by the continuation mode."""
    mode = settings.continuation_mode
    if mode == "instruction":
        return [{"role": "user", "content": settings.continue_instruction}]
    if mode == "continue_final_message":
        raise request_error(
            settings,
            model,
            "continuation 'continue_final_message' is a chat-completions flag; the OpenAI "
            "Responses API cannot continue with it (use 'instruction' or 'prefill')",
        )
    return []


# -- generation settings --------------------------------------------------------------------


def _text_format(
    settings: ProviderSettings, model: str, response_format: Mapping[str, Any]
) -> dict[str, Any]:
    """``response_format`` (chat completions' form, or the Responses API's) as
    ``text.format``."""
    kind = response_format.get("type")
    if kind in ("text", "json_object"):
        return {"type": kind}
    if kind == "json_schema":
        spec = response_format.get("json_schema")
        fmt = (
            {"type": "json_schema", **spec} if isinstance(spec, Mapping) else dict(response_format)
        )
        if not isinstance(fmt.get("schema"), Mapping):
            raise request_error(
                settings, model, "response_format of type 'json_schema' needs a 'schema' object"
            )
        fmt.setdefault("name", _SCHEMA_NAME)
        return fmt
    raise request_error(
        settings,
        model,
        f"response_format type {kind!r} is not one the OpenAI Responses API takes "
        "(text, json_object, json_schema)",
    )


def _tool(tool: Tool) -> dict[str, Any]:
    spec: dict[str, Any] = {"type": "function", "name": tool.name}
    if tool.description:
        spec["description"] = tool.description
    spec["parameters"] = tool.parameters
    spec["strict"] = False
    return spec


def _tool_choice(choice: str) -> str | dict[str, str]:
    return choice if choice in TOOL_CHOICES else {"type": "function", "name": choice}


def effort_for_budget(budget_tokens: int) -> str:
    """The reasoning effort that stands for a token budget."""
    for limit, effort in _BUDGET_EFFORTS:
        if budget_tokens <= limit:
            return effort
    return "high"


def _reasoning(
    settings: ProviderSettings, model: str, reasoning: Reasoning | None, option: Any
) -> dict[str, Any] | None:
    """``reasoning`` of the call, from ``Request.reasoning`` and the ``reasoning_effort``
    option (which must agree when both are set)."""
    effort: str | None = None
    if reasoning is not None:
        effort = reasoning.effort
        if effort is None and reasoning.budget_tokens is not None:
            effort = effort_for_budget(reasoning.budget_tokens)
    if option is not None:
        if effort is not None and option != effort:
            raise request_error(
                settings,
                model,
                f"provider option 'reasoning_effort' ({option!r}) disagrees with the "
                f"request's reasoning (effort {effort!r})",
            )
        if reasoning is None:
            return {"effort": option}
    if effort is None:
        return None
    return {"effort": effort, "summary": "auto"}
