"""Tools a model may call: their definitions, and the calls a model makes.

A :class:`Tool` is a name, a description and a JSON schema of its arguments (an object).
:func:`tool_from` makes one from what a caller passes:

- a Python callable: the schema comes from its signature's type hints (through pydantic),
  the description from its docstring's first paragraph, and ``Args:`` / ``:param x:``
  lines describe the parameters; the tool keeps the callable, so :mod:`.tool_loop` can run
  it;
- a pydantic model class: its JSON schema, its docstring; a call's arguments validate into
  an instance of it;
- a JSON-schema dict: ``{"name", "description", "parameters"}``, OpenAI's
  ``{"type": "function", "function": {...}}`` or Anthropic's ``{"name", "description",
  "input_schema"}``;
- a :class:`Tool`.

``tool_choice`` is ``"auto"`` (the model decides), ``"none"`` (no tool), ``"required"``
(some tool) or a tool's name (that tool).

A :class:`ToolCall` is a call as the stream assembled it: the provider's id, the tool's
name, the arguments as the JSON text the model wrote and parsed into a dict, checked
against the tool's schema (:meth:`Tool.check`).
"""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from .errors import RequestBindingError
from .tool_call import ToolCall

__all__ = [
    "TOOL_CHOICES",
    "Tool",
    "ToolArgumentsError",
    "ToolCall",
    "check_tool_choice",
    "parse_arguments",
    "tool_from",
    "tools_from",
]

#: The ``tool_choice`` values that are not a tool's name.
TOOL_CHOICES = ("auto", "none", "required")

_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
_PARAM_LINE = re.compile(r"^\s*(?::param\s+)?(\*{0,2}\w+)\s*(?:\([^)]*\))?\s*:\s*(.+)$")


class ToolArgumentsError(ValueError):
    """A tool call's arguments are not JSON, or do not fit the tool's schema."""


class Tool(BaseModel):
    """One tool: its name, description and the JSON schema of its arguments."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    name: str
    description: str = ""
    #: JSON schema of the arguments: an object schema.
    parameters: dict[str, Any] = Field(default_factory=lambda: {"type": "object", "properties": {}})
    #: The Python callable behind the tool, when it was made from one.
    function: Callable[..., Any] | None = Field(default=None, exclude=True, repr=False)
    #: The pydantic model the arguments validate into, when it was made from one.
    model: type[BaseModel] | None = Field(default=None, exclude=True, repr=False)

    def check(self, arguments: Mapping[str, Any]) -> dict[str, Any]:
        """``arguments`` validated against the tool's schema (by its pydantic model when it
        has one; else the schema's ``required`` and top-level ``properties`` types)."""
        if self.model is not None:
            try:
                return self.model.model_validate(dict(arguments)).model_dump(mode="json")
            except ValidationError as exc:
                raise ToolArgumentsError(_errors(exc)) from None
        problems = _schema_problems(self.parameters, arguments)
        if problems:
            raise ToolArgumentsError("; ".join(problems))
        return dict(arguments)


def tool_from(value: Any, where: str) -> Tool:
    """The :class:`Tool` ``value`` describes (see the module docstring); an error that says
    what is wrong, naming ``where`` (``tools[1]``), otherwise."""
    if isinstance(value, Tool):
        return value
    if isinstance(value, type) and issubclass(value, BaseModel):
        schema = _untitled(value.model_json_schema())
        return _named(
            value.__name__, where, description=_doc(value), parameters=schema, model=value
        )
    if isinstance(value, Mapping):
        return _from_mapping(value, where)
    if callable(value):
        return _from_callable(value, where)
    raise RequestBindingError(
        f"{where} is of type {type(value).__name__}; a tool is a function, a pydantic model "
        "class or a JSON-schema dict with 'name' and 'parameters'"
    )


def tools_from(values: Any, where: str = "tools") -> tuple[Tool, ...]:
    """Every tool of ``values`` (one or a list); tool names must be unique."""
    items = (
        list(values) if isinstance(values, Sequence) and not isinstance(values, str) else [values]
    )
    tools = tuple(tool_from(v, f"{where}[{i}]") for i, v in enumerate(items))
    names = [t.name for t in tools]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise RequestBindingError(f"{where}: more than one tool is named {duplicates[0]!r}")
    return tools


def check_tool_choice(choice: Any, tools: Sequence[Tool], where: str = "tool_choice") -> str | None:
    """``choice`` checked against ``tools``: one of :data:`TOOL_CHOICES` or a tool's name."""
    if choice is None:
        return None
    if not isinstance(choice, str):
        raise RequestBindingError(f"{where} must be a string, not {type(choice).__name__}")
    if choice in TOOL_CHOICES:
        if choice != "none" and not tools:
            raise RequestBindingError(f"{where}={choice!r} needs tools=")
        return choice
    names = [t.name for t in tools]
    if choice not in names:
        known = ", ".join(repr(n) for n in (*TOOL_CHOICES, *names))
        raise RequestBindingError(f"{where}={choice!r} is not a tool; expected one of {known}")
    return choice


def parse_arguments(text: str) -> dict[str, Any]:
    """A tool call's arguments text as a dict (empty text is no arguments)."""
    if not text.strip():
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ToolArgumentsError(f"the arguments are not JSON ({exc.msg} at {exc.pos})") from None
    if not isinstance(value, dict):
        raise ToolArgumentsError(f"the arguments are a JSON {type(value).__name__}, not an object")
    return value


# -- building tools ---------------------------------------------------------------------------


def _named(name: str, where: str, **fields: Any) -> Tool:
    if not isinstance(name, str) or _NAME.fullmatch(name) is None:
        raise RequestBindingError(
            f"{where}: tool name {name!r} must be 1-64 letters, digits, '_' or '-'"
        )
    return Tool(name=name, **fields)


