"""A target: one provider and one model that a request may be sent to."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..providers.base import ModelPrice, ProviderSettings
from ..settings.capabilities import Capabilities

__all__ = ["Target"]


@dataclass(frozen=True, slots=True)
class Target:
    """``provider/model`` plus what the strategies and the dispatcher need to know about it.

    Equality and hashing use provider, model and weight only: settings, price, capabilities
    and options are derived from the configuration and would make the target unhashable.
    """

    provider: str
    model: str
    settings: ProviderSettings | None = field(default=None, compare=False, repr=False)
    #: Share of traffic under the ``weighted`` strategy.
    weight: float = 1.0
    #: USD per one million tokens, when the configuration knows it.
    price: ModelPrice | None = field(default=None, compare=False)
    #: What the model takes (modalities, context window); None: not known here (a cache
    #: replay), which nothing is checked against.
    capabilities: Capabilities | None = field(default=None, compare=False, repr=False)
    #: The route target's provider options (see :mod:`llm_dispatch.provider_options`).
    options: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def key(self) -> str:
        """``provider/model``: the name in plans, logs, circuit state and latency stats."""
        return f"{self.provider}/{self.model}"

    @property
    def kind(self) -> str | None:
        return self.settings.kind if self.settings is not None else None

    @property
    def api(self) -> str | None:
        """The OpenAI API the model is sent to (``chat`` / ``responses``), None for the other
        kinds (see :mod:`llm_dispatch.providers.openai_apis`)."""
        settings = self.settings
        if settings is None or settings.kind != "openai":
            return None
        return settings.api_for(self.model)

    @property
    def form_kind(self) -> str:
        """The kind whose request form applies: ``openai-responses`` for an OpenAI model sent
        to the Responses API, else the kind (the provider's name when unknown)."""
        return "openai-responses" if self.api == "responses" else (self.kind or self.provider)

    @property
    def context_window(self) -> int | None:
        """The model's context window in tokens, when known."""
        return self.capabilities.context_window if self.capabilities is not None else None
