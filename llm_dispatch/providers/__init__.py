"""Provider implementations, found by kind, and the helpers the SDK providers share.

:data:`PROVIDER_KINDS` maps a configured ``kind`` to the class that implements it; a provider
module (and so its SDK) is imported only when :func:`create_provider` first needs it. The
``function`` kind (the decorated body) is not listed: the dispatcher builds it per call.

The rest of this module is what the OpenAI, Anthropic and Gemini providers have in common
and that needs no SDK: turning an HTTP status or an error label into an :class:`ErrorKind`,
reading ``Retry-After``, normalising finish reasons, and building redacted errors.
"""

from __future__ import annotations

import contextlib
import email.utils
import importlib
import json
import math
import re
import ssl
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

from ..errors import ConfigError, ErrorKind, ProviderError
from ..provider_errors import provider_error
from ..redaction import redact

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
}


class ProviderClass(Protocol):
    """What the registry needs of a provider class: build one, and say if it has a key."""

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
    """Why the provider of ``settings`` cannot be used (no credentials), or None if it can."""
    if settings.kind not in PROVIDER_KINDS:
        return None
    cls = provider_class(settings.kind)
    if cls.has_credentials(settings):
        return None
    name = getattr(settings, "name", settings.kind)
    variables = " or ".join(cls.credential_env_vars)
    return f"disabled: no API key (set {variables} or providers.{name}.api_key)"


# -- error classification shared by the SDK providers ---------------------------------------

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
    (re.compile(r"rate[ _-]?limit|resource_exhausted|quota", re.I), ErrorKind.RATE_LIMIT),
    (re.compile(r"overload|unavailable", re.I), ErrorKind.OVERLOADED),
    (re.compile(r"timeout|deadline", re.I), ErrorKind.TIMEOUT),
    (
        re.compile(r"authenticat|permission|api[ _-]?key|unauthenticated|billing", re.I),
        ErrorKind.AUTH,
    ),
    (re.compile(r"not[ _-]?found", re.I), ErrorKind.NOT_FOUND),
    (re.compile(r"invalid|too[ _-]?large|bad[ _-]?request", re.I), ErrorKind.BAD_REQUEST),
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


# -- events and errors -------------------------------------------------------------------------


def normalise_finish_reason(raw: object, table: Mapping[str, str]) -> str | None:
    """The provider's finish reason in our vocabulary (stop, length, content_filter,
    tool_calls), or passed through in lowercase when the table does not know it."""
    if raw is None:
        return None
    key = str(getattr(raw, "value", raw)).lower()
    return table.get(key, key) if key else None


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


def update_counts(counts: dict[str, int], report: object, names: tuple[str, ...]) -> None:
    """Copy the token counts ``names`` of a usage ``report`` (an SDK object, or None) into
    ``counts``.

    Providers report running totals, so a count replaces the one before it; a count the
    report leaves out (absent or null) keeps its earlier value.
    """
    for name in names:
        value = getattr(report, name, None)
        if isinstance(value, int):
            counts[name] = value


async def close_quietly(close: Callable[[], Awaitable[object]]) -> None:
    """Release an SDK stream without letting a failure to release hide why we are closing."""
    # The connection is being dropped either way; an error here would mask the real outcome.
    with contextlib.suppress(Exception):
        await close()
