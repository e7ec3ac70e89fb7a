"""Where each SDK finds its key and endpoint, and the one rule for "this provider has a key".

The configuration (:meth:`~llm_dispatch.settings.models.ProviderConfig.disabled_reason`, which
the router uses when it is given no ``is_enabled``), the registry
(:func:`~llm_dispatch.providers.registry.disabled_reason`, which the dispatcher asks) and the
provider classes (:meth:`~llm_dispatch.providers.base.Provider.has_credentials`) all decide
with :func:`has_credentials`. A provider has credentials when

- its ``api_key`` is configured; or
- its kind is one of :data:`KEYLESS_WITH_BASE_URL` (``openai``) and its ``base_url`` is
  configured: an OpenAI-compatible server (vLLM, Ollama ...) often needs no key, and the
  provider then sends a placeholder key, never ``OPENAI_API_KEY``; or
- one of its kind's :data:`API_KEY_ENV_VARS` is set and not empty; or
- its kind is one of :data:`CREDENTIAL_CHAINS` (``google_vertex``, ``anthropic_vertex``,
  ``anthropic_bedrock``): their SDKs find credentials through a chain that ends at a cloud
  metadata server (Google's Application Default Credentials, the AWS credential chain),
  which cannot be asked without a network call. Such a provider is never disabled for want
  of a key; missing credentials fail its first attempt as an ``auth`` error. Their
  :data:`API_KEY_ENV_VARS` are the variables that hold secrets the SDK reads, scrubbed
  from errors like any key.

A kind with no key variables (``function``, the decorated body) always has credentials. A
provider without them is disabled with :func:`no_credentials_reason`'s message. Nothing here
imports an SDK.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Protocol

from pydantic import SecretStr

__all__ = [
    "API_KEY_ENV_VARS",
    "BASE_URL_ENV_VARS",
    "CREDENTIAL_CHAINS",
    "KEYLESS_WITH_BASE_URL",
    "CredentialFields",
    "has_credentials",
    "no_credentials_reason",
]

#: Where each SDK looks for its key when ``api_key`` is not set (any one of them is enough).
API_KEY_ENV_VARS: dict[str, tuple[str, ...]] = {
    "openai": ("OPENAI_API_KEY",),
    "anthropic": ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN"),
    "google": ("GEMINI_API_KEY", "GOOGLE_API_KEY"),
    "azure_openai": ("AZURE_OPENAI_API_KEY", "AZURE_OPENAI_AD_TOKEN"),
    "google_vertex": (),
    "anthropic_vertex": (),
    "anthropic_bedrock": ("AWS_BEARER_TOKEN_BEDROCK", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"),
}
#: Where each SDK looks for its endpoint when ``base_url`` is not set.
BASE_URL_ENV_VARS: dict[str, str] = {
    "openai": "OPENAI_BASE_URL",
    "anthropic": "ANTHROPIC_BASE_URL",
    "google": "GOOGLE_GEMINI_BASE_URL",
    "azure_openai": "AZURE_OPENAI_ENDPOINT",
    "google_vertex": "GOOGLE_VERTEX_BASE_URL",
    "anthropic_vertex": "ANTHROPIC_VERTEX_BASE_URL",
    "anthropic_bedrock": "ANTHROPIC_BEDROCK_BASE_URL",
}
#: Kinds whose SDK finds credentials through a chain (see the module docstring), and what
#: the chain is called.
CREDENTIAL_CHAINS: dict[str, str] = {
    "google_vertex": "Application Default Credentials",
    "anthropic_vertex": "Application Default Credentials",
    "anthropic_bedrock": "the AWS credential chain",
}
#: Kinds that need no key once a ``base_url`` is configured.
KEYLESS_WITH_BASE_URL: frozenset[str] = frozenset({"openai"})


class CredentialFields(Protocol):
    """What the rule reads of a provider's configuration (``ProviderConfig`` or
    ``ProviderSettings``)."""

    @property
    def kind(self) -> str: ...

    @property
    def api_key(self) -> SecretStr | None: ...

    @property
    def base_url(self) -> str | None: ...


def has_credentials(provider: CredentialFields, environ: Mapping[str, str] | None = None) -> bool:
    """Whether ``provider`` can be sent a request as far as its key goes (see the module
    docstring); ``environ`` defaults to the process environment."""
    variables = API_KEY_ENV_VARS.get(provider.kind)
    if variables is None or provider.api_key is not None or provider.kind in CREDENTIAL_CHAINS:
        return True
    if provider.base_url is not None and provider.kind in KEYLESS_WITH_BASE_URL:
        return True
    env = os.environ if environ is None else environ
    return any(env.get(v) for v in variables)


def no_credentials_reason(
    name: str, provider: CredentialFields, environ: Mapping[str, str] | None = None
) -> str | None:
    """Why the provider configured as ``name`` is disabled for want of a key, or None when
    :func:`has_credentials` says it has one."""
    if has_credentials(provider, environ):
        return None
    variables = " or ".join(API_KEY_ENV_VARS[provider.kind])
    return f"disabled: no API key (set {variables} or providers.{name}.api_key)"
