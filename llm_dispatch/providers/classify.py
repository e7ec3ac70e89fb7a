"""Turning what an SDK raised, or a stream ended with, into an :class:`ErrorKind` and a
redacted :class:`ProviderError`.

Shared by the OpenAI, Anthropic and Gemini providers and needing no SDK at import: an HTTP
status or an error label to a kind, transport failures (httpx2, anyio, sockets, JSON) to a
kind, ``Retry-After`` headers to seconds, and the errors for a stream that ended without its
closing event or with a refusal.
"""

from __future__ import annotations

import email.utils
import json
import math
import re
import ssl
import time
from typing import Any, Protocol

from ..errors import ErrorKind, ProviderError
from ..provider_errors import provider_error
from ..redaction import redact

__all__ = [
    "describe_exception",
    "incomplete_error",
    "is_connect_timeout",
    "kind_for_labels",
    "kind_for_status",
    "make_error",
    "refine_bad_request",
    "refusal_error",
    "retry_after_from_headers",
    "transport_error_kind",
]

# -- HTTP statuses, error labels and transport failures ---------------------------------------

_CONTEXT_LENGTH = re.compile(
    r"context[ _-]?(length|window|limit)|prompt is too long|input is too long"
    r"|exceeds the maximum number of tokens",
    re.IGNORECASE,
)
_CONTENT_FILTER = re.compile(
    r"content[ _-]?(filter|policy|management)|safety (system|filter)|flagged as potentially",
    re.IGNORECASE,
)

# Checked in order: the first label family that matches decides. Specific families come
# before generic ones ("server_error" + "overloaded" is an overload, not a plain 500).
_LABEL_KINDS: tuple[tuple[re.Pattern[str], ErrorKind], ...] = (
    (_CONTEXT_LENGTH, ErrorKind.CONTEXT_LENGTH),
    (_CONTENT_FILTER, ErrorKind.CONTENT_FILTER),
    (re.compile(r"rate[ _-]?limit|resource_exhausted|quota|throttl", re.I), ErrorKind.RATE_LIMIT),
    (re.compile(r"overload|unavailable", re.I), ErrorKind.OVERLOADED),
    (re.compile(r"timeout|deadline", re.I), ErrorKind.TIMEOUT),
    (
        re.compile(r"authenticat|permission|api[ _-]?key|unauthenticated|billing", re.I),
        ErrorKind.AUTH,
    ),
    (re.compile(r"not[ _-]?found", re.I), ErrorKind.NOT_FOUND),
    (
        re.compile(r"invalid|too[ _-]?large|bad[ _-]?request|validationexception", re.I),
        ErrorKind.BAD_REQUEST,
    ),
    (re.compile(r"server|api_error|internal", re.I), ErrorKind.SERVER),
)


def kind_for_status(status: int, text: str = "") -> ErrorKind:
    """The kind of an HTTP error status; ``text`` (message, error code) refines a 4xx."""
    if status in (401, 402, 403):
        return ErrorKind.AUTH
    if status == 404:
        return ErrorKind.NOT_FOUND
    if status in (408, 504):
        return ErrorKind.TIMEOUT
    if status == 429:
        return ErrorKind.RATE_LIMIT
    if status in (503, 529):
        return ErrorKind.OVERLOADED
    if status >= 500:
        return ErrorKind.SERVER
    return refine_bad_request(text)


def refine_bad_request(text: str) -> ErrorKind:
    """A rejected request is a context-length or content-filter error when its text says so."""
    if _CONTEXT_LENGTH.search(text):
        return ErrorKind.CONTEXT_LENGTH
    if _CONTENT_FILTER.search(text):
        return ErrorKind.CONTENT_FILTER
    return ErrorKind.BAD_REQUEST


def kind_for_labels(*labels: object) -> ErrorKind | None:
    """The kind named by error labels of an in-stream error (type, code, status), if any."""
    text = " ".join(str(label) for label in labels if label)
    for pattern, kind in _LABEL_KINDS:
        if pattern.search(text):
            return kind
    return None


