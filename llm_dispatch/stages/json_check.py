"""The JSON stream handler of the client's JSON mode: a stage that follows a JSON answer as
it streams and checks it when it completed.

After each chunk the answer so far (the provider's text, before any stage changed it) is
read as partial JSON (:func:`~llm_dispatch.structured.parse_partial_json`): the value is the
stream's ``partial_json`` whenever it changed. When the stream completed, the whole answer
must be valid JSON: its value is kept (``get_json()`` returns it), else the stream fails with
:class:`~llm_dispatch.errors.InvalidJSONError` carrying the text, so that every later stage,
error callbacks included, sees that failure.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from ..errors import InvalidJSONError
from ..structured import parse_partial_json
from .base import Stage

if TYPE_CHECKING:
    from ..context import StreamContext

__all__ = ["JSON_PARSED", "JSON_PARTIAL", "JSONStreamStage"]

#: ``StreamContext.values`` keys: the JSON value as far as it streamed, and the final one.
JSON_PARTIAL, JSON_PARSED = "json.partial", "json.parsed"


class JSONStreamStage(Stage):
    """Follows and finally checks a JSON answer (see the module docstring)."""

    name = "json_stream"

    async def on_chunk(self, ctx: StreamContext, text: str) -> str:
        value = parse_partial_json(ctx.raw_text)
        if value is not None:
            ctx.values[JSON_PARTIAL] = value
        return text

    async def on_end(self, ctx: StreamContext) -> str:
        text = ctx.raw_text
        try:
            ctx.values[JSON_PARSED] = ctx.values[JSON_PARTIAL] = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InvalidJSONError(text, exc) from None
        return ""
