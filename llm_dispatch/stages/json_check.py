"""The JSON check of the client's JSON mode: a stage that fails a completed stream whose
text is not valid JSON."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from ..errors import InvalidJSONError
from .base import Stage

if TYPE_CHECKING:
    from ..context import StreamContext

__all__ = ["JSONCheckStage"]


class JSONCheckStage(Stage):
    """Fails a completed stream whose text (as the provider sent it) is not valid JSON."""

    name = "json_check"

    async def on_end(self, ctx: StreamContext) -> str:
        text = ctx.raw_text
        try:
            json.loads(text)
        except json.JSONDecodeError as exc:
            raise InvalidJSONError(text, exc) from None
        return ""