def transport_error_kind(exc: BaseException) -> ErrorKind | None:
    """The kind of a transport-level failure (httpx2, anyio, sockets, JSON), if it is one."""
    import anyio
    import httpx2
    import pydantic

    if isinstance(exc, httpx2.TimeoutException | TimeoutError):
        return ErrorKind.TIMEOUT
    if isinstance(exc, json.JSONDecodeError | UnicodeDecodeError | pydantic.ValidationError):
        return ErrorKind.MALFORMED
    if isinstance(exc, httpx2.DecodingError):
        return ErrorKind.MALFORMED
    connection_errors = (
        httpx2.RequestError,
        anyio.EndOfStream,
        anyio.BrokenResourceError,
        anyio.ClosedResourceError,
        ssl.SSLError,
        OSError,
    )
    if isinstance(exc, connection_errors):
        return ErrorKind.CONNECTION
    return None


def is_connect_timeout(exc: BaseException) -> bool:
    """Whether ``exc`` (or an exception it wraps) is a timeout while connecting: httpx2's
    ``ConnectTimeout`` (openai, anthropic) or aiohttp's ``ConnectionTimeoutError`` (google)."""
    import aiohttp
    import httpx2

    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        if isinstance(cause, httpx2.ConnectTimeout | aiohttp.ConnectionTimeoutError):
            return True
        seen.add(id(cause))
        cause = cause.__cause__ or cause.__context__
    return False


def describe_exception(exc: BaseException) -> str:
    """``Type: message``, followed by the cause when the SDK wrapped one (e.g. "Connection
    error." hides which connection error)."""
    text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    cause = exc.__cause__
    if cause is not None and str(cause) not in text:
        text += f" (caused by {type(cause).__name__}: {cause})"
    return " ".join(text.split())


# -- Retry-After -----------------------------------------------------------------------------


def retry_after_from_headers(headers: Any) -> float | None:
    """Seconds the server asked to wait (``retry-after-ms`` or ``Retry-After``), or None.

    Accepts httpx2 / aiohttp headers and plain dicts (case-insensitively).
    """
    if headers is None:
        return None
    milliseconds = _seconds(_header(headers, "retry-after-ms"))
    if milliseconds is not None:
        return milliseconds / 1000.0
    value = _header(headers, "retry-after")
    if value is None:
        return None
    seconds = _seconds(value)
    return seconds if seconds is not None else _seconds_until(value)


def _header(headers: Any, name: str) -> str | None:
    items = headers.items() if hasattr(headers, "items") else ()
    for key, value in items:
        if str(key).lower() == name:
            return str(value)
    return None


def _seconds(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


def _seconds_until(http_date: str) -> float | None:
    try:
        moment = email.utils.parsedate_to_datetime(http_date)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - time.time())


# -- errors ---------------------------------------------------------------------------------


class Provider(Protocol):
    """What building an error needs of a provider: its name, and the secrets to redact."""

    name: str

    def secrets(self) -> tuple[str, ...]: ...


def make_error(
    provider: Provider,
    kind: ErrorKind,
    message: str,
    model: str,
    *,
    status_code: int | None = None,
    retry_after: float | None = None,
) -> ProviderError:
    """The :class:`ProviderError` subclass for ``kind``, with its message redacted."""
    return provider_error(
        kind,
        redact(message, provider.secrets()),
        provider=provider.name,
        model=model,
        status_code=status_code,
        retry_after=retry_after,
    )


def incomplete_error(
    provider: Provider, model: str, closing_event: str, chars: int
) -> ProviderError:
    """The error for a body that ended cleanly but without the provider's closing event."""
    return make_error(
        provider,
        ErrorKind.INCOMPLETE,
        f"the stream ended without {closing_event} after {chars} characters of text: "
        "the answer is truncated",
        model,
    )


def refusal_error(
    provider: Provider, model: str, finish_reason: str, chars: int, detail: str = ""
) -> ProviderError:
    """The error for a stream that ended with a content-filter finish reason.

    Providers raise it after yielding whatever text came first, so a refusal after a partial
    answer reaches the dispatcher as a failure mid-stream, and one before any text as a
    failed attempt. ``detail`` is the provider's own explanation, if it gave one.
    """
    message = (
        f"the provider refused the answer: finish reason {finish_reason!r} after {chars} "
        "characters of text"
    )
    if detail:
        message = f"{message} ({detail})"
    return make_error(provider, ErrorKind.CONTENT_FILTER, message, model)
