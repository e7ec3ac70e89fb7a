"""The routes of the configuration (``routes:``): which targets serve a task type, in order.

A route key is a task type value or ``default`` (:data:`ROUTE_KEYS`). A route is a
:class:`RouteConfig`: its :class:`RouteTarget` entries and the strategy that orders them per
request. Whether the targets name known providers and models is checked by
:class:`~llm_dispatch.settings.models.DispatchConfig`, which sees the providers too.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..redaction import redacted_mapping
from ..task_types import TaskType

__all__ = ["ROUTE_KEYS", "RouteConfig", "RouteTarget", "StrategyName"]

StrategyName = Literal["priority", "cost", "latency", "weighted", "round_robin"]

#: Route keys: a task type value, or ``default`` for every task type without its own route.
ROUTE_KEYS: tuple[str, ...] = (*(t.value for t in TaskType), "default")


class RouteTarget(BaseModel):
    """One entry of a route: ``"provider/model"``, ``"provider"`` or a mapping (the only
    form that takes ``weight`` and ``options``).

    ``model`` None means the provider's default model. Only the first ``/`` separates the
    provider, so ``"vllm/Qwen/Qwen2.5-7B-Instruct"`` names model ``Qwen/Qwen2.5-7B-Instruct``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    provider: str = Field(min_length=1, description="The name of a configured provider.")
    model: str | None = Field(
        default=None,
        min_length=1,
        description="The model; unset: the provider's default_model (else the first of its "
        "models).",
    )
    weight: float | None = Field(
        default=None,
        ge=0,
        description="Share of traffic under the weighted strategy (0: only after all "
        "others); unset: the provider's weight.",
    )
    options: dict[str, Any] = Field(
        default_factory=dict,
        description="Provider options this target is sent ({seed: 7}): names its provider's "
        "kind applies, checked at load, no headers; the call's own options win key by key.",
    )

    @model_validator(mode="before")
    @classmethod
    def _from_string(cls, data: Any) -> Any:
        if not isinstance(data, str):
            return data
        provider, slash, model = data.strip().partition("/")
        if slash and not model.strip():
            raise ValueError(f"target {data!r} has an empty model after '/'")
        return {"provider": provider.strip(), "model": model.strip() if slash else None}

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        # Options may carry credentials (``extra_headers``): the repr hides their values.
        for name, value in super().__repr_args__():
            yield name, redacted_mapping(value) if name == "options" else value

    @property
    def label(self) -> str:
        """How the target is written in YAML (``provider`` or ``provider/model``)."""
        return self.provider if self.model is None else f"{self.provider}/{self.model}"


class RouteConfig(BaseModel):
    """Ordered targets of one task type and how to order them per request.

    A bare list (``code_generation: [anthropic, openai]``) is a route with the ``priority``
    strategy.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    targets: list[RouteTarget] = Field(
        min_length=1,
        description="The targets, each once: provider, provider/model, or a mapping.",
    )
    strategy: StrategyName = Field(
        default="priority",
        description="How the usable targets are ordered per request: priority (as listed), "
        "cost (cheapest known input + output price first), latency (lowest measured time "
        "to first token first, unmeasured first), weighted (random by weight) or "
        "round_robin (rotated on every request).",
    )

    @model_validator(mode="before")
    @classmethod
    def _from_list(cls, data: Any) -> Any:
        if isinstance(data, str):
            return {"targets": [data]}
        if isinstance(data, list):
            return {"targets": data}
        return data
