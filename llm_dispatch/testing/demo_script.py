"""The answer the offline switch's fake server gives by default: it uses the tools.

A request that offers tools, and does not end in tool results, is answered with a call to
its first tool, with arguments made up from the tool's schema (each required parameter: a
word of the prompt for a string, 1 for a number, ``true`` for a boolean, an enum's first
value), so that a tool loop runs offline too. Any other request gets the usual reply,
which quotes the tool results it was sent.
"""

from __future__ import annotations

from typing import Any

from .script import RecordedRequest, Script, ScriptedToolCall

__all__ = ["demo_script"]

_SAMPLES: dict[str, Any] = {"integer": 1, "number": 1, "boolean": True, "array": [], "object": {}}


def demo_script(rec: RecordedRequest) -> Script:
    """The script for ``rec`` (see the module docstring)."""
    last = rec.messages[-1]["role"] if rec.messages else "user"
    if not rec.tools or last == "tool":
        return Script()
    tool = rec.tools[0]
    return Script(
        text="Let me look that up.",
        tool_calls=[ScriptedToolCall(tool["name"], _arguments(tool.get("parameters"), rec))],
    )


def _arguments(schema: Any, rec: RecordedRequest) -> dict[str, Any]:
    if not isinstance(schema, dict):
        return {}
    words = [w.strip("?.,!:;\"'") for w in rec.prompt.split()]
    word = next((w for w in reversed(words) if w[:1].isupper()), words[-1] if words else "x")
    properties = schema.get("properties") or {}
    arguments: dict[str, Any] = {}
    for name in schema.get("required") or []:
        found = properties.get(name)
        spec: dict[str, Any] = found if isinstance(found, dict) else {}
        if spec.get("enum"):
            arguments[name] = spec["enum"][0]
        else:
            arguments[name] = _SAMPLES.get(str(spec.get("type")), word)
    return arguments
