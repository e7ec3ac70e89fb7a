"""Claude on Amazon Bedrock: the Anthropic provider through
``anthropic.AsyncAnthropicBedrock`` (the ``bedrock`` extra: boto3 and botocore).

The same requests, tools, thinking and error mapping as :mod:`.anthropic`, read by the
SDK (``parser: sdk`` only): Bedrock streams the messages API's events inside AWS's binary
event stream (``application/vnd.amazon.eventstream``), which the SDK decodes with botocore.
An ``exception`` frame in the stream (throttling, a model error) arrives as the messages
API's ``error`` event and is classified by its type (``throttlingException`` is
``rate_limit``, ``modelStreamErrorException`` ``server`` ...).

- Where: ``region`` is required. Requests go to
  ``<base>/model/<model>/invoke-with-response-stream`` (the model is Bedrock's model or
  inference-profile id, e.g. ``us.anthropic.claude-sonnet-4-5-20250929-v1:0``);
  ``base_url`` unset: ``ANTHROPIC_BEDROCK_BASE_URL``, else
  ``https://bedrock-runtime.<region>.amazonaws.com``.
- Needs boto3 and botocore (``pip install 'llm-dispatch[bedrock]'``); without them the
  first attempt fails with a ``bad_request`` error that says so, before anything is sent.
- Credentials: ``api_key`` (a Bedrock API key, sent as a bearer token), else the SDK's
  ``AWS_BEARER_TOKEN_BEDROCK``, else the AWS credential chain through boto3
  (``AWS_ACCESS_KEY_ID`` / ``AWS_SECRET_ACCESS_KEY`` / ``AWS_SESSION_TOKEN``,
  ``AWS_PROFILE``, the shared files, web identity, container and instance roles), each
  request signed with SigV4. A chain that yields no credential is an ``auth`` error
  (:mod:`.cloud_checks`).
- An HTTP error's message is Bedrock's ``{"message": ...}`` body, which the SDK does not read.
"""

from __future__ import annotations

import importlib.util
from typing import TYPE_CHECKING, ClassVar

from ..errors import ErrorKind, ProviderError
from ..redaction import redact
from .anthropic import AnthropicProvider
from .classify import describe_exception, make_error
from .cloud_checks import check_cloud_fields, credential_error_kind
from .credentials import API_KEY_ENV_VARS

if TYPE_CHECKING:
    from anthropic import AsyncAnthropic

__all__ = ["AnthropicBedrockProvider"]


class AnthropicBedrockProvider(AnthropicProvider):
    """Streams Claude on Amazon Bedrock as :class:`~llm_dispatch.events.ProviderEvent`."""

    credential_env_vars: ClassVar[tuple[str, ...]] = API_KEY_ENV_VARS["anthropic_bedrock"]

    def map_error(self, exc: BaseException, model: str) -> ProviderError:
        kind = credential_error_kind(exc)
        if kind is not None:
            return make_error(self, kind, describe_exception(exc), model)
        error = super().map_error(exc, model)
        # Bedrock's error body is {"message": ...}, not the messages API's {"error": {...}}.
        body = getattr(exc, "body", None)
        message = body.get("message") if isinstance(body, dict) else None
        if error.status_code is not None and isinstance(message, str) and message:
            error.message = redact(message, self.secrets())
            error.args = (error.message,)
        return error

    def _make_client(self) -> AsyncAnthropic:
        import anthropic

        settings = self.settings
        check_cloud_fields(self)
        if importlib.util.find_spec("botocore") is None:
            raise make_error(
                self,
                ErrorKind.BAD_REQUEST,
                "kind anthropic_bedrock needs botocore and boto3: "
                "pip install 'llm-dispatch[bedrock]'",
                settings.model or "",
            )
        # The SDK's Bedrock client is no subclass of AsyncAnthropic, but has its messages API.
        client: AsyncAnthropic = anthropic.AsyncAnthropicBedrock(  # type: ignore[assignment]
            aws_region=settings.region,
            api_key=settings.api_key.get_secret_value() if settings.api_key else None,
            base_url=settings.base_url,
            max_retries=0,
            timeout=anthropic.Timeout(None, connect=settings.connect_timeout),
            default_headers=settings.header_values() or None,
        )
        return client
