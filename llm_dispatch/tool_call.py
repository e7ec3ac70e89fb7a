"""A tool call the model made, as the stream assembled it (a plain value: no dependency on
the rest of the package, so events and results can name it)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

__all__ = ["ToolCall"]


class ToolCall(BaseModel):
    """A tool call the model made, as the stream assembled it.

    ``index`` is its place among this answer's calls; ``arguments_text`` is the JSON text the
    model wrote, ``arguments`` that text parsed and checked against the tool's schema.
    """

    model_config = ConfigDict(frozen=True)

    index: int
    id: str
    name: str
    arguments: dict[str, Any]
    arguments_text: str
