"""Find, read, interpolate and validate the dispatch configuration.

Resolution when no source is given: the file named by ``LLM_DISPATCH_CONFIG``, else
``./config/dispatch.yaml`` when it exists, else the built-in defaults (``DispatchConfig()``).

Every problem becomes one :class:`~llm_dispatch.errors.ConfigError` naming the file, the line
and the key path, e.g. ``dispatch.yaml:14 routes.code_generation[1]: unknown provider
'antropic' (did you mean 'anthropic'?)``; further problems follow on their own lines.

Before anything walks the data, its size is bounded: a YAML document, or a mapping source,
whose values (aliases and shared references counted once per place they appear) number more
than :data:`MAX_CONFIG_VALUES`, that nests deeper than :data:`MAX_CONFIG_DEPTH`, or that
contains itself, is refused. A few hundred bytes of nested aliases would otherwise expand to
billions of values.
"""

from __future__ import annotations

import os
import re
import types
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError
from yaml.events import AliasEvent, Event
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from ..errors import ConfigError, ConfigProblems, InterpolationError, UnresolvedVariable
from ..log import get_logger
from ..redaction import is_plain_word
from .interpolation import interpolate
from .models import DispatchConfig
from .paths import did_you_mean, format_path

__all__ = [
    "CONFIG_ENV_VAR",
    "DEFAULT_CONFIG_PATH",
    "MAX_CONFIG_DEPTH",
    "MAX_CONFIG_VALUES",
    "ConfigSource",
    "load_config",
]

log = get_logger("llm_dispatch.config")

#: Environment variable naming the configuration file.
CONFIG_ENV_VAR = "LLM_DISPATCH_CONFIG"
#: Looked for in the current directory when nothing else names a file.
DEFAULT_CONFIG_PATH = Path("config") / "dispatch.yaml"

#: Most values (every scalar, mapping key, mapping and list) a configuration may hold once
#: aliases and shared references are expanded. A configuration with a hundred providers of
#: fifty priced models each holds about 36 000; config/dispatch.yaml holds 140.
MAX_CONFIG_VALUES = 100_000
#: Deepest level of a value: the top-level mapping is level 1, its keys and values level 2,
#: and so on. config/dispatch.yaml reaches level 6 (``providers.openai.prices.gpt-4o.input``).
MAX_CONFIG_DEPTH = 64

ConfigSource = str | os.PathLike[str] | Mapping[str, Any] | DispatchConfig | None

Key = tuple[str | int, ...]
LineMap = dict[Key, int]

_MISSING = object()
_MERGE_TAG = "tag:yaml.org,2002:merge"


def load_config(
    source: ConfigSource = None, *, environ: Mapping[str, str] | None = None
) -> DispatchConfig:
    """The validated configuration from ``source``.

    ``source`` is a path (str or PathLike) to a YAML file, a mapping with the same shape, a
    :class:`DispatchConfig` (returned as is), or None for the resolution described above.
    ``environ`` (default: ``os.environ``) feeds ``${VAR}`` interpolation and the lookup of
    ``LLM_DISPATCH_CONFIG``.
    """
    env: Mapping[str, str] = os.environ if environ is None else environ
    if isinstance(source, DispatchConfig):
        return source
    if isinstance(source, Mapping):
        _check_mapping_shape(source)
        return _build(dict(source), env, label=None, lines={})
    if source is None:
        named = env.get(CONFIG_ENV_VAR)
        if named:
            if not Path(named).is_file():
                raise ConfigError(
                    f"{CONFIG_ENV_VAR} names a configuration file that does not exist",
                    source=named,
                )
            return _load_file(Path(named), env)
        if DEFAULT_CONFIG_PATH.is_file():
            return _load_file(DEFAULT_CONFIG_PATH, env)
        log.debug("config.builtin", reason=f"no {CONFIG_ENV_VAR} and no {DEFAULT_CONFIG_PATH}")
        return DispatchConfig()
    return _load_file(Path(os.fspath(source)), env)


# -- files ---------------------------------------------------------------------------------


