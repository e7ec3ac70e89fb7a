"""Reading a configuration source before it is validated: YAML with the line of every key
path, and the bounds on how far a source may expand.

:func:`~.yaml_source.parse_yaml` parses a YAML document once and returns its data together
with the line of every key path (:data:`LineMap`), so errors can point at the right line; a
duplicate key is an error. It is a module of its own so that PyYAML is imported when a file
is read, not with the library. Before anything walks the data, its size is bounded: a YAML
document, or a mapping source (:func:`check_mapping_shape`), whose values (aliases and
shared references counted once per place they appear) number more than
:data:`MAX_CONFIG_VALUES`, that nests deeper than :data:`MAX_CONFIG_DEPTH`, or that contains
itself, is refused with a :class:`~llm_dispatch.errors.ConfigError` at the line or key path
where the bound was crossed. A few hundred bytes of nested aliases would otherwise expand to
billions of values.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import ConfigError
from .paths import format_path

__all__ = [
    "MAX_CONFIG_DEPTH",
    "MAX_CONFIG_VALUES",
    "Key",
    "LineMap",
    "check_mapping_shape",
]

#: Most values (every scalar, mapping key, mapping and list) a configuration may hold once
#: aliases and shared references are expanded. A configuration with a hundred providers of
#: fifty priced models each holds about 36 000; config/dispatch.yaml holds 140.
MAX_CONFIG_VALUES = 100_000
#: Deepest level of a value: the top-level mapping is level 1, its keys and values level 2,
#: and so on. config/dispatch.yaml reaches level 6 (``providers.openai.prices.gpt-4o.input``).
MAX_CONFIG_DEPTH = 64

#: A key path: the keys and list indexes from the top of the document to a value.
Key = tuple[str | int, ...]
#: The line of every key path written in the file (``()`` is line 1).
LineMap = dict[Key, int]


def check_mapping_shape(source: Mapping[str, Any]) -> None:
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
