"""Reading a configuration source before it is validated: YAML with the line of every key
path, and the bounds on how far a source may expand.

:func:`parse_yaml` parses a YAML document once and returns its data together with the line
of every key path (:data:`LineMap`), so errors can point at the right line; a duplicate key
is an error. Before anything walks the data, its size is bounded: a YAML document, or a
mapping source (:func:`check_mapping_shape`), whose values (aliases and shared references
counted once per place they appear) number more than :data:`MAX_CONFIG_VALUES`, that nests
deeper than :data:`MAX_CONFIG_DEPTH`, or that contains itself, is refused with a
:class:`~llm_dispatch.errors.ConfigError` at the line or key path where the bound was
crossed. A few hundred bytes of nested aliases would otherwise expand to billions of values.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import yaml
from yaml.events import AliasEvent, Event
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from ..errors import ConfigError
from .paths import format_path

__all__ = [
    "MAX_CONFIG_DEPTH",
    "MAX_CONFIG_VALUES",
    "Key",
    "LineMap",
    "check_mapping_shape",
    "parse_yaml",
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

_MERGE_TAG = "tag:yaml.org,2002:merge"


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