def _load_file(path: Path, env: Mapping[str, str]) -> DispatchConfig:
    label = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError("configuration file not found", source=label) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the configuration file: {exc}", source=label) from None
    data, lines = parse_yaml(text, label)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(
            "the top level must be a mapping (providers:, routes:, defaults: ...), "
            f"not a {type(data).__name__}",
            source=label,
            line=1,
        )
    config = _build(data, env, label=label, lines=lines)
    log.debug("config.loaded", source=label, providers=list(config.providers))
    return config


def parse_yaml(text: str, label: str | None = None) -> tuple[Any, LineMap]:
    """``yaml.safe_load(text)`` plus the line of every key path, from one parse.

    Duplicate keys, which ``safe_load`` silently resolves to the last one, are an error; so
    are documents that exceed :data:`MAX_CONFIG_VALUES` or :data:`MAX_CONFIG_DEPTH` once
    their aliases are expanded, and recursive aliases.
    """
    loader = _BoundedLoader(text, label)
    try:
        node = loader.get_single_node()
        lines: LineMap = {(): 1}
        if node is not None:
            # Walk before constructing: construction flattens merge keys in place.
            _collect_lines(node, (), lines, label)
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        detail = exc.problem or "invalid YAML"
        if exc.context:
            detail = f"{detail} ({exc.context})"
        raise ConfigError(
            f"invalid YAML: {detail}", source=label, line=mark.line + 1 if mark else None
        ) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"invalid YAML: {exc}", source=label) from None
    finally:
        loader.dispose()
    return data, lines


class _BoundedLoader(yaml.SafeLoader):  # type: ignore[misc]  # PyYAML has no type hints
    """A ``SafeLoader`` that measures the document as it composes it.

    Composing keeps one node per anchor, whatever the number of aliases to it; everything
    after (line collection, construction of merge keys, interpolation, validation) visits an
    aliased node once per alias. So each node counts here as the number of values it expands
    to, and how deep it reaches, and composition stops at the first event that takes the
    expanded document past :data:`MAX_CONFIG_VALUES` or :data:`MAX_CONFIG_DEPTH`.
    """

    def __init__(self, text: str, label: str | None) -> None:
        super().__init__(text)
        self._label = label
        self._values = 0  # values of the expanded document so far
        self._depth = 0  # level of the collection being composed (0: none yet)
        self._deepest = 0  # deepest level reached inside the node being composed
        # Expanded value count and height of every anchored node composed so far.
        self._shapes: dict[int, tuple[int, int]] = {}

    def compose_node(self, parent: Node | None, index: Any) -> Node:
        event = self.peek_event()
        level = self._depth + 1
        if isinstance(event, AliasEvent):
            node: Node = super().compose_node(parent, index)
            shape = self._shapes.get(id(node))
            if shape is None:  # its anchor's node is still being composed: it contains itself
                raise self._refuse(
                    f"recursive alias *{event.anchor}: it refers to a mapping or list "
                    "that contains it",
                    event,
                )
            values, height = shape
            self._grow(values, level + height - 1, event)
            return node
        before = self._values
        self._grow(1, level, event)
        outer_deepest, self._deepest = self._deepest, level
        self._depth = level
        try:
            node = super().compose_node(parent, index)
        finally:
            self._depth = level - 1
        if event.anchor is not None:
            self._shapes[id(node)] = (self._values - before, self._deepest - level + 1)
        self._deepest = max(outer_deepest, self._deepest)
        return node

    def _grow(self, values: int, bottom: int, event: Event) -> None:
        self._values += values
        self._deepest = max(self._deepest, bottom)
        if self._values > MAX_CONFIG_VALUES:
            raise self._refuse(
                f"the document expands to more than {MAX_CONFIG_VALUES} values "
                "(aliases counted once per use); a dispatch configuration is far smaller",
                event,
            )
        if bottom > MAX_CONFIG_DEPTH:
            raise self._refuse(
                f"values are nested more than {MAX_CONFIG_DEPTH} levels deep (aliases expanded)",
                event,
            )

    def _refuse(self, message: str, event: Event) -> ConfigError:
        return ConfigError(message, source=self._label, line=event.start_mark.line + 1)


