"""A YAML configuration parsed once: its data, and the line of every key path.

PyYAML is imported here, when a configuration file is read (``settings/loader.py`` imports
this module then), not with the library: a program that passes its configuration as a
mapping, or has no file, never needs it. The bounds it applies are ``parsing.py``'s, read
as it parses.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.events import AliasEvent, Event
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from ..errors import ConfigError
from . import parsing
from .parsing import Key, LineMap
from .paths import format_path

__all__ = ["parse_yaml"]

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
        if self._values > parsing.MAX_CONFIG_VALUES:
            raise self._refuse(
                f"the document expands to more than {parsing.MAX_CONFIG_VALUES} values "
                "(aliases counted once per use); a dispatch configuration is far smaller",
                event,
            )
        if bottom > parsing.MAX_CONFIG_DEPTH:
            raise self._refuse(
                f"values are nested more than {parsing.MAX_CONFIG_DEPTH} levels deep "
                "(aliases expanded)",
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
