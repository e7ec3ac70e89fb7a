"""The arguments of an Anthropic ``messages.create`` call, built from a :class:`Request`.

- ``max_tokens`` is required by the API: ``request.max_tokens`` or
  :data:`DEFAULT_MAX_TOKENS`; with thinking, see :func:`thinking_config`.
- ``temperature`` is no longer a parameter of ``messages.create`` in this SDK generation; the
  API still accepts it, so it travels in ``extra_body`` (only when the request sets one).
- Messages (:func:`wire_messages`): a message that holds only text is sent as a string;
  otherwise its content is a list of blocks. An assistant turn sends its Anthropic thinking
  first, then its parts in order: text → ``text``, a tool call → ``tool_use`` ``{id, name,
  input}``, an image → ``image`` and a document → ``document`` (a ``base64`` or a ``url``
  source). A ``tool`` turn is a ``user`` message of ``tool_result`` ``{tool_use_id,
  content, is_error}`` blocks; the API wants user and assistant turns to alternate, so
  consecutive tool turns, and a user turn right after them, are merged into that one user
  message (the results first). Anthropic takes no audio: an audio part raises
  ``BadRequestError`` naming its ``source``, before anything is sent.
- Reasoning parts: one whose ``provider_kind`` is ``anthropic`` (or a cloud kind of it:
  ``anthropic_vertex``, ``anthropic_bedrock``), or None with a signature,
  is a ``thinking`` ``{thinking, signature}`` block; others (another kind's reasoning, or
  reasoning without the signature the API verifies) are left out.
- Tools: ``tools=[{"name", "description", "input_schema"}]`` (no ``description`` when it is
  empty); ``tool_choice`` auto → ``{"type": "auto"}``, none → ``{"type": "none"}``,
  required → ``{"type": "any"}``, a tool's name → ``{"type": "tool", "name": ...}``.
  ``none`` without tools sends nothing (there is no tool to call).
- A trailing assistant message is sent as is: Anthropic continues it (prefill). The API
  rejects a prefill that ends in whitespace, so it is sent trimmed, and the stream drops the
  whitespace the continuation starts with (:attr:`MessagesCall.trims_leading_space`).
- JSON mode: a ``json_schema`` response format uses the SDK's native structured output,
  ``output_config={"format": {"type": "json_schema", "schema": ...}}``. Native structured
  output needs a schema, so plain ``json_object`` mode adds a system instruction asking for
  a single JSON object and nothing else.
- Options (:data:`~.options.ANTHROPIC_OPTIONS`): ``metadata``, ``service_tier``,
  ``cache_control`` and ``extra_headers`` / ``extra_query`` are ``messages.create`` keyword
  arguments; ``top_p`` and ``top_k``, like ``temperature``, travel in ``extra_body``, with
  which the ``extra_body`` option is merged (see :mod:`.options`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

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
from ..request import Message, Request
from ..tools import Tool
from .anthropic_thinking import thinking_config
from .kinds import base_kind
from .options import ANTHROPIC_OPTIONS, check_options, extra_body, mapping_option, request_error
from .parts import base64_text, media_content, part_error, text_only

if TYPE_CHECKING:
    from .base import ProviderSettings

__all__ = ["DEFAULT_MAX_TOKENS", "JSON_INSTRUCTION", "MessagesCall", "messages_call"]

DEFAULT_MAX_TOKENS = 4096
JSON_INSTRUCTION = (
    "Respond with a single valid JSON object and nothing else: no prose, no code fences."
)

# Options sent as body fields of the same name in extra_body (no messages.create argument
# takes them), and the ones passed as the keyword argument of the same name.
_BODY_OPTIONS = frozenset({"top_p", "top_k"})
_MAPPING_OPTIONS = ("extra_body", "extra_headers", "extra_query", "cache_control")
_ARGUMENT_OPTIONS = ANTHROPIC_OPTIONS - _BODY_OPTIONS - set(_MAPPING_OPTIONS)
_TOOL_CHOICES = {"auto": {"type": "auto"}, "none": {"type": "none"}, "required": {"type": "any"}}


class MessagesCall(NamedTuple):
    """The keyword arguments of ``messages.create``, and whether the stream must drop the
    leading whitespace of the answer (a prefill that lost its trailing whitespace: the
    consumer already has it)."""

    kwargs: dict[str, Any]
    trims_leading_space: bool


def messages_call(request: Request, model: str, settings: ProviderSettings) -> MessagesCall:
    """The ``messages.create`` call for ``request``; a request this provider cannot send
    raises ``BadRequestError`` naming what and why."""
    options = check_options(settings, model, request.options)
    thinking = thinking_config(request, options, settings, model)
    messages = wire_messages(request.messages, settings, model)
    kwargs: dict[str, Any] = {
        "model": model,
        "max_tokens": _max_tokens(request, thinking),
        "messages": messages,
        "stream": True,
    }
    if thinking is not None:
        kwargs["thinking"] = thinking
    trims = _continue(request, messages, settings, model, thinking_on=thinking is not None)
    _add_system_and_format(kwargs, request)
    if request.stop:
        kwargs["stop_sequences"] = list(request.stop)
    _add_tools(kwargs, request.tools, request.tool_choice)
    _add_options(kwargs, request, options, settings, model)
    return MessagesCall(kwargs, trims)


def _max_tokens(request: Request, thinking: dict[str, Any] | None) -> int:
    """``max_tokens``: the request's or the default; with thinking, whose budget is part
    of it and must be smaller, the budget plus that when it is not."""
    answer = request.max_tokens or DEFAULT_MAX_TOKENS
    if thinking is None or answer > thinking["budget_tokens"]:
        return answer
    return int(thinking["budget_tokens"]) + answer


def _add_options(
    kwargs: dict[str, Any],
    request: Request,
    options: dict[str, Any],
    settings: ProviderSettings,
    model: str,
) -> None:
    """The options as keyword arguments, and the body fields this SDK generation has no
    argument for (``temperature``, ``top_p``, ``top_k``) in ``extra_body``."""
    kwargs.update((name, options[name]) for name in _ARGUMENT_OPTIONS if name in options)
    cache_control = mapping_option(settings, model, options, "cache_control")
    if cache_control is not None:
        kwargs["cache_control"] = cache_control
    own_body: dict[str, Any] = {}
    if request.temperature is not None:
        own_body["temperature"] = request.temperature
    own_body.update((name, options[name]) for name in _BODY_OPTIONS if name in options)
    body = extra_body(settings, model, options, own_body, kwargs.items())
    if body is not None:
        kwargs["extra_body"] = body
    for name in ("extra_headers", "extra_query"):
        value = mapping_option(settings, model, options, name, text=name == "extra_headers")
        if value is not None:
            kwargs[name] = value


def _continue(
    request: Request,
    messages: list[dict[str, Any]],
    settings: ProviderSettings,
    model: str,
    *,
    thinking_on: bool,
) -> bool:
    """Shape a continuation request's messages; whether the stream must trim the answer's
    leading whitespace. The API takes no prefill while thinking: a continuation then asks
    with the instruction, unless the configuration insists on ``prefill``."""
    if not request.is_continuation:
        return False
    mode = settings.continuation_mode
    if thinking_on and mode == "prefill":
        if settings.continuation == "prefill":
            raise request_error(
                settings,
                model,
                "cannot continue with a prefill while thinking (reasoning) is on: the API "
                "takes no assistant prefill then; configure continuation: instruction",
            )
        mode = "instruction"
    if mode == "instruction":
        messages.append({"role": "user", "content": settings.continue_instruction})
        return False
    tail = _trailing_text(messages[-1])
    _trim_prefill(messages[-1])
    return tail != tail.rstrip()


def _add_system_and_format(kwargs: dict[str, Any], request: Request) -> None:
    """The system prompt, and JSON mode (native structured output, or an instruction)."""
    schema, json_only = _json_format(request.response_format)
    system = request.system
    if json_only:
        system = f"{system}\n\n{JSON_INSTRUCTION}" if system else JSON_INSTRUCTION
    if system:
        kwargs["system"] = system
    if schema is not None:
        kwargs["output_config"] = {"format": {"type": "json_schema", "schema": schema}}


def _add_tools(kwargs: dict[str, Any], tools: Sequence[Tool], choice: str | None) -> None:
    """``tools`` and ``tool_choice``, when the request has them."""
    if tools:
        kwargs["tools"] = [_tool(tool) for tool in tools]
    if choice is None or (choice == "none" and not tools):
        return
    kwargs["tool_choice"] = _TOOL_CHOICES.get(choice) or {"type": "tool", "name": choice}


def _tool(tool: Tool) -> dict[str, Any]:
    spec: dict[str, Any] = {"name": tool.name}
    if tool.description:
        spec["description"] = tool.description
    spec["input_schema"] = tool.parameters
    return spec


# -- messages --------------------------------------------------------------------------------


def wire_messages(
    messages: Sequence[Message], settings: ProviderSettings, model: str
) -> list[dict[str, Any]]:
    """The message params of ``messages``: tool turns become user messages of tool
    results, merged with the tool turns and the user turn that follow them."""
    sent: list[dict[str, Any]] = []
    merging = False
    for message in messages:
        param = _message(message, settings, model)
        if merging and message.role in ("tool", "user"):
            sent[-1]["content"].extend(_blocks_of(param["content"]))
        else:
            sent.append(param)
        merging = message.role == "tool"
    return sent


def _message(message: Message, settings: ProviderSettings, model: str) -> dict[str, Any]:
    """``message`` as a message param: a string content when it holds only text, else a
    list of content blocks in order (an assistant's thinking first)."""
    role = "user" if message.role == "tool" else message.role
    content = message.content
    if isinstance(content, str):
        return {"role": role, "content": content}
    sendable = _sendable_parts(message.role, content, settings, model)
    if text_only(sendable):
        return {"role": role, "content": text_of(sendable)}
    return {"role": role, "content": [_block(p, settings, model) for p in sendable]}


def _sendable_parts(
    role: str, content: tuple[Part, ...], settings: ProviderSettings, model: str
) -> tuple[Part, ...]:
    """The parts of a ``role`` turn to send: Anthropic thinking first, other reasoning left
    out; thinking outside an assistant turn is refused."""
    thinking = tuple(p for p in content if isinstance(p, ReasoningPart) and _ours(p))
    if thinking and role != "assistant":
        raise request_error(
            settings,
            model,
            f"cannot send reasoning in a {role} turn: Anthropic thinking blocks belong in "
            "assistant turns",
        )
    rest = tuple(p for p in content if not isinstance(p, ReasoningPart))
    return (*thinking, *rest)


def _ours(part: ReasoningPart) -> bool:
    """Whether ``part`` is Anthropic thinking the API can verify (it has its signature)."""
    kind = part.provider_kind
    return part.signature is not None and (kind is None or base_kind(kind) == "anthropic")


def _blocks_of(content: str | list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"type": "text", "text": content}] if isinstance(content, str) else content


