"""The exceptions of llm_dispatch: one family under :class:`LLMDispatchError`.

The hierarchy lets callers catch at the level they care about::

    LLMDispatchError
    ├── ConfigError (ValueError)         bad YAML / dict / pydantic config (file, key path, line)
    ├── ConfigProblems (ValueError)      raised by config validators; the loader makes a ConfigError
    ├── InterpolationError (ValueError)  a ``${...}`` in the configuration cannot be substituted
    │   ├── UnresolvedVariable           ``${NAME}`` names an unset variable and has no default
    │   └── InterpolationSyntaxError     a ``${`` that opens no reference
    ├── RequestBindingError (TypeError)  a decorated call whose prompt cannot be found
    ├── UncacheableRequest (ValueError)  a request value with no stable cache-key form (bypass)
    ├── SharedStreamCancelled (RuntimeError)  a single-flight producer was cancelled
    ├── PayloadError (ValueError)        bytes that are not a well-formed embedded payload
    ├── UpstreamError                    an SDK exception without its text (a ProviderError's cause)
    ├── ProviderError                    one provider attempt failed (provider, kind, status ...)
    │   ├── RateLimitError, ServerError, OverloadedError, ProviderTimeoutError,
    │   │   ProviderConnectionError, AuthenticationError, BadRequestError, NotFoundError,
    │   │   ContextLengthError, ContentFilterError, IncompleteStreamError, MalformedEventError,
    │   │   CircuitOpenError, LimitReached (in limit_errors.py)
    └── StreamingError                   the stream as a whole failed
        ├── StreamTimeout (TimeoutError)  a deadline fired (first_token, idle or total)
        ├── StreamInterrupted             failed after text reached the consumer; carries the text
        ├── AllProvidersFailed            every target was tried; lists each attempt
        ├── BudgetExceeded                a spend cap refused the call (in budget_errors.py)
        └── NoProviderAvailable           no enabled target could be planned

Messages never contain API keys, HMAC keys or URL passwords: provider messages are passed
through :func:`~llm_dispatch.redaction.redact` before they are stored. The exception an SDK
raised is never chained: a :class:`ProviderError`'s ``__cause__`` is an :class:`UpstreamError`
that keeps the SDK exception's type, HTTP status and request id, and none of its text.

The stream errors carry the :class:`~llm_dispatch.records.AttemptRecord` of every attempt;
:class:`~llm_dispatch.error_kinds.ErrorKind` is re-exported from :mod:`.error_kinds`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING

from .error_kinds import FALLBACK_KINDS, RETRYABLE_KINDS, ErrorKind
from .records import AttemptRecord
from .redaction import sdk_error_facts

if TYPE_CHECKING:
    from .settings.problems import ConfigProblem

__all__ = [
    "AllProvidersFailed",
    "AuthenticationError",
    "BadRequestError",
    "CircuitOpenError",
    "ConfigError",
    "ConfigProblems",
    "ContentFilterError",
    "ContextLengthError",
    "ErrorKind",
    "IncompleteStreamError",
    "InterpolationError",
    "InterpolationSyntaxError",
    "InvalidJSONError",
    "LLMDispatchError",
    "MalformedEventError",
    "NoProviderAvailable",
    "NotFoundError",
    "OverloadedError",
    "PayloadError",
    "ProviderConnectionError",
    "ProviderError",
    "ProviderTimeoutError",
    "RateLimitError",
    "RequestBindingError",
    "ServerError",
    "SharedStreamCancelled",
    "StreamInterrupted",
    "StreamTimeout",
    "StreamingError",
    "UncacheableRequest",
    "UnresolvedVariable",
    "UpstreamError",
]


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


class ConfigProblems(LLMDispatchError, ValueError):
    """What a configuration validator raises: problems, each at its key path. pydantic wraps
    it in a ``value_error`` whose ``ctx["error"]`` is this instance; the loader joins the
    error's location with each problem's ``loc`` into one :class:`ConfigError`."""

    def __init__(self, problems: Sequence[ConfigProblem]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(p.describe() for p in self.problems))


class InterpolationError(LLMDispatchError, ValueError):
    """A ``${...}`` reference in a configuration string could not be substituted."""


class UnresolvedVariable(InterpolationError):
    """``${NAME}`` names an environment variable that is not set and has no default."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(
            f"environment variable {name} is not set "
            f"(set it, or write ${{{name}:-default}} to give a default)"
        )


class InterpolationSyntaxError(InterpolationError):
    """A ``${`` that does not open ``${NAME}`` or ``${NAME:-default}``."""


class RequestBindingError(LLMDispatchError, TypeError):
    """A decorated call could not be turned into a request (e.g. no prompt argument)."""


class UncacheableRequest(LLMDispatchError, ValueError):
    """The request holds a value that cannot be part of a stable cache key. The cache treats
    such a call as a bypass: it neither looks up nor stores."""


class SharedStreamCancelled(LLMDispatchError, RuntimeError):
    """The shared producer was cancelled from outside while consumers still listened."""


class PayloadError(LLMDispatchError, ValueError):
    """Bytes that are not a well-formed payload (damaged, truncated or not ours)."""


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
        """The stand-in for ``exc``: its type, status and request id, none of its text (read
        by :func:`~llm_dispatch.redaction.sdk_error_facts`)."""
        name, status, request_id = sdk_error_facts(exc)
        return cls(name, status_code=status, request_id=request_id)


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


class CircuitOpenError(ProviderError):
    default_kind = ErrorKind.CIRCUIT_OPEN


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
    """The stream failed after text (or a reasoning or tool-call delta) reached the consumer.

    ``partial_text`` is exactly what the consumer received; retrying would repeat it, so the
    dispatcher raises instead (unless the ``continue`` mid-stream policy is on; a tool call
    cannot be continued as text). ``partial_tool_calls``: the calls as far as they streamed.
    """

    def __init__(
        self,
        partial_text: str,
        *,
        provider: str,
        model: str,
        cause: BaseException,
        attempts: Sequence[AttemptRecord] = (),
        partial_tool_calls: Sequence[dict[str, object]] = (),
    ) -> None:
        self.partial_tool_calls = list(partial_tool_calls)
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
