"""What a Responses API request body (``POST /v1/responses``) asks, in the fake server's
normalised form (:mod:`.parts`).

``instructions`` and any ``system`` / ``developer`` message are the system prompt; each
``message`` input item is a message; a ``function_call`` item is a tool call of an
assistant turn (consecutive calls make one turn, which also takes the assistant message
before them) and a ``function_call_output`` a tool result of a ``tool`` turn (consecutive
results make one turn; its ``name`` is the one of the call with its ``call_id``).
"""

from __future__ import annotations

import json
from typing import Any

from . import parts
from .parts import PartDict
from .wire import ParsedRequest

__all__ = ["parse_request"]


def parse_request(body: dict[str, Any]) -> ParsedRequest:
    """What a ``responses.create`` body asks: ``instructions`` (and system or developer
    messages) as the system prompt, the input items as messages."""
    parsed = ParsedRequest(model=str(body.get("model", "")), system=None, messages=[])
    system = [body["instructions"]] if isinstance(body.get("instructions"), str) else []
    items = body.get("input", [])
    if isinstance(items, str):
        items = [{"role": "user", "content": items}]
    names: dict[str, str] = {}
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            continue
        kind = item.get("type", "message")
        if kind == "message" and item.get("role") in ("system", "developer"):
            system.append(parts.text_of_parts(_content(item.get("content"))))
        elif kind == "message":
            _append(parsed, str(item.get("role", "user")), _content(item.get("content")))
        elif kind == "function_call":
            names[str(item.get("call_id"))] = str(item.get("name"))
            call = parts.tool_call(item.get("call_id"), item.get("name"), _json(item))
            _append(parsed, "assistant", [call], join=True)
        elif kind == "function_call_output":
            call_id = item.get("call_id")
            result = parts.tool_result(call_id, names.get(str(call_id)), item.get("output"))
            _append(parsed, "tool", [result], join=True)
        else:
            _append(parsed, "user", [parts.other(item)])
    parsed.system = "\n\n".join(system) or None
    parsed.tools = [
        {
            "name": tool.get("name"),
            "description": tool.get("description", ""),
            "parameters": tool.get("parameters"),
        }
        for tool in body.get("tools", [])
        if isinstance(tool, dict) and tool.get("type") == "function"
    ]
    parsed.tool_choice = body.get("tool_choice")
    parsed.reasoning = body.get("reasoning")
    fmt = (body.get("text") or {}).get("format") or {}
    parsed.json_mode = fmt.get("type") in ("json_object", "json_schema")
    return parsed


def _append(
    parsed: ParsedRequest, role: str, content: list[PartDict], *, join: bool = False
) -> None:
    """Record a message; with ``join``, its parts go into the previous message when that
    has the same role (a turn's tool calls, or results, are items of their own)."""
    if join and parsed.messages and parsed.messages[-1]["role"] == role:
        parsed.parts[-1].extend(content)
        return
    parsed.messages.append({"role": role, "content": parts.text_of_parts(content)})
    parsed.parts.append(content)


def _json(item: dict[str, Any]) -> Any:
    """A function call's arguments, parsed (as sent when they are not JSON)."""
    try:
        return json.loads(item.get("arguments") or "{}")
    except (TypeError, ValueError):
        return item.get("arguments")


def _content(value: Any) -> list[PartDict]:
    """A message's content (a string, or a list of content parts) as normalised parts."""
    if isinstance(value, str):
        return [parts.text(value)]
    if not isinstance(value, list):
        return []
    return [_part(p) for p in value]


def _part(part: Any) -> PartDict:
    kind = part.get("type") if isinstance(part, dict) else None
    try:
        if kind in ("input_text", "output_text"):
            return parts.text(part.get("text", ""))
        if kind == "input_image" and isinstance(part.get("image_url"), str):
            url = part["image_url"]
            inline = parts.from_data_uri(url)
            if inline is not None:
                return parts.media("image", inline[0], data=inline[1])
            return parts.media("image", None, url=url)
        if kind == "input_file" and isinstance(part.get("file_data"), str):
            inline = parts.from_data_uri(part["file_data"])
            mime = inline[0] if inline else None
            data = inline[1] if inline else parts.decode_base64(part["file_data"])
            return {**parts.media("document", mime, data=data), "name": part.get("filename")}
        if kind == "input_file" and isinstance(part.get("file_url"), str):
            return parts.media("document", None, url=part["file_url"])
    except (KeyError, TypeError, AttributeError, ValueError):
        pass
    return parts.other(part)