def _collect_lines(node: Node, path: Key, lines: LineMap, label: str | None) -> None:
    if isinstance(node, MappingNode):
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode) or key_node.tag == _MERGE_TAG:
                continue
            child = (*path, key_node.value)
            line = key_node.start_mark.line + 1
            if child in lines:
                raise ConfigError(
                    f"duplicate key {key_node.value!r} (first on line {lines[child]})",
                    source=label,
                    path=format_path(child),
                    line=line,
                )
            lines[child] = line
            _collect_lines(value_node, child, lines, label)
    elif isinstance(node, SequenceNode):
        for i, item in enumerate(node.value):
            child = (*path, i)
            lines[child] = item.start_mark.line + 1
            _collect_lines(item, child, lines, label)


def _check_mapping_shape(source: Mapping[str, Any]) -> None:
    """Apply the YAML document's bounds to a mapping source.

    A mapping built in Python can share one list or dict in many places, which interpolation
    and validation would copy once per place, or contain itself. Shared containers are
    measured once and counted once per place they appear, as aliases are in YAML.
    """
    shapes: dict[int, tuple[int, int]] = {}  # expanded value count and height, by id
    open_ids: set[int] = set()
    values = 0

    def grow(count: int, bottom: int, path: Key) -> None:
        nonlocal values
        values += count
        if values > MAX_CONFIG_VALUES:
            raise ConfigError(
                f"the mapping expands to more than {MAX_CONFIG_VALUES} values (shared "
                "references counted once per use); a dispatch configuration is far smaller",
                path=format_path(path) or None,
            )
        if bottom > MAX_CONFIG_DEPTH:
            raise ConfigError(
                f"values are nested more than {MAX_CONFIG_DEPTH} levels deep",
                path=format_path(path) or None,
            )

    def walk(value: Any, path: Key, level: int) -> int:
        """Count ``value`` at ``level``; return its height."""
        if not isinstance(value, Mapping | list | tuple | set | frozenset):
            grow(1, level, path)
            return 1
        key = id(value)
        if key in open_ids:
            raise ConfigError(
                "the mapping contains itself here (a recursive reference)",
                path=format_path(path) or None,
            )
        known = shapes.get(key)
        if known is not None:
            grow(known[0], level + known[1] - 1, path)
            return known[1]
        before = values
        grow(1, level, path)
        open_ids.add(key)
        height = 0
        if isinstance(value, Mapping):
            for k, v in value.items():
                child = (*path, k if isinstance(k, str | int) else str(k))
                grow(1, level + 1, child)  # the key
                height = max(height, walk(v, child, level + 1))
        else:
            for i, v in enumerate(value):
                height = max(height, walk(v, (*path, i), level + 1))
        open_ids.discard(key)
        shapes[key] = (values - before, height + 1)
        return height + 1

    walk(source, (), 1)


# -- interpolation and validation ----------------------------------------------------------


def _build(
    data: dict[str, Any], env: Mapping[str, str], *, label: str | None, lines: LineMap
) -> DispatchConfig:
    missing_keys: dict[str, str] = {}

    def visit(value: Any, path: Key) -> Any:
        if isinstance(value, str):
            try:
                return interpolate(value, env)
            except UnresolvedVariable as exc:
                if len(path) == 3 and path[0] == "providers" and path[2] == "api_key":
                    # A missing key disables that provider only: a config listing every
                    # provider must work on a machine that has keys for some of them.
                    missing_keys[str(path[1])] = exc.name
                    return None
                raise _error(str(exc), path, data, label, lines) from None
            except InterpolationError as exc:
                raise _error(str(exc), path, data, label, lines) from None
        if isinstance(value, dict):
            return {k: visit(v, (*path, str(k))) for k, v in value.items()}
        if isinstance(value, list):
            return [visit(v, (*path, i)) for i, v in enumerate(value)]
        return value

    resolved = visit(data, ())
    try:
        config = DispatchConfig.model_validate(resolved)
    except ValidationError as exc:
        raise _from_validation(exc, resolved, label, lines) from None
    for name, variable in missing_keys.items():
        provider = config.providers.get(name)
        if provider is not None:
            provider.mark_missing_key(variable)
            log.info("config.provider_disabled", provider=name, missing_variable=variable)
    return config


def _error(message: str, loc: Key, data: Any, label: str | None, lines: LineMap) -> ConfigError:
    parts = _source_path(loc, data)
    return ConfigError(
        message, source=label, path=format_path(parts) or None, line=_line_for(parts, lines)
    )


