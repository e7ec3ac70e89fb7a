"""Provider implementations, found by kind.

:data:`PROVIDER_KINDS` maps a configured ``kind`` to the class that implements it. A provider
module is imported only when :func:`provider_class` first needs it, and its SDK only when the
provider itself first needs it (to build its client, or to map an error). The ``function``
kind (the decorated body) is not listed: the dispatcher builds it per call.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Protocol

from ..errors import ConfigError
from .credentials import no_credentials_reason

if TYPE_CHECKING:
    from .base import Provider, ProviderSettings

__all__ = [
    "PROVIDER_KINDS",
    "ProviderClass",
    "create_provider",
    "disabled_reason",
    "provider_class",
]

PROVIDER_KINDS: dict[str, str] = {
    "openai": "llm_dispatch.providers.openai:OpenAIProvider",
    "anthropic": "llm_dispatch.providers.anthropic:AnthropicProvider",
    "google": "llm_dispatch.providers.google:GoogleProvider",
    "azure_openai": "llm_dispatch.providers.azure_openai:AzureOpenAIProvider",
    "google_vertex": "llm_dispatch.providers.google_vertex:GoogleVertexProvider",
    "anthropic_vertex": "llm_dispatch.providers.anthropic_vertex:AnthropicVertexProvider",
    "anthropic_bedrock": "llm_dispatch.providers.anthropic_bedrock:AnthropicBedrockProvider",
}


class ProviderClass(Protocol):
    """What a kind resolves to: a class that builds a provider from its settings, and says
    whether the settings give it credentials (by the rule of :mod:`.credentials`)."""

    credential_env_vars: tuple[str, ...]

    def __call__(self, settings: ProviderSettings) -> Provider: ...

    def has_credentials(self, settings: ProviderSettings) -> bool: ...


def provider_class(kind: str) -> ProviderClass:
    """The class implementing ``kind``, importing its module now (not its SDK)."""
    target = PROVIDER_KINDS.get(kind)
    if target is None:
        known = ", ".join(sorted(PROVIDER_KINDS))
        raise ConfigError(f"unknown provider kind {kind!r}; expected one of: {known}")
    module_name, _, class_name = target.partition(":")
    cls: ProviderClass = getattr(importlib.import_module(module_name), class_name)
    return cls


def create_provider(settings: ProviderSettings) -> Provider:
    """A provider for ``settings``; its SDK client is created on its first stream."""
    return provider_class(settings.kind)(settings)


def disabled_reason(settings: ProviderSettings) -> str | None:
    """Why the provider of ``settings`` cannot be used (no credentials, by the rule of
    :mod:`.credentials`), or None if it can. Kinds not listed here are never disabled."""
    if settings.kind not in PROVIDER_KINDS:
        return None
    return no_credentials_reason(settings.name, settings)
