"""Per-call options of the client API: :class:`StreamingOptions` (``streaming_options=``).

Only options that do something exist; an unknown one is an error, not silently ignored.

- ``json_mode``: JSON output. Asks the provider for JSON (``response_format={"type":
  "json_object"}`` unless the call gives its own format) and checks the complete answer:
  when it is not valid JSON the stream fails with :class:`InvalidJSONError` (carrying the
  text), so error callbacks hear about it too. :data:`JSON_MODE_OPTIONS` turns it on.
- ``event_processor``: an :class:`EventProcessor` (or any :class:`EventTransformer`) applied
  to every chunk.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from .stages.base import Stage
from .stages.json_check import JSONCheckStage
from .stages.transformers import EventTransformer

__all__ = ["JSON_MODE_OPTIONS", "StreamingOptions"]

JSON_OBJECT_FORMAT: dict[str, Any] = {"type": "json_object"}


class StreamingOptions(BaseModel):
    """Options for one client call (see the module docstring)."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    json_mode: bool = False
    event_processor: EventTransformer | None = None

    def response_format(self, given: dict[str, Any] | None) -> dict[str, Any] | None:
        """The response format to send: the call's own, else JSON mode's."""
        if given is not None or not self.json_mode:
            return given
        return dict(JSON_OBJECT_FORMAT)

    def checks(self) -> tuple[Stage, ...]:
        """Stages that may fail a completed stream (they run before progress and callbacks)."""
        return (JSONCheckStage(),) if self.json_mode else ()

    def transformers(self) -> tuple[Stage, ...]:
        """Stages that change chunks (they run with the call's own stages)."""
        return (self.event_processor,) if self.event_processor is not None else ()


#: JSON mode on: ask for a JSON object, fail the stream when the answer is not JSON.
JSON_MODE_OPTIONS = StreamingOptions(json_mode=True)
