"""Public names of a package imported from their modules on first use (PEP 562).

A package whose modules are not all needed by a plain stream (the cache, the embedding, the
top-level ``llm_dispatch``) maps each public name to the module that defines it, relative to
the package, and forwards its module-level ``__getattr__`` and ``__dir__`` here::

    def __getattr__(name: str) -> Any:
        return lazy.attribute(__name__, _SOURCES, name)

``from package import Name`` then works as with an eager import; the package imports the
module the first time the name is asked for and keeps the value, so later reads are plain
attribute reads. The package names the same modules in an ``if TYPE_CHECKING:`` block for
type checkers.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["attribute", "names"]


def attribute(package: str, sources: Mapping[str, str], name: str) -> Any:
    """``name`` of ``package``, imported from its module in ``sources`` and kept."""
    source = sources.get(name)
    if source is None:
        raise AttributeError(f"module {package!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(source, package), name)
    setattr(sys.modules[package], name, value)
    return value


def names(package: str, public: Iterable[str]) -> list[str]:
    """What ``dir(package)`` lists: what it holds now, and every public name."""
    return sorted(set(vars(sys.modules[package])) | set(public))
