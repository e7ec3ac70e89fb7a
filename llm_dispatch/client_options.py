"""Per-call options of the client API: :class:`StreamingOptions` (``streaming_options=``).

Only options that do something exist; an unknown one is an error, not silently ignored.
Each maps onto one of the library's own mechanisms:

- ``json_mode``: JSON output. Asks the provider for JSON (``response_format={"type":
  "json_object"}`` unless the call gives its own format) and turns the JSON stream handler
  on. :data:`JSON_MODE_OPTIONS` is this.
- ``enable_json_stream_handler``: follows the answer as partial JSON while it streams
  (``stream.partial_json``) and checks it when it completed: invalid JSON fails the stream
  with :class:`InvalidJSONError` (carrying the text), so error callbacks hear about it too;
  ``get_json()`` returns the checked value (:mod:`llm_dispatch.stages.json_check`).
- ``enable_usage_aggregation``: off, the stream reports no usage and estimates no tokens
  (``usage`` / ``cost_usd`` None, no ``on_usage`` callback; :mod:`.stages.usage_options`).
- ``aggregator_type`` (``auto``, ``tiktoken``, ``character``) and ``prefer_tiktoken``: how
  the token counts a provider does not report are estimated (:mod:`llm_dispatch.tokens`):
  ``character`` counts characters, ``tiktoken`` uses tiktoken when it is installed with its
  encoding cached locally (nothing is downloaded; else the character estimate, with one
  warning), ``auto`` does the same silently when ``prefer_tiktoken`` (the default), else
  counts characters. ``stream.token_counter`` says which counted.
- ``connection_timeout``: seconds to establish the connection (the ``connect`` deadline);
  ``read_timeout``: the longest wait for the provider's next data, the first token included
  (the ``first_token`` and ``idle`` deadlines). Both replace the configured ones, per
  provider overrides included, for this call.
- ``retry_on_connection_error``: off, a failure to connect (refused, reset, the connect
  deadline) is not retried on the same target (``retry.connection_errors``); the next
  target is still tried.
- ``event_processor``: an :class:`EventProcessor` (or any :class:`EventTransformer`) run on
  the stream.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .settings.policies import TimeoutOverride
from .stages.base import Stage
from .stages.json_check import JSONStreamStage
from .stages.transformers import EventTransformer
from .stages.usage_options import UsageOptionsStage
from .tokens import TokenCounter

__all__ = ["JSON_MODE_OPTIONS", "StreamingOptions"]

JSON_OBJECT_FORMAT: dict[str, Any] = {"type": "json_object"}


class StreamingOptions(BaseModel):
    """Options for one client call (see the module docstring)."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    json_mode: bool = False
    enable_json_stream_handler: bool = False
    enable_usage_aggregation: bool = True
    prefer_tiktoken: bool = True
    aggregator_type: Literal["auto", "tiktoken", "character"] = "auto"
    connection_timeout: float | None = Field(default=None, gt=0)
    read_timeout: float | None = Field(default=None, gt=0)
    retry_on_connection_error: bool = True
    event_processor: EventTransformer | None = None

    @model_validator(mode="before")
    @classmethod
    def _json_mode_handles_json(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("json_mode") is True:
            return {"enable_json_stream_handler": True, **data}
        return data

    @model_validator(mode="after")
    def _consistent(self) -> StreamingOptions:
        given = self.model_fields_set
        if self.json_mode and not self.enable_json_stream_handler:
            raise ValueError(
                "json_mode=True checks the answer with the JSON stream handler: "
                "enable_json_stream_handler=False contradicts it"
            )
        counting = {"prefer_tiktoken", "aggregator_type"} & given
        if not self.enable_usage_aggregation and counting:
            raise ValueError(
                f"{' and '.join(sorted(counting))} choose how usage is counted, but "
                "enable_usage_aggregation=False counts none"
            )
        if "prefer_tiktoken" in given:
            if self.aggregator_type == "tiktoken" and not self.prefer_tiktoken:
                raise ValueError("aggregator_type='tiktoken' contradicts prefer_tiktoken=False")
            if self.aggregator_type == "character" and self.prefer_tiktoken:
                raise ValueError("aggregator_type='character' contradicts prefer_tiktoken=True")
        return self

    @property
    def token_counter(self) -> TokenCounter:
        """How this call estimates unreported token counts."""
        if self.aggregator_type == "auto" and not self.prefer_tiktoken:
            return "character"
        return self.aggregator_type

    def response_format(self, given: dict[str, Any] | None) -> dict[str, Any] | None:
        """The response format to send: the call's own, else JSON mode's."""
        if given is not None or not self.json_mode:
            return given
        return dict(JSON_OBJECT_FORMAT)

    def checks(self) -> tuple[Stage, ...]:
        """Stages that settle or fail a completed stream (they run before progress and
        callbacks): the usage choices, the JSON stream handler."""
        stages: list[Stage] = []
        if not self.enable_usage_aggregation or self.token_counter != "auto":
            stages.append(
                UsageOptionsStage(report=self.enable_usage_aggregation, counter=self.token_counter)
            )
        if self.enable_json_stream_handler:
            stages.append(JSONStreamStage())
        return tuple(stages)

    def transformers(self) -> tuple[Stage, ...]:
        """Stages that change chunks (they run with the call's own stages)."""
        return (self.event_processor,) if self.event_processor is not None else ()

    def timeouts(self) -> TimeoutOverride | None:
        """The call's own deadlines, or None when it sets none."""
        values: dict[str, float] = {}
        if self.connection_timeout is not None:
            values["connect"] = self.connection_timeout
        if self.read_timeout is not None:
            values["first_token"] = values["idle"] = self.read_timeout
        return TimeoutOverride(**values) if values else None

    def policy(self) -> dict[str, Any]:
        """Policy overrides (nested, as ``policy=``) these options make."""
        if self.retry_on_connection_error:
            return {}
        return {"retry": {"connection_errors": False}}


#: JSON mode on: ask for a JSON object, follow and check the answer as JSON.
JSON_MODE_OPTIONS = StreamingOptions(json_mode=True, enable_json_stream_handler=True)