def _from_validation(
    exc: ValidationError, data: Any, label: str | None, lines: LineMap
) -> ConfigError:
    found: list[tuple[Key, str]] = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        cause = (err.get("ctx") or {}).get("error")
        if isinstance(cause, ConfigProblems):
            found.extend(((*loc, *p.loc), p.message) for p in cause.problems)
        else:
            found.append((loc, _describe(err, loc)))

    located = []
    for loc, message in found:
        parts = _source_path(loc, data)
        located.append((_line_for(parts, lines), format_path(parts), message))
    # Report in file order: the first problem a reader meets comes first.
    located.sort(key=lambda item: item[0] if item[0] is not None else 1 << 30)

    line, path, message = located[0]
    for other_line, other_path, other_message in located[1:]:
        where = (f"{label}:{other_line} " if label and other_line else "") + other_path
        message += f"\n  also {where}: {other_message}" if where else f"\n  also: {other_message}"
    return ConfigError(message, source=label, path=path or None, line=line)


def _describe(err: Any, loc: Key) -> str:
    """A pydantic error as a sentence. The input is repeated only when it is a plain word
    given for a choice (``kind: opneai``): anything else may be a secret."""
    kind = err["type"]
    if kind == "extra_forbidden":
        key = str(loc[-1])
        model = _model_at(loc[:-1])
        allowed = list(model.model_fields) if model is not None else []
        hint = did_you_mean(key, allowed) or (
            f" (allowed: {', '.join(allowed)})" if allowed else ""
        )
        return f"unknown key {key!r}{hint}"
    if kind == "missing":
        return f"missing required key {str(loc[-1])!r}"
    if kind == "literal_error":
        expected = (err.get("ctx") or {}).get("expected", "")
        written = err.get("input")
        if isinstance(written, str) and is_plain_word(written):
            options = re.findall(r"'([^']*)'", expected)
            return f"{written!r} is not one of {expected}" + did_you_mean(written, options)
        return f"the value is not one of {expected}"
    message = str(err["msg"]).removeprefix("Value error, ")
    return message[:1].lower() + message[1:]


def _model_at(loc: Key) -> type[BaseModel] | None:
    """The model class whose fields live at ``loc`` (for "did you mean" on unknown keys)."""
    tp: Any = DispatchConfig
    for part in loc:
        tp = _unwrap_optional(tp)
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            field = tp.model_fields.get(part) if isinstance(part, str) else None
            if field is None:
                return None
            tp = field.annotation
        elif get_origin(tp) is dict:
            tp = get_args(tp)[1]
        elif get_origin(tp) is list:
            tp = get_args(tp)[0]
        else:
            return None
    tp = _unwrap_optional(tp)
    return tp if isinstance(tp, type) and issubclass(tp, BaseModel) else None


def _unwrap_optional(tp: Any) -> Any:
    if get_origin(tp) in (Union, types.UnionType):
        members = [a for a in get_args(tp) if a is not type(None)]
        if len(members) == 1:
            return members[0]
    return tp


def _source_path(loc: Key, data: Any) -> list[str | int]:
    """Map a model location onto the keys actually written in the source.

    Model locations name fields the shorthand forms leave out (``targets`` of a route written
    as a bare list, ``provider`` of a target written as a string) and pydantic internals
    (``[key]``); those parts are dropped so the path matches the file.
    """
    parts: list[str | int] = []
    node: Any = data
    for comp in loc:
        if comp == "[key]":
            continue
        if isinstance(node, dict):
            parts.append(comp)
            node = node.get(comp, _MISSING)
        elif isinstance(node, list):
            if isinstance(comp, int):
                parts.append(comp)
                node = node[comp] if 0 <= comp < len(node) else _MISSING
            # a str here is a model field the list shorthand does not write: skip it
        else:
            break  # a scalar or a missing key: the rest is inside the model, not the file
    return parts


def _line_for(parts: list[str | int], lines: LineMap) -> int | None:
    """The line of ``parts``, or of its nearest ancestor present in the file."""
    key: Key = tuple(p if isinstance(p, int) else str(p) for p in parts)
    while True:
        if key in lines:
            return lines[key]
        if not key:
            return None
        key = key[:-1]
