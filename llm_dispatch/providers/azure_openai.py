"""Azure OpenAI: the OpenAI provider through ``openai.AsyncAzureOpenAI``.

The same requests, streams, parsers (``parser: fast`` by default), tools, options and
error mapping as :mod:`.openai`'s chat completions; only the client differs:

- Endpoint: ``base_url`` is the resource's endpoint (``https://<resource>.openai.azure.com``),
  given to the SDK as ``azure_endpoint``; unset, the SDK reads ``AZURE_OPENAI_ENDPOINT``.
  Requests go to ``/openai/deployments/<deployment>/chat/completions?api-version=<api_version>``.
- Deployment: ``deployment`` when set (every request goes to it, whatever its model);
  unset, the request's model names the deployment (the SDK puts it in the path).
- Key: ``api_key``, else the SDK's ``AZURE_OPENAI_API_KEY`` (sent as the ``api-key``
  header), else ``AZURE_OPENAI_AD_TOKEN`` (a Microsoft Entra ID token, sent as a bearer
  token). A token provider that refreshes Entra ID tokens (``azure-identity``) is not
  supported.
- Every model goes to chat completions (``api`` and ``model_api`` are refused for this
  kind), and ``max_tokens`` is sent as ``max_completion_tokens``, which Azure's reasoning
  models require (API versions from 2024-09-01-preview on take it).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, ClassVar

from ..errors import ErrorKind
from .classify import make_error
from .cloud_checks import check_cloud_fields
from .credentials import API_KEY_ENV_VARS, BASE_URL_ENV_VARS
from .openai import OpenAIProvider
from .openai_apis import OpenAIApi

if TYPE_CHECKING:
    from openai import AsyncOpenAI

__all__ = ["AzureOpenAIProvider"]


class AzureOpenAIProvider(OpenAIProvider):
    """Streams Azure OpenAI chat completions as :class:`~llm_dispatch.events.ProviderEvent`."""

    credential_env_vars: ClassVar[tuple[str, ...]] = API_KEY_ENV_VARS["azure_openai"]

    def _api_for(self, model: str) -> OpenAIApi:
        return "chat"

    def _takes_max_completion_tokens(self, client: AsyncOpenAI) -> bool:
        return True

    def _make_client(self) -> AsyncOpenAI:
        import openai

        settings = self.settings
        check_cloud_fields(self)
        variable = BASE_URL_ENV_VARS["azure_openai"]
        if settings.base_url is None and not os.environ.get(variable):
            raise make_error(
                self,
                ErrorKind.NOT_FOUND,
                f"no Azure OpenAI endpoint: set providers.{self.name}.base_url or {variable}",
                settings.model or "",
            )
        # Unset, the SDK reads AZURE_OPENAI_ENDPOINT itself.
        endpoint: dict[str, Any] = (
            {"azure_endpoint": settings.base_url} if settings.base_url is not None else {}
        )
        return openai.AsyncAzureOpenAI(
            **endpoint,
            azure_deployment=settings.deployment,
            api_version=settings.api_version,
            api_key=settings.api_key.get_secret_value() if settings.api_key else None,
            max_retries=0,
            timeout=openai.Timeout(None, connect=settings.connect_timeout),
            default_headers=settings.header_values() or None,
        )
