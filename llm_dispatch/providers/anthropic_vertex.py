"""Claude on Google Cloud Vertex AI: the Anthropic provider through
``anthropic.AsyncAnthropicVertex``.

The same requests, streams, parsers (``parser: fast`` by default: Vertex streams the
messages API's server-sent events), tools, thinking and error mapping as
:mod:`.anthropic`; only the client differs:

- Where: ``project`` and ``location`` (the SDK's ``region``) are required. Requests go to
  ``<base>/projects/<project>/locations/<location>/publishers/anthropic/models/<model>:streamRawPredict``
  with the model out of the body and ``anthropic_version`` in it (the SDK moves them);
  ``base_url`` unset: ``ANTHROPIC_VERTEX_BASE_URL``, else the location's Vertex AI
  endpoint (``https://<location>-aiplatform.googleapis.com/v1``; ``global``, ``us`` and
  ``eu`` have their own).
- Credentials: ``access_token`` (a Google OAuth 2 access token) when configured, else the
  SDK's Application Default Credentials (google-auth: ``GOOGLE_APPLICATION_CREDENTIALS``,
  the gcloud login, a metadata server), loaded and refreshed by the SDK in a worker
  thread. A credential that cannot be found or refreshed is an ``auth`` error
  (:mod:`.cloud_checks`). There is no API key.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from ..errors import ProviderError
from .anthropic import AnthropicProvider
from .classify import describe_exception, make_error
from .cloud_checks import check_cloud_fields, credential_error_kind
from .credentials import API_KEY_ENV_VARS

if TYPE_CHECKING:
    from anthropic import AsyncAnthropic

__all__ = ["AnthropicVertexProvider"]


class AnthropicVertexProvider(AnthropicProvider):
    """Streams Claude on Vertex AI as :class:`~llm_dispatch.events.ProviderEvent`."""

    credential_env_vars: ClassVar[tuple[str, ...]] = API_KEY_ENV_VARS["anthropic_vertex"]

    def map_error(self, exc: BaseException, model: str) -> ProviderError:
        kind = credential_error_kind(exc)
        if kind is not None:
            return make_error(self, kind, describe_exception(exc), model)
        return super().map_error(exc, model)

    def _make_client(self) -> AsyncAnthropic:
        import anthropic

        settings = self.settings
        check_cloud_fields(self)
        token = settings.access_token
        # The SDK's Vertex client is no subclass of AsyncAnthropic, but has its messages API.
        client: AsyncAnthropic = anthropic.AsyncAnthropicVertex(  # type: ignore[assignment]
            region=settings.location or anthropic.NOT_GIVEN,
            project_id=settings.project or anthropic.NOT_GIVEN,
            access_token=token.get_secret_value() if token is not None else None,
            base_url=settings.base_url,
            max_retries=0,
            timeout=anthropic.Timeout(None, connect=settings.connect_timeout),
            default_headers=settings.header_values() or None,
        )
        return client
