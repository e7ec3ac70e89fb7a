"""structlog loggers for the library. Nothing here configures structlog globally: the
application decides where logs go and how they look."""

from __future__ import annotations

from typing import Any

import structlog

__all__ = ["get_logger"]


def get_logger(name: str) -> Any:
    return structlog.get_logger(name)