def _from_mapping(value: Mapping[str, Any], where: str) -> Tool:
    spec: Mapping[str, Any] = value
    if value.get("type") == "function" and isinstance(value.get("function"), Mapping):
        spec = value["function"]
    name = spec.get("name")
    if not name:
        raise RequestBindingError(f"{where}: a tool dict needs a 'name'")
    parameters = spec.get("parameters", spec.get("input_schema"))
    if parameters is None:
        parameters = {"type": "object", "properties": {}}
    if not isinstance(parameters, Mapping) or parameters.get("type", "object") != "object":
        raise RequestBindingError(
            f"{where}: the parameters of tool {name!r} must be a JSON schema of type 'object'"
        )
    description = spec.get("description") or ""
    if not isinstance(description, str):
        raise RequestBindingError(f"{where}: the description of tool {name!r} must be text")
    return _named(name, where, description=description, parameters=dict(parameters))


def _from_callable(func: Callable[..., Any], where: str) -> Tool:
    name = getattr(func, "__name__", None) or type(func).__name__
    try:
        signature = inspect.signature(func)
        hints = _hints(func)
    except (TypeError, ValueError, NameError) as exc:
        raise RequestBindingError(
            f"{where}: cannot read the signature of {name!r}: {exc}"
        ) from None
    described = _param_docs(inspect.getdoc(func) or "")
    fields: dict[str, Any] = {}
    for param in signature.parameters.values():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            raise RequestBindingError(
                f"{where}: tool {name!r} takes *{param.name}; a tool's parameters must be named"
            )
        annotation = hints.get(param.name, Any)
        default = ... if param.default is param.empty else param.default
        fields[param.name] = (
            annotation,
            Field(default, description=described.get(param.name)),
        )
    try:
        model = create_model(f"{name}_arguments", **fields)
        schema = model.model_json_schema()
    except Exception as exc:  # pydantic cannot describe a parameter type
        raise RequestBindingError(
            f"{where}: tool {name!r} has a parameter type without a JSON schema: {exc}"
        ) from None
    return _named(
        name,
        where,
        description=_doc(func),
        parameters=_untitled(schema),
        function=func,
        model=model,
    )


def _untitled(schema: dict[str, Any]) -> dict[str, Any]:
    """A pydantic schema without the titles it makes up (the class and field names) and
    without repeating the tool's description."""
    schema.pop("title", None)
    schema.pop("description", None)
    for prop in schema.get("properties", {}).values():
        if isinstance(prop, dict):
            prop.pop("title", None)
    return schema


def _hints(func: Callable[..., Any]) -> dict[str, Any]:
    import typing

    target = func if inspect.isfunction(func) or inspect.ismethod(func) else type(func).__call__
    return typing.get_type_hints(target)


def _doc(obj: Any) -> str:
    """The first paragraph of ``obj``'s docstring (a pydantic model's default one is none)."""
    doc = inspect.getdoc(obj) or ""
    if isinstance(obj, type) and issubclass(obj, BaseModel) and doc == inspect.getdoc(BaseModel):
        return ""
    return doc.split("\n\n", 1)[0].strip()


def _param_docs(doc: str) -> dict[str, str]:
    """Parameter descriptions from ``Args:`` sections and ``:param x:`` lines."""
    found: dict[str, str] = {}
    in_args = False
    for line in doc.splitlines():
        stripped = line.strip()
        if stripped.lower() in ("args:", "arguments:", "parameters:"):
            in_args = True
            continue
        if in_args and stripped and not line.startswith((" ", "\t")):
            in_args = False
        if in_args or stripped.startswith(":param"):
            match = _PARAM_LINE.match(stripped)
            if match:
                found[match.group(1).lstrip("*")] = match.group(2).strip()
    return found


# -- checking arguments against a schema dict ---------------------------------------------------

_JSON_TYPES: dict[str, Any] = {
    "string": str,
    "integer": int,
    "number": (int, float),
    "boolean": bool,
    "array": list,
    "object": dict,
    "null": type(None),
}


def _schema_problems(schema: Mapping[str, Any], arguments: Mapping[str, Any]) -> list[str]:
    """What makes ``arguments`` unfit for an object ``schema``: missing required keys and
    top-level values of the wrong JSON type (a full JSON-schema check is the provider's)."""
    problems = [
        f"{key!r} is required" for key in schema.get("required", ()) if key not in arguments
    ]
    properties = schema.get("properties") or {}
    for key, value in arguments.items():
        spec = properties.get(key)
        if spec is None:
            if schema.get("additionalProperties") is False:
                problems.append(f"{key!r} is not a parameter")
            continue
        expected = spec.get("type") if isinstance(spec, Mapping) else None
        names = [expected] if isinstance(expected, str) else list(expected or [])
        types = [_JSON_TYPES[n] for n in names if n in _JSON_TYPES]
        if types and not _fits(value, types, names):
            problems.append(f"{key!r} is {json.dumps(value)[:40]}, not {' or '.join(names)}")
        enum = spec.get("enum") if isinstance(spec, Mapping) else None
        if enum is not None and value not in enum:
            problems.append(f"{key!r} must be one of {', '.join(json.dumps(e) for e in enum)}")
    return problems


def _fits(value: Any, types: list[Any], names: list[str]) -> bool:
    if isinstance(value, bool) and not ({"boolean"} & set(names)):
        return False  # True is an int in Python, not in JSON
    if isinstance(value, float) and "integer" in names and "number" not in names:
        return value.is_integer()
    return any(isinstance(value, t) for t in types)


def _errors(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or 'arguments'}: {e['msg']}"
        for e in exc.errors(include_url=False, include_input=False)
    )
