"""Gemini on Google Cloud Vertex AI: the Gemini provider through
``google.genai.Client(vertexai=True, project=..., location=...)``.

The same requests, streams, parsers (``parser: fast`` by default: Vertex streams the same
``?alt=sse`` chunks), tools, thinking, session handling and error mapping as
:mod:`.google`; only the client's arguments differ:

- Where: ``project`` and ``location`` are required. Requests go to
  ``<base>/v1beta1/projects/<project>/locations/<location>/publishers/google/models/<model>:streamGenerateContent?alt=sse``;
  ``base_url`` unset: the SDK's ``GOOGLE_VERTEX_BASE_URL``, else the location's Vertex AI
  endpoint.
- Credentials: ``access_token`` (a Google OAuth 2 access token, given to the SDK as
  ``google.oauth2.credentials.Credentials``, which it sends as it is and never
  refreshes) when configured, else Application Default Credentials, which the SDK loads
  (``google.auth.default``) and refreshes itself. A credential that cannot be found or
  refreshed is an ``auth`` error (:mod:`.cloud_checks`). There is no API key (Vertex AI
  express mode is not configured through this kind).
"""

from __future__ import annotations

from typing import Any, ClassVar

from ..errors import ProviderError
from .classify import describe_exception, make_error
from .cloud_checks import check_cloud_fields, credential_error_kind
from .credentials import API_KEY_ENV_VARS
from .google import GoogleProvider

__all__ = ["GoogleVertexProvider"]


class GoogleVertexProvider(GoogleProvider):
    """Streams Gemini on Vertex AI as :class:`~llm_dispatch.events.ProviderEvent`."""

    credential_env_vars: ClassVar[tuple[str, ...]] = API_KEY_ENV_VARS["google_vertex"]

    def map_error(self, exc: BaseException, model: str) -> ProviderError:
        kind = credential_error_kind(exc)
        if kind is not None:
            return make_error(self, kind, describe_exception(exc), model)
        return super().map_error(exc, model)

    def _client_arguments(self) -> dict[str, Any]:
        settings = self.settings
        check_cloud_fields(self)
        arguments: dict[str, Any] = {
            "vertexai": True,
            "project": settings.project,
            "location": settings.location,
        }
        if settings.access_token is not None:
            from google.oauth2.credentials import Credentials

            token = settings.access_token.get_secret_value()
            arguments["credentials"] = Credentials(token=token)  # type: ignore[no-untyped-call]
        return arguments
