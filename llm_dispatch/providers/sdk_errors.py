"""One error mapper for the ``openai`` and ``anthropic`` SDKs, which raise the same shapes.

:meth:`SdkErrorMapper.map_error` turns what either SDK raised into a :class:`ProviderError`:

- ``APIStatusError`` with an error status (``status_code`` ≥ 400): the status's kind, where
  the error's labels and the API's own message refine a 4xx (a context-length or
  content-filter 400); ``Retry-After`` from ``response.headers``;
- the in-stream error event (OpenAI's ``data: {"error": ...}``, which the SDK raises as a
  plain ``APIError``; Anthropic's ``event: error``, raised as an ``APIStatusError`` with the
  stream's own 200 status): the kind its labels name, else ``server``; a bad request is
  refined by the message, and no status is kept;
- ``APITimeoutError``: ``timeout``; ``APIConnectionError``: ``connection``;
  ``APIResponseValidationError``: ``malformed``;
- anything else: the kind of a transport failure (:func:`.classify.transport_error_kind`),
  else ``auth`` when the SDK could not find credentials, else ``server``.

What differs between the two SDKs is given to the mapper: the SDK's module name (imported
when the first error is mapped), how to read the API's message and the error's labels (its
type and code), and how the SDK says it has no credentials.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import ErrorKind, ProviderError
from .classify import (
    describe_exception,
    kind_for_labels,
    kind_for_status,
    make_error,
    refine_bad_request,
    retry_after_from_headers,
    transport_error_kind,
)

if TYPE_CHECKING:
    from .base import Provider

__all__ = ["SdkErrorMapper"]


@dataclass(frozen=True)
class SdkErrorMapper:
    """Maps the exceptions of one SDK shaped like ``openai`` / ``anthropic``."""

    #: The SDK's module (``openai``, ``anthropic``): where its exception classes are.
    sdk: str
    #: The API's own message of an ``APIError`` (from the body when it has one).
    message: Callable[[Any], str]
    #: The labels of an ``APIError``: its error type and error code, either may be None.
    labels: Callable[[Any], tuple[object, ...]]
    #: Whether an exception that is no API or transport error says credentials are missing.
    is_credentials_error: Callable[[BaseException], bool]

    def map_error(self, provider: Provider, exc: BaseException, model: str) -> ProviderError:
        """The :class:`ProviderError` for ``exc``, raised by this SDK for ``provider``."""
        if isinstance(exc, ProviderError):
            return exc
        sdk: Any = importlib.import_module(self.sdk)
        if isinstance(exc, sdk.APIStatusError) and exc.status_code >= 400:
            return self._status_error(provider, exc, model)
        if isinstance(exc, sdk.APITimeoutError):
            kind: ErrorKind | None = ErrorKind.TIMEOUT
        elif isinstance(exc, sdk.APIConnectionError):
            kind = ErrorKind.CONNECTION
        elif isinstance(exc, sdk.APIResponseValidationError):
            kind = ErrorKind.MALFORMED
        elif isinstance(exc, sdk.APIError):
            return self._stream_error(provider, exc, model)
        else:
            kind = transport_error_kind(exc)
            if kind is None and self.is_credentials_error(exc):
                kind = ErrorKind.AUTH
        return make_error(provider, kind or ErrorKind.SERVER, describe_exception(exc), model)

    def _status_error(self, provider: Provider, exc: Any, model: str) -> ProviderError:
        """An HTTP error status, refined by the error's labels and message."""
        message = self.message(exc)
        text = " ".join(str(part) for part in (*self.labels(exc), message))
        return make_error(
            provider,
            kind_for_status(exc.status_code, text),
            message,
            model,
            status_code=exc.status_code,
            retry_after=retry_after_from_headers(exc.response.headers),
        )

    def _stream_error(self, provider: Provider, exc: Any, model: str) -> ProviderError:
        """An error event inside the stream: its HTTP status (if any) says nothing, its
        labels say what happened."""
        message = self.message(exc)
        kind = kind_for_labels(*self.labels(exc)) or ErrorKind.SERVER
        if kind is ErrorKind.BAD_REQUEST:
            kind = refine_bad_request(message)
        return make_error(provider, kind, message, model)
