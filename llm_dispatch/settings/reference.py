"""The configuration reference, generated from the models: every key, its type, default and
meaning.

:func:`sections` walks :class:`~llm_dispatch.settings.models.DispatchConfig` and every model
its fields hold (the provider entries, routes, policies, and the ``cache`` and
``embedding`` options), each once, under the key path where it appears. :func:`render`
writes them as the Markdown page ``docs/config-reference.md``; a test checks that the
committed page is exactly what :func:`render` gives, and :func:`undocumented` lists the
keys that have no description (a test requires none).

Run ``python -m llm_dispatch.settings.reference docs/config-reference.md`` to rewrite the page
after changing a model.
"""

from __future__ import annotations

import enum
import inspect
import json
import re
import sys
import types
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin

import annotated_types
from pydantic import BaseModel, SecretStr
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from ..urls import SecretUrl
from .models import DispatchConfig

__all__ = ["Section", "main", "render", "sections", "undocumented"]

#: What the keys of a mapping-valued field stand for, by field name.
_KEY_NAMES = {
    "providers": "<name>",
    "routes": "<task type>",
    "prices": "<model>",
    "capabilities": "<model>",
    "model_api": "<model>",
    "models": "<model>",
    "extra_headers": "<header>",
    "options": "<option>",
    "fields": "<field>",
}

_INTRO = """\
# Configuration reference

Every key of the configuration file, with its type, its default and what it does. This page
is generated from the configuration's pydantic models
(`python -m llm_dispatch.settings.reference docs/config-reference.md`), and a test fails
when it differs from what the models say, so it is always current. For how the pieces work
together (where the file is read from, `${VAR}` interpolation, routing, strategies, the
circuit breaker, continuations and errors) read [Configuration](configuration.md);
`config/dispatch.yaml` is a commented example of the whole file.

Unknown keys are errors in every section. `<name>`, `<model>` and the like stand for keys
you choose. "null" is YAML's `null` (or `~`); a key left out takes its default.
"""


@dataclass(frozen=True)
class Section:
    """One model of the configuration, at the key path where it appears."""

    path: str
    model: type[BaseModel]

    @property
    def anchor(self) -> str:
        return self.model.__name__.lower()


def sections(root: type[BaseModel] = DispatchConfig) -> list[Section]:
    """``root`` and every model reachable from its fields, depth first, each once."""
    found: list[Section] = []
    seen: set[type[BaseModel]] = set()

    def visit(model: type[BaseModel], path: str) -> None:
        if model in seen:
            return
        seen.add(model)
        found.append(Section(path, model))
        for name, field in model.model_fields.items():
            for child, suffix in _models_in(field.annotation, name):
                visit(child, f"{path}.{suffix}" if path else suffix)

    visit(root, "")
    return found


def _models_in(annotation: Any, name: str) -> list[tuple[type[BaseModel], str]]:
    """The models an annotation holds, each with the key path suffix that reaches it."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [(annotation, name)]
    origin, args = get_origin(annotation), get_args(annotation)
    if origin in (Union, types.UnionType):
        return [found for arg in args for found in _models_in(arg, name)]
    if origin is dict:
        return _models_in(args[1], f"{name}.{_KEY_NAMES.get(name, '<key>')}")
    if origin in (list, tuple, frozenset, set):
        return _models_in(args[0], f"{name}[]")
    return []


def undocumented(root: type[BaseModel] = DispatchConfig) -> list[str]:
    """Every key (``Model.field``) without a description."""
    return [
        f"{section.model.__name__}.{name}"
        for section in sections(root)
        for name, field in section.model.model_fields.items()
        if not (field.description or "").strip()
    ]


def render(root: type[BaseModel] = DispatchConfig) -> str:
    """The reference page, Markdown."""
    found = sections(root)
    anchors = {section.model: section.anchor for section in found}
    parts = [_INTRO]
    for section in found:
        title = f"`{section.path}`" if section.path else "The file"
        parts.append(f"## {title} {{#{section.anchor}}}\n")
        module = section.model.__module__
        parts.append(f"Model: `{module}.{section.model.__name__}`.\n")
        doc = _markdown(inspect.cleandoc(section.model.__doc__ or ""))
        if doc:
            parts.append(doc + "\n")
        parts.append("| key | type | default | meaning |\n|---|---|---|---|")
        for name, field in section.model.model_fields.items():
            parts.append(
                f"| `{name}` | {_type_text(field.annotation, anchors)}{_bounds(field)} "
                f"| {_default_text(field)} | {_cell(field.description or '')} |"
            )
        parts.append("")
    return "\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    """Write the page to the file named by the one argument (``-``: stdout)."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        sys.stderr.write("usage: python -m llm_dispatch.settings.reference FILE|-\n")
        return 2
    text = render()
    if args[0] == "-":
        sys.stdout.write(text)
    else:
        Path(args[0]).write_text(text, encoding="utf-8")
    return 0


