"""One exception family for everything that can go wrong in a dispatched stream.

The hierarchy lets callers catch at the level they care about::

    LLMDispatchError
    ├── ConfigError                      bad YAML / dict / pydantic config (file, key path, line)
    ├── RequestBindingError (TypeError)  a decorated call whose prompt cannot be found
    ├── ProviderError                    one provider attempt failed (provider, kind, status ...)
    │   ├── RateLimitError, ServerError, OverloadedError, ProviderTimeoutError,
    │   │   ProviderConnectionError, AuthenticationError, BadRequestError, NotFoundError,
    │   │   ContextLengthError, ContentFilterError, IncompleteStreamError, MalformedEventError
    └── StreamingError                   the stream as a whole failed
        ├── StreamTimeout (TimeoutError)  a deadline fired (first_token, idle or total)
        ├── StreamInterrupted             failed after text reached the consumer; carries the text
        ├── AllProvidersFailed            every target was tried; lists each attempt
        └── NoProviderAvailable           no enabled target could be planned

Messages never contain API keys, HMAC keys or URL passwords: provider messages are passed
through :func:`redact` before they are stored. The exception an SDK raised is never chained: a
:class:`ProviderError`'s ``__cause__`` is an :class:`UpstreamError` that keeps the SDK
exception's type, HTTP status and request id, and none of its text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

__all__ = [
    "AllProvidersFailed",
    "AttemptRecord",
    "AuthenticationError",
    "BadRequestError",
    "ConfigError",
    "ContentFilterError",
    "ContextLengthError",
    "ErrorKind",
    "IncompleteStreamError",
    "InvalidJSONError",
    "LLMDispatchError",
    "MalformedEventError",
    "NoProviderAvailable",
    "NotFoundError",
    "OverloadedError",
    "ProviderConnectionError",
    "ProviderError",
    "ProviderTimeoutError",
    "RateLimitError",
    "RequestBindingError",
    "ServerError",
    "StreamInterrupted",
    "StreamTimeout",
    "StreamingError",
    "UpstreamError",
    "is_plain_word",
    "provider_error",
    "redact",
]


class ErrorKind(StrEnum):
    """What happened, independent of the provider that reported it."""

    RATE_LIMIT = "rate_limit"
    SERVER = "server"
    OVERLOADED = "overloaded"
    TIMEOUT = "timeout"
    CONNECTION = "connection"
    AUTH = "auth"
    BAD_REQUEST = "bad_request"
    NOT_FOUND = "not_found"
    CONTEXT_LENGTH = "context_length"
    CONTENT_FILTER = "content_filter"
    # The body ended without the provider's closing event (no finish reason, no [DONE],
    # no message_stop): the text is truncated even though the HTTP exchange looked fine.
    INCOMPLETE = "incomplete"
    # An event that does not parse: the server sent garbage mid-stream.
    MALFORMED = "malformed"


RETRYABLE_KINDS = frozenset(
    {
        ErrorKind.RATE_LIMIT,
        ErrorKind.SERVER,
        ErrorKind.OVERLOADED,
        ErrorKind.TIMEOUT,
        ErrorKind.CONNECTION,
        ErrorKind.INCOMPLETE,
        ErrorKind.MALFORMED,
    }
)

# Kinds after which the *next* target is still worth trying: the failure is about this
# provider (its key, its model name, its health), not about the request itself.
FALLBACK_KINDS = RETRYABLE_KINDS | {ErrorKind.AUTH, ErrorKind.NOT_FOUND}

_SECRET_PATTERNS = [
    re.compile(r"sk-[A-Za-z0-9_\-]{8,}"),
    re.compile(r"sk-ant-[A-Za-z0-9_\-]{8,}"),
    re.compile(r"AIza[0-9A-Za-z_\-]{20,}"),
    re.compile(
        r"(?i)(api[_-]?key|authorization|x-api-key|x-goog-api-key|bearer)([\"'=:\s]+)[^\s\"',}]+"
    ),
]


# The password of ``scheme://user:password@host`` (RFC 3986 userinfo: no "/", "?", "#" or
# "@" unescaped), and the value of a ``password=`` query parameter.
_URL_PASSWORD = re.compile(r"\b([A-Za-z][A-Za-z0-9+.\-]*://[^\s:/?#@\[\]]*):[^\s/?#@]*@")
_PASSWORD_PARAMETER = re.compile(r"([?&;]password=)[^\s&#;\"']*", re.IGNORECASE)


_PLAIN_WORD = re.compile(r"[A-Za-z0-9_.\-]{1,40}")


def is_plain_word(text: str) -> bool:
    """Whether a message may repeat ``text`` as a mistyped word: at most 40 letters, digits,
    ``_``, ``.`` and ``-``, so never a URL, a header or anything with a separator in it."""
    return _PLAIN_WORD.fullmatch(text) is not None


def redact(text: str, secrets: Sequence[str] = ()) -> str:
    """Remove anything that looks like a credential, and every given secret, from ``text``.

    URL passwords keep their place: ``redis://user:pw@host`` becomes ``redis://user:***@host``.
    """
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "[redacted]")
    text = _URL_PASSWORD.sub(r"\1:***@", text)
    text = _PASSWORD_PARAMETER.sub(r"\1***", text)
    for pattern in _SECRET_PATTERNS:
        if pattern.groups >= 2:
            text = pattern.sub(lambda m: f"{m.group(1)}{m.group(2)}[redacted]", text)
        else:
            text = pattern.sub("[redacted]", text)
    return text


class LLMDispatchError(Exception):
    """Base of every exception raised by llm_dispatch."""


class ConfigError(LLMDispatchError, ValueError):
    """The configuration is invalid. The message names the file, the key path and the line."""

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        path: str | None = None,
        line: int | None = None,
    ) -> None:
        self.source = source
        self.path = path
        self.line = line
        where = ""
        if source:
            where = source + (f":{line}" if line else "")
        if path:
            where = f"{where} {path}" if where else path
        super().__init__(f"{where}: {message}" if where else message)


class RequestBindingError(LLMDispatchError, TypeError):
    """A decorated call could not be turned into a request (e.g. no prompt argument)."""


class ProviderError(LLMDispatchError):
    """One attempt against one provider failed.

    ``kind`` says what happened (an :class:`ErrorKind`), ``is_retryable`` whether the same
    target may be tried again, ``retry_after`` the delay the provider asked for (seconds).
    """

    default_kind: ErrorKind = ErrorKind.SERVER

    def __init__(
        self,
        message: str,
        *,
        provider: str,
        kind: ErrorKind | None = None,
        status_code: int | None = None,
        model: str | None = None,
        retry_after: float | None = None,
        attempt: int | None = None,
        partial_text: str = "",
        request_id: str | None = None,
    ) -> None:
        self.provider = provider
        self.kind = ErrorKind(kind) if kind is not None else self.default_kind
        self.status_code = status_code
        self.model = model
        self.retry_after = retry_after
        self.attempt = attempt
        # Text the provider delivered before failing (set by the dispatcher).
        self.partial_text = partial_text
        #: The provider's id for the failed HTTP request, when it sent one.
        self.request_id = request_id
        self.message = message
        super().__init__(message)

    @property
    def is_retryable(self) -> bool:
        return self.kind in RETRYABLE_KINDS

    @property
    def allows_fallback(self) -> bool:
        return self.kind in FALLBACK_KINDS

    def __str__(self) -> str:
        where = self.provider + (f"/{self.model}" if self.model else "")
        status = f" HTTP {self.status_code}" if self.status_code is not None else ""
        attempt = f" (attempt {self.attempt})" if self.attempt is not None else ""
        return f"{where}{status} {self.kind.value}{attempt}: {self.message}"

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(provider={self.provider!r}, kind={self.kind.value!r}, "
            f"status_code={self.status_code!r}, message={self.message!r})"
        )


class UpstreamError(LLMDispatchError):
    """What an SDK raised, without its text: the ``__cause__`` of a :class:`ProviderError`.

    SDK exceptions can quote the request (an echoed API key, a header value), so the
    original is not kept. ``sdk_type`` is its qualified class name (``openai.
    AuthenticationError``), ``status_code`` and ``request_id`` are copied when it had them.
    """

    def __init__(
        self, sdk_type: str, *, status_code: int | None = None, request_id: str | None = None
    ) -> None:
        self.sdk_type = sdk_type
        self.status_code = status_code
        self.request_id = request_id
        details = [f"HTTP {status_code}"] if status_code is not None else []
        if request_id:
            details.append(f"request id {request_id}")
        suffix = f" ({', '.join(details)})" if details else ""
        super().__init__(f"{sdk_type}{suffix}; its message is not kept, see the error above")

    @classmethod
    def of(cls, exc: BaseException) -> UpstreamError:
        """The stand-in for ``exc``: type, status and request id, read without SDK imports."""
        kind = type(exc)
        module = kind.__module__.split(".")[0]
        status = getattr(exc, "status_code", None)
        if not isinstance(status, int):
            code = getattr(exc, "code", None)
            status = code if isinstance(code, int) and 100 <= code < 600 else None
        request_id = getattr(exc, "request_id", None)
        if not isinstance(request_id, str):
            request_id = _header_request_id(getattr(exc, "response", None))
        name = kind.__qualname__ if module == "builtins" else f"{module}.{kind.__qualname__}"
        return cls(name, status_code=status, request_id=_safe_id(request_id))


def _header_request_id(response: object) -> str | None:
    headers = getattr(response, "headers", None)
    getter = getattr(headers, "get", None)
    if getter is None:
        return None
    for name in ("x-request-id", "request-id"):
        value = getter(name)
        if isinstance(value, str):
            return value
    return None


def _safe_id(value: str | None) -> str | None:
    """A request id as the provider sent it, unless it does not look like an id."""
    if value is None or len(value) > 200 or not re.fullmatch(r"[\w.:/+=-]+", value):
        return None
    return value


class RateLimitError(ProviderError):
    default_kind = ErrorKind.RATE_LIMIT


class ServerError(ProviderError):
    default_kind = ErrorKind.SERVER


class OverloadedError(ProviderError):
    default_kind = ErrorKind.OVERLOADED


class ProviderTimeoutError(ProviderError):
    default_kind = ErrorKind.TIMEOUT
    #: Which deadline: ``connect``, ``first_token``, or None for the provider's own timeout;
    #: ``seconds`` is its configured value when known.
    limit: str | None = None
    seconds: float | None = None


class ProviderConnectionError(ProviderError):
    default_kind = ErrorKind.CONNECTION


class AuthenticationError(ProviderError):
    default_kind = ErrorKind.AUTH


class BadRequestError(ProviderError):
    default_kind = ErrorKind.BAD_REQUEST


class NotFoundError(ProviderError):
    default_kind = ErrorKind.NOT_FOUND


class ContextLengthError(ProviderError):
    default_kind = ErrorKind.CONTEXT_LENGTH


class ContentFilterError(ProviderError):
    default_kind = ErrorKind.CONTENT_FILTER


class IncompleteStreamError(ProviderError):
    default_kind = ErrorKind.INCOMPLETE


class MalformedEventError(ProviderError):
    default_kind = ErrorKind.MALFORMED


_CLASS_FOR_KIND: dict[ErrorKind, type[ProviderError]] = {
    ErrorKind.RATE_LIMIT: RateLimitError,
    ErrorKind.SERVER: ServerError,
    ErrorKind.OVERLOADED: OverloadedError,
    ErrorKind.TIMEOUT: ProviderTimeoutError,
    ErrorKind.CONNECTION: ProviderConnectionError,
    ErrorKind.AUTH: AuthenticationError,
    ErrorKind.BAD_REQUEST: BadRequestError,
    ErrorKind.NOT_FOUND: NotFoundError,
    ErrorKind.CONTEXT_LENGTH: ContextLengthError,
    ErrorKind.CONTENT_FILTER: ContentFilterError,
    ErrorKind.INCOMPLETE: IncompleteStreamError,
    ErrorKind.MALFORMED: MalformedEventError,
}


def provider_error(kind: ErrorKind | str, message: str, **fields: Any) -> ProviderError:
    """Build the :class:`ProviderError` subclass that matches ``kind``."""
    kind = ErrorKind(kind)
    return _CLASS_FOR_KIND[kind](message, kind=kind, **fields)


class StreamingError(LLMDispatchError):
    """The dispatched stream failed as a whole."""


class StreamTimeout(StreamingError, TimeoutError):
    """A dispatcher deadline fired. ``limit`` is ``connect``, ``first_token``, ``idle`` or
    ``total``; ``seconds`` is its configured value."""

    def __init__(
        self,
        limit: str,
        seconds: float,
        *,
        provider: str | None = None,
        model: str | None = None,
        partial_text: str = "",
    ) -> None:
        self.limit = limit
        self.seconds = seconds
        self.provider = provider
        self.model = model
        self.partial_text = partial_text
        self.attempts: list[AttemptRecord] = []
        where = f" waiting for {provider}/{model}" if provider else ""
        super().__init__(f"{limit} timeout of {seconds:g}s fired{where}")


class StreamInterrupted(StreamingError):
    """The stream failed after text had reached the consumer.

    ``partial_text`` is exactly what the consumer received; retrying would repeat it, so the
    dispatcher raises instead (unless the ``continue`` mid-stream policy is on).
    """

    def __init__(
        self,
        partial_text: str,
        *,
        provider: str,
        model: str,
        cause: BaseException,
        attempts: Sequence[AttemptRecord] = (),
    ) -> None:
        self.partial_text = partial_text
        self.provider = provider
        self.model = model
        self.cause = cause
        self.attempts = list(attempts)
        super().__init__(
            f"stream from {provider}/{model} interrupted after {len(partial_text)} characters "
            f"reached the consumer: {cause}. The partial text is on .partial_text; "
            "set mid_stream='continue' to let the next target continue it."
        )


@dataclass(frozen=True, slots=True)
class AttemptRecord:
    """One attempt of the dispatcher: which target, which try, and how it ended."""

    provider: str
    model: str
    attempt: int
    kind: str | None = None
    status_code: int | None = None
    message: str = ""
    chars: int = 0

    def describe(self) -> str:
        status = f" HTTP {self.status_code}" if self.status_code is not None else ""
        return (
            f"{self.provider}/{self.model} attempt {self.attempt}:{status} "
            f"{self.kind or 'ok'}: {self.message}"
        )


class AllProvidersFailed(StreamingError, ProviderError):
    """Every planned target failed before any text reached the consumer.

    ``attempts`` lists each try. It is also a :class:`ProviderError` carrying the last
    failure's provider, kind and status, so ``except ProviderError`` handlers see it.
    """

    def __init__(self, attempts: Sequence[AttemptRecord], last: ProviderError) -> None:
        self.attempts = list(attempts)
        self.last = last
        lines = "\n".join(f"  - {a.describe()}" for a in self.attempts)
        ProviderError.__init__(
            self,
            f"every target failed ({len(self.attempts)} attempts):\n{lines}",
            provider=last.provider,
            kind=last.kind,
            status_code=last.status_code,
            model=last.model,
            retry_after=last.retry_after,
        )

    def __str__(self) -> str:
        return self.message


class NoProviderAvailable(StreamingError):
    """No enabled target could serve the request. ``skipped`` maps each target to why."""

    def __init__(self, task_type: str, skipped: dict[str, str], *, hint: str = "") -> None:
        self.task_type = task_type
        self.skipped = dict(skipped)
        self.hint = hint
        reasons = "\n".join(f"  - {t}: {why}" for t, why in self.skipped.items()) or "  (none)"
        message = f"no provider available for task type {task_type!r}:\n{reasons}"
        super().__init__(f"{message}\n{hint}" if hint else message)


class InvalidJSONError(LLMDispatchError, ValueError):
    """The streamed text is not valid JSON. ``text`` holds it."""

    def __init__(self, text: str, error: json.JSONDecodeError) -> None:
        self.text = text
        self.error = error
        super().__init__(f"the streamed text is not valid JSON ({error}); it is on .text")
