"""Find, read, interpolate and validate the dispatch configuration.

Resolution when no source is given: the file named by ``LLM_DISPATCH_CONFIG``, else
``./config/dispatch.yaml`` when it exists, else the built-in defaults (``DispatchConfig()``).

Every problem becomes one :class:`~llm_dispatch.errors.ConfigError` naming the file, the line
and the key path, e.g. ``dispatch.yaml:14 routes.code_generation[1]: unknown provider
'antropic' (did you mean 'anthropic'?)``; further problems follow on their own lines.

A source is first read by :mod:`.parsing`, which gives the line of every key path and
refuses a source that expands past :data:`MAX_CONFIG_VALUES` values or
:data:`MAX_CONFIG_DEPTH` levels (both defined there, and re-exported here). This module then
substitutes ``${VAR}`` references, validates the result as a :class:`DispatchConfig`, and
maps pydantic's errors onto the lines and key paths written in the source.
"""

from __future__ import annotations

import os
import re
import types
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from ..errors import ConfigError, ConfigProblems, InterpolationError, UnresolvedVariable
from ..log import get_logger
from ..redaction import is_plain_word
from .interpolation import interpolate
from .models import DispatchConfig
from .parsing import (
    MAX_CONFIG_DEPTH,
    MAX_CONFIG_VALUES,
    Key,
    LineMap,
    check_mapping_shape,
)
from .paths import did_you_mean, format_path

__all__ = [
    "CONFIG_ENV_VAR",
    "DEFAULT_CONFIG_PATH",
    "MAX_CONFIG_DEPTH",
    "MAX_CONFIG_VALUES",
    "ConfigSource",
    "default_config_path",
    "load_config",
]

log = get_logger(__name__)

#: Environment variable naming the configuration file.
CONFIG_ENV_VAR = "LLM_DISPATCH_CONFIG"
#: Looked for in the current directory when nothing else names a file.
DEFAULT_CONFIG_PATH = Path("config") / "dispatch.yaml"

ConfigSource = str | os.PathLike[str] | Mapping[str, Any] | DispatchConfig | None

_MISSING = object()


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
        check_mapping_shape(source)
        return _build(dict(source), env, label=None, lines={})
    if source is None:
        path = default_config_path(env)
        if path is None:
            log.debug("config.builtin", reason=f"no {CONFIG_ENV_VAR} and no {DEFAULT_CONFIG_PATH}")
            return DispatchConfig()
        return _load_file(path, env)
    return _load_file(Path(os.fspath(source)), env)


def default_config_path(environ: Mapping[str, str] | None = None) -> Path | None:
    """The file :func:`load_config` reads when given no source: the one
    ``LLM_DISPATCH_CONFIG`` names, else ``./config/dispatch.yaml`` when it exists, else None
    (the built-in defaults).

    Raises :class:`ConfigError` when ``LLM_DISPATCH_CONFIG`` names a file that does not exist.
    """
    env: Mapping[str, str] = os.environ if environ is None else environ
    named = env.get(CONFIG_ENV_VAR)
    if named:
        if not Path(named).is_file():
            raise ConfigError(
                f"{CONFIG_ENV_VAR} names a configuration file that does not exist",
                source=named,
            )
        return Path(named)
    return DEFAULT_CONFIG_PATH if DEFAULT_CONFIG_PATH.is_file() else None


# -- files ---------------------------------------------------------------------------------


def _load_file(path: Path, env: Mapping[str, str]) -> DispatchConfig:
    label = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError("configuration file not found", source=label) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the configuration file: {exc}", source=label) from None
    from .yaml_source import parse_yaml  # PyYAML: only when a file is read

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
