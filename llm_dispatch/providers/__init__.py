"""Provider implementations: one per SDK, found by kind (see :mod:`.registry`).

- :mod:`.registry`: which class implements a ``kind``, and building providers;
- :mod:`.credentials`: each kind's key and endpoint variables, and the one rule for whether
  a provider has a key;
- :mod:`.base`: the :class:`~.base.Provider` interface and :class:`~.base.ProviderSettings`;
- :mod:`.openai`, :mod:`.anthropic`, :mod:`.google`: the SDK providers (each imports its SDK
  only when it first needs it; :mod:`.google_http` is Gemini's aiohttp session), and
  :mod:`.function`: the decorated body as a provider;
- :mod:`.classify`: failures to :class:`~llm_dispatch.errors.ErrorKind` and redacted errors,
  and :mod:`.sdk_errors`: the one mapper of the ``openai`` and ``anthropic`` SDKs' exceptions;
- :mod:`.stream_reading`: finish reasons, token counts, releasing an SDK stream;
- :mod:`.continuation`: how each kind is asked to continue a partial answer.
"""

from .registry import (
    PROVIDER_KINDS,
    ProviderClass,
    create_provider,
    disabled_reason,
    provider_class,
)

__all__ = [
    "PROVIDER_KINDS",
    "ProviderClass",
    "create_provider",
    "disabled_reason",
    "provider_class",
]
