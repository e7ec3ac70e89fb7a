"""What a Gemini request carries for tools and thinking: the function declarations, the
function-calling mode, the thinking config, and the parts of a conversation's tool calls,
tool results and reasoning (see :mod:`.google` for the mapping)."""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from ..content import ReasoningPart, ToolCallPart, ToolResultPart
from ..request import Reasoning, Request
from ..tools import Tool
from .base import ProviderSettings
from .kinds import base_kind
from .options import request_error

__all__ = [
    "EFFORT_BUDGETS",
    "GOOGLE_KIND",
    "function_call_part",
    "function_response_part",
    "reasoning_part",
    "signature_text",
    "thinking_config",
    "tool_fields",
]

#: The ``provider_kind`` of the reasoning this provider streams, and sends back.
GOOGLE_KIND = "google"

#: The thinking budget (tokens) an effort asks for when no ``budget_tokens`` is given.
EFFORT_BUDGETS = {"low": 2048, "medium": 8192, "high": 24576}

# Gemini's rule for a function name: a letter or '_' first, then letters, digits, '_', '.',
# ':' or '-', 128 characters at most.
_FUNCTION_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.:-]{0,127}")

_MODES = {"auto": "AUTO", "none": "NONE", "required": "ANY"}


def tool_fields(request: Request, settings: ProviderSettings, model: str) -> dict[str, Any]:
    """The config's ``tools`` (one ``Tool`` holding every function declaration) and
    ``tool_config`` (the function-calling mode ``tool_choice`` asks for), as set."""
    fields: dict[str, Any] = {}
    if request.tools:
        declarations = [_declaration(tool, settings, model) for tool in request.tools]
        fields["tools"] = [{"function_declarations": declarations}]
    calling = _function_calling(request, settings, model)
    if calling is not None:
        fields["tool_config"] = {"function_calling_config": calling}
    return fields


def _declaration(tool: Tool, settings: ProviderSettings, model: str) -> dict[str, Any]:
    """One function declaration: the JSON schema goes as is (``parameters_json_schema``),
    not through the SDK's OpenAPI ``Schema``."""
    if _FUNCTION_NAME.fullmatch(tool.name) is None:
        raise request_error(
            settings,
            model,
            f"cannot send tool {tool.name!r}: a Gemini function name starts with a letter or '_'",
        )
    declaration: dict[str, Any] = {"name": tool.name, "parameters_json_schema": tool.parameters}
    if tool.description:
        declaration["description"] = tool.description
    return declaration


def _function_calling(
    request: Request, settings: ProviderSettings, model: str
) -> dict[str, Any] | None:
    """The ``function_calling_config`` for ``request.tool_choice`` (None: Gemini's default,
    or ``none`` without tools, which asks for what no tools already means)."""
    choice = request.tool_choice
    if choice is None or (choice == "none" and not request.tools):
        return None
    if not request.tools:
        raise request_error(settings, model, f"tool_choice={choice!r} needs tools")
    if choice in _MODES:
        return {"mode": _MODES[choice]}
    if choice not in {tool.name for tool in request.tools}:
        raise request_error(settings, model, f"tool_choice={choice!r} names no tool of the request")
    return {"mode": "ANY", "allowed_function_names": [choice]}


def thinking_config(reasoning: Reasoning | None) -> dict[str, Any] | None:
    """The ``thinking_config`` for ``reasoning``: its budget (or the budget of its effort,
    :data:`EFFORT_BUDGETS`), with the thoughts streamed back."""
    if reasoning is None:
        return None
    budget = reasoning.budget_tokens
    if budget is None:
        assert reasoning.effort is not None  # a Reasoning has one or the other
        budget = EFFORT_BUDGETS[reasoning.effort]
    return {"thinking_budget": budget, "include_thoughts": True}


def function_call_part(
    part: ToolCallPart, settings: ProviderSettings, model: str
) -> dict[str, Any]:
    """A tool call of a model turn, with its thought signature when it has one."""
    sent: dict[str, Any] = {
        "function_call": {"id": part.id, "name": part.name, "args": dict(part.arguments)}
    }
    if part.signature is not None:
        sent["thought_signature"] = _signature_bytes(
            part.signature, f"tool call {part.id!r}", settings, model
        )
    return sent


def function_response_part(part: ToolResultPart) -> dict[str, Any]:
    """A tool result, answering its call by id and name: the text under ``result``, or
    under ``error`` when the tool failed."""
    key = "error" if part.is_error else "result"
    return {
        "function_response": {
            "id": part.tool_call_id,
            "name": part.name,
            "response": {key: part.content},
        }
    }


def reasoning_part(
    part: ReasoningPart, settings: ProviderSettings, model: str
) -> dict[str, Any] | None:
    """Gemini's own reasoning as the thought part it came as (its text, ``thought: True``,
    and its signature; ``google_vertex``'s too); reasoning of another kind, or with nothing
    in it, is left out."""
    kind = base_kind(part.provider_kind or "")
    if kind != GOOGLE_KIND or (not part.text and part.signature is None):
        return None
    sent: dict[str, Any] = {"text": part.text, "thought": True}
    if part.signature is not None:
        sent["thought_signature"] = _signature_bytes(part.signature, "reasoning", settings, model)
    return sent


def signature_text(signature: bytes | None) -> str | None:
    """A thought signature as the text this library carries it in (standard base64)."""
    return base64.b64encode(signature).decode("ascii") if signature else None


def _signature_bytes(text: str, what: str, settings: ProviderSettings, model: str) -> bytes:
    """The bytes of a thought signature carried as base64 text (either alphabet)."""
    plain = text.replace("-", "+").replace("_", "/")
    try:
        return base64.b64decode(plain + "=" * (-len(plain) % 4), validate=True)
    except binascii.Error:
        raise request_error(
            settings,
            model,
            f"cannot send the signature of the {what}: a Gemini thought signature is base64 text",
        ) from None