# -- types, bounds and defaults as text ---------------------------------------------------------


def _type_text(annotation: Any, anchors: dict[type[BaseModel], str]) -> str:
    if annotation is type(None):
        return "null"
    if annotation is Any:
        return "any value"
    if isinstance(annotation, type):
        if issubclass(annotation, BaseModel):
            return f"[{annotation.__name__}](#{anchors[annotation]})"
        if issubclass(annotation, enum.Enum):
            return "one of " + ", ".join(f"`{m.value}`" for m in annotation)
        if issubclass(annotation, SecretStr):
            return "string (secret)"
        if issubclass(annotation, SecretUrl):
            return "URL (password masked)"
        simple = {bool: "boolean", int: "integer", float: "number", str: "string"}
        if annotation in simple:
            return simple[annotation]
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Literal:
        return "one of " + ", ".join(f"`{value}`" for value in args)
    if origin in (Union, types.UnionType):
        return " or ".join(_type_text(arg, anchors) for arg in args)
    if origin is dict:
        return f"mapping of string to {_type_text(args[1], anchors)}"
    if origin in (list, tuple, frozenset, set):
        return f"list of {_type_text(args[0], anchors)}"
    raise TypeError(f"no text for the type {annotation!r}: add it to _type_text")


def _bounds(field: FieldInfo) -> str:
    words = []
    for item in field.metadata:
        if isinstance(item, annotated_types.Ge):
            words.append(f"≥ {item.ge}")
        elif isinstance(item, annotated_types.Gt):
            words.append(f"> {item.gt}")
        elif isinstance(item, annotated_types.Le):
            words.append(f"≤ {item.le}")
        elif isinstance(item, annotated_types.Lt):
            words.append(f"< {item.lt}")
        elif isinstance(item, annotated_types.MinLen):
            words.append(
                "not empty" if item.min_length == 1 else f"at least {item.min_length} long"
            )
    return f" ({', '.join(words)})" if words else ""


def _default_text(field: FieldInfo) -> str:
    if field.is_required():
        return "required"
    value = field.get_default(call_default_factory=True, validated_data={})
    if value is PydanticUndefined:
        return "required"
    if isinstance(value, BaseModel):
        return "its keys' defaults"
    if isinstance(value, enum.Enum):
        value = value.value
    if isinstance(value, frozenset | set):
        value = sorted(value)
    if isinstance(value, tuple):
        value = list(value)
    if (
        isinstance(value, dict)
        and value
        and not all(isinstance(v, str | int | float | bool) for v in value.values())
    ):
        return "built-in (see meaning)"
    text = json.dumps(value)
    return f"`{text.strip(chr(34)) if isinstance(value, str) else text}`"


# -- docstrings as Markdown -----------------------------------------------------------------

_ROLE = re.compile(r":(?:class|func|meth|attr|data|mod|exc|obj):`~?\.?([^`]+)`")


def _markdown(doc: str) -> str:
    """A docstring's reST roles and double-backtick literals as Markdown code."""

    def role(match: re.Match[str]) -> str:
        target = match.group(1)
        shown = target.rsplit(".", 1)[-1] if match.group(0).count("~") else target
        return f"`{shown}`"

    return _ROLE.sub(role, doc).replace("``", "`")


def _cell(text: str) -> str:
    """Text that fits in one table cell."""
    return " ".join(_markdown(text).split()).replace("|", "\\|")


if __name__ == "__main__":
    raise SystemExit(main())