def _block(part: Part, settings: ProviderSettings, model: str) -> dict[str, Any]:
    """One content block."""
    if isinstance(part, TextPart):
        return {"type": "text", "text": part.text}
    if isinstance(part, ToolCallPart):
        return {"type": "tool_use", "id": part.id, "name": part.name, "input": part.arguments}
    if isinstance(part, ToolResultPart):
        return {
            "type": "tool_result",
            "tool_use_id": part.tool_call_id,
            "content": part.content,
            "is_error": part.is_error,
        }
    if isinstance(part, ReasoningPart):
        return {"type": "thinking", "thinking": part.text, "signature": part.signature}
    if isinstance(part, AudioPart):
        raise part_error(settings, model, part, "Anthropic messages take no audio")
    content = media_content(settings, model, part)
    if isinstance(content, bytes):
        source = {"type": "base64", "media_type": part.mime_type, "data": base64_text(content)}
    else:
        source = {"type": "url", "url": content}
    return {"type": "image" if isinstance(part, ImagePart) else "document", "source": source}


def _trim_prefill(message: dict[str, Any]) -> None:
    """Strip the trailing whitespace of a prefill message (its last block, when a list)."""
    content = message["content"]
    if isinstance(content, str):
        message["content"] = content.rstrip()
    elif content and content[-1]["type"] == "text":
        content[-1] = {**content[-1], "text": content[-1]["text"].rstrip()}


def _trailing_text(message: dict[str, Any]) -> str:
    """The text a message param ends with: all of it, or its last block when that is text
    (what :func:`_trim_prefill` strips)."""
    content = message["content"]
    if isinstance(content, str):
        return content
    return str(content[-1]["text"]) if content and content[-1]["type"] == "text" else ""


def _json_format(response_format: dict[str, Any] | None) -> tuple[dict[str, Any] | None, bool]:
    """(JSON schema for native structured output, whether plain JSON mode was asked for)."""
    if not response_format:
        return None, False
    kind = response_format.get("type")
    if kind == "json_schema":
        spec = response_format.get("json_schema") or {}
        schema = spec.get("schema") if isinstance(spec, dict) else None
        schema = schema or response_format.get("schema")
        if isinstance(schema, dict):
            return schema, False
        return None, True
    return None, kind == "json_object"
