"""The body of a Gemini request: ``contents`` from the messages and their parts, and the
``GenerateContentConfig`` from the request's fields and options (see :mod:`.google` for
the mapping; tools and thinking are :mod:`.google_tools`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..content import Content, Part, ReasoningPart, TextPart, ToolCallPart, ToolResultPart, text_of
from ..request import Message, Request
from .base import ProviderSettings
from .google_tools import (
    function_call_part,
    function_response_part,
    reasoning_part,
    thinking_config,
    tool_fields,
)
from .options import GOOGLE_OPTIONS, check_options, clash_message, mapping_option, request_error
from .parts import media_content, text_only

if TYPE_CHECKING:
    from google.genai.types import GenerateContentConfig

__all__ = ["contents_of", "generation_config"]


def contents_of(request: Request, settings: ProviderSettings, model: str) -> list[dict[str, Any]]:
    """The ``contents`` of ``request``: one turn per message, in order. A ``tool`` message is
    a ``user`` turn of function responses, and consecutive ones are one turn (Gemini takes
    the answers to one turn's calls together); a turn left with no part is left out."""
    contents: list[dict[str, Any]] = []
    previous: str | None = None
    for message in request.messages:
        parts = _parts(message.content, settings, model)
        if not parts:
            continue
        if message.role == "tool" and previous == "tool":
            contents[-1]["parts"].extend(parts)
        else:
            contents.append({"role": _role(message), "parts": parts})
        previous = message.role
    if request.is_continuation:
        # Gemini answers a trailing model turn afresh: ask it to go on instead.
        contents.append({"role": "user", "parts": [{"text": settings.continue_instruction}]})
    return contents


def _role(message: Message) -> str:
    return "model" if message.role == "assistant" else "user"


def _parts(content: Content, settings: ProviderSettings, model: str) -> list[dict[str, Any]]:
    """A turn's parts: one text part when it holds only text, else each part in order
    (reasoning of another provider kind left out)."""
    if isinstance(content, str) or text_only(content):
        return [{"text": text_of(content)}]
    sent = (_part(p, settings, model) for p in content)
    return [p for p in sent if p is not None]


def _part(part: Part, settings: ProviderSettings, model: str) -> dict[str, Any] | None:
    if isinstance(part, TextPart):
        return {"text": part.text}
    if isinstance(part, ToolCallPart):
        return function_call_part(part, settings, model)
    if isinstance(part, ToolResultPart):
        return function_response_part(part)
    if isinstance(part, ReasoningPart):
        return reasoning_part(part, settings, model)
    content = media_content(settings, model, part)
    if isinstance(content, bytes):
        return {"inline_data": {"mime_type": part.mime_type, "data": content}}
    return {"file_data": {"file_uri": content, "mime_type": part.mime_type}}


def generation_config(
    request: Request, settings: ProviderSettings, model: str
) -> GenerateContentConfig:
    """The generation config for ``request``, with its options applied."""
    import pydantic
    from google.genai import types

    options = check_options(settings, model, request.options)
    # The SDK never runs a tool itself: the caller gets the calls.
    config: dict[str, Any] = {
        "automatic_continuation": False,
        "automatic_function_calling": {"disable": True},
        **tool_fields(request, settings, model),
    }
    if request.system:
        config["system_instruction"] = request.system
    if request.temperature is not None:
        config["temperature"] = request.temperature
    if request.max_tokens is not None:
        config["max_output_tokens"] = request.max_tokens
    if request.stop:
        config["stop_sequences"] = list(request.stop)
    fmt = request.response_format or {}
    if fmt.get("type") in ("json_object", "json_schema"):
        config["response_mime_type"] = "application/json"
        spec = fmt.get("json_schema")
        schema = (spec.get("schema") if isinstance(spec, dict) else None) or fmt.get("schema")
        if isinstance(schema, dict):
            config["response_json_schema"] = schema
    thinking = thinking_config(request.reasoning)
    if thinking is not None:
        config["thinking_config"] = thinking
    config.update((name, options[name]) for name in _CONFIG_OPTIONS if name in options)
    headers = mapping_option(settings, model, options, "extra_headers", text=True)
    body = mapping_option(settings, model, options, "extra_body")
    if body is not None:
        _check_extra_body(settings, model, body, config)
    if headers is not None or body is not None:
        config["http_options"] = {"headers": headers, "extra_body": body}
    try:
        return types.GenerateContentConfig(**config)
    except pydantic.ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc'])}: {error['msg']}"
            for error in exc.errors(include_url=False, include_input=False)
        )
        raise request_error(settings, model, f"invalid generation config: {problems}") from None


# Options that are GenerateContentConfig fields of the same name.
_CONFIG_OPTIONS = GOOGLE_OPTIONS - {"extra_headers", "extra_body"}
# Config fields the API carries at the top of the request body, not in generationConfig.
_TOP_LEVEL_FIELDS = ("system_instruction", "safety_settings", "tools", "tool_config")


def _check_extra_body(
    settings: ProviderSettings, model: str, body: dict[str, Any], config: dict[str, Any]
) -> None:
    """Refuse an ``extra_body`` that changes a body field the request sets.

    google-genai merges ``extra_body`` into the request body it built, recursively, with
    keys in either snake or camel case: a top-level key may add a field, and so may a key
    of ``generationConfig``, but not replace the contents or a field set from ``config``.
    """
    top = {_plain(name): config[name] for name in _TOP_LEVEL_FIELDS if name in config}
    generation = {
        _plain(name): value
        for name, value in config.items()
        if name not in _TOP_LEVEL_FIELDS and name not in _CLIENT_SIDE_FIELDS
    }
    clashes = []
    for key, value in body.items():
        plain = _plain(key)
        if plain == "contents" or (plain in top and top[plain] != value):
            clashes.append(key)
        elif plain == "generationconfig" and isinstance(value, dict):
            clashes.extend(
                f"{key}.{name}"
                for name, inner in value.items()
                if _plain(name) in generation and generation[_plain(name)] != inner
            )
    if clashes:
        raise request_error(settings, model, clash_message(clashes))


# Config fields the SDK reads itself and does not send.
_CLIENT_SIDE_FIELDS = ("automatic_continuation", "automatic_function_calling")


def _plain(name: str) -> str:
    """A field name with its case and underscores gone: ``topK`` and ``top_k`` are one."""
    return name.replace("_", "").lower()
