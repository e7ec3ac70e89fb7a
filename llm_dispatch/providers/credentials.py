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
- one of its kind's :data:`API_KEY_ENV_VARS` is set and not empty.

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
}
#: Where each SDK looks for its endpoint when ``base_url`` is not set.
BASE_URL_ENV_VARS: dict[str, str] = {
    "openai": "OPENAI_BASE_URL",
    "anthropic": "ANTHROPIC_BASE_URL",
    "google": "GOOGLE_GEMINI_BASE_URL",
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
    if variables is None or provider.api_key is not None:
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
