"""The process-wide default dispatcher that decorators use unless given one."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .dispatcher import Dispatcher
    from .settings.models import DispatchConfig

__all__ = ["configure", "get_dispatcher"]

_dispatcher: Dispatcher | None = None


def get_dispatcher() -> Dispatcher:
    """The default dispatcher, built on first use from ``LLM_DISPATCH_CONFIG``,
    ``./config/dispatch.yaml`` or the built-in defaults."""
    global _dispatcher
    if _dispatcher is None:
        from .dispatcher import Dispatcher

        _dispatcher = Dispatcher()
    return _dispatcher


def configure(
    config: DispatchConfig | Mapping[str, Any] | str | os.PathLike[str] | None = None,
    *,
    path: str | os.PathLike[str] | None = None,
    **kwargs: Any,
) -> Dispatcher:
    """Replace the default dispatcher (``configure(path="my.yaml")`` or a dict / model)."""
    from .dispatcher import Dispatcher

    global _dispatcher
    _dispatcher = Dispatcher(os.fspath(path) if path is not None else config, **kwargs)
    return _dispatcher
