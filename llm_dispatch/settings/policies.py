"""Policy settings: retry, timeouts, circuit breaker, and the section that groups them.

They are the ``defaults`` section of the configuration and what decorator arguments
override per function. All are frozen: one instance is shared by every call.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    field_validator,
    model_serializer,
    model_validator,
)

from ..errors import ConfigProblems
from ..redaction import is_plain_word
from ..urls import SecretUrl
from .paths import did_you_mean
from .problems import ConfigProblem

__all__ = [
    "FALLBACK_ON_KINDS",
    "CircuitSettings",
    "FallbackOn",
    "PolicySettings",
    "RetrySettings",
    "TimeoutOverride",
    "TimeoutSettings",
]


#: Failures about the request itself that ``fallback_on`` may let fall back: the prompt is
#: longer than the target's context window, or the target's model refused the request.
FallbackOn = Literal["context_length", "content_filter"]
FALLBACK_ON_KINDS: tuple[FallbackOn, ...] = ("context_length", "content_filter")


class TimeoutSettings(BaseModel):
    """Dispatcher deadlines in seconds; ``None`` switches one off."""

    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    #: Establishing the TCP/TLS connection.
    connect: float = Field(default=10.0, gt=0)
    #: From sending the request to the first text chunk.
    first_token: float | None = Field(default=60.0, gt=0)
    #: Longest silence between two chunks.
    idle: float | None = Field(default=60.0, gt=0)
    #: The whole stream, every attempt included.
    total: float | None = Field(default=None, gt=0)

    def merged(self, override: TimeoutOverride | None) -> TimeoutSettings:
        """These deadlines with the keys ``override`` sets explicitly replaced."""
        if override is None or not override.model_fields_set:
            return self
        return self.model_copy(
            update={name: getattr(override, name) for name in override.model_fields_set}
        )


class TimeoutOverride(BaseModel):
    """A provider's partial override of :class:`TimeoutSettings`.

    Only the keys written count (``first_token: null`` switches that deadline off for this
    provider); the others keep the ``defaults.timeouts`` value.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    connect: float | None = Field(default=None, gt=0)
    first_token: float | None = Field(default=None, gt=0)
    idle: float | None = Field(default=None, gt=0)
    total: float | None = Field(default=None, gt=0)

    @model_serializer(mode="wrap")
    def _only_written(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # Dump only the keys written, so that a dump validates back to the same override
        # (an unset key and an explicit null mean different things here).
        data: dict[str, Any] = handler(self)
        return {k: v for k, v in data.items() if k in self.model_fields_set}

    @model_validator(mode="after")
    def _connect_not_null(self) -> TimeoutOverride:
        if "connect" in self.model_fields_set and self.connect is None:
            raise ConfigProblems(
                [ConfigProblem(("connect",), "the connect timeout cannot be switched off")]
            )
        return self


class RetrySettings(BaseModel):
    """Retries of one target before falling back to the next."""

    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    #: Retries per target after the first try (0: no retry).
    max_retries: int = Field(default=2, ge=0)
    #: First backoff delay in seconds; doubles on each retry.
    backoff_base: float = Field(default=0.5, ge=0)
    #: Upper bound of one backoff delay in seconds.
    backoff_max: float = Field(default=8.0, ge=0)
    #: Random spread of each delay, as a fraction of it (0.25: ±25 %).
    jitter: float = Field(default=0.25, ge=0, le=1)
    #: Longest ``Retry-After`` honoured, in seconds.
    retry_after_cap: float = Field(default=30.0, ge=0)
    #: Retry failures to connect (refused, reset before a response, the connect deadline);
    #: off, such a failure goes straight to the next target.
    connection_errors: bool = True


class CircuitSettings(BaseModel):
    """When a failing target is taken out of rotation, and where that state is kept."""

    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    enabled: bool = True
    #: Failures within ``window`` seconds (with no success in between) that open the circuit.
    failure_threshold: int = Field(default=5, ge=1)
    window: float = Field(default=60.0, gt=0)
    #: Seconds an open circuit skips the target before one probe request is let through.
    cooldown: float = Field(default=30.0, gt=0)
    #: ``memory`` (per process) or a ``redis://`` / ``rediss://`` / ``unix://`` URL (shared),
    #: held as a :class:`~llm_dispatch.urls.SecretUrl` so that its password stays hidden.
    store: Literal["memory"] | SecretUrl = "memory"
    #: Prefix of the Redis keys, so several applications can share one server.
    namespace: str = Field(default="llm_dispatch:circuit", min_length=1)
    #: Longest wait for one round trip to a shared store; the request's ``total`` bounds
    #: it too. A store that does not answer in time is replaced by this process's state.
    store_timeout: float = Field(default=0.25, gt=0)
    #: Seconds this process keeps its own state after the shared store failed.
    store_retry: float = Field(default=5.0, gt=0)

    @field_validator("store", mode="before")
    @classmethod
    def _known_store(cls, value: Any) -> Literal["memory"] | SecretUrl:
        if value == "memory":
            return "memory"
        if not isinstance(value, str | SecretUrl):
            raise ValueError("the circuit store must be 'memory' or a redis:// URL")
        url = SecretUrl(value) if isinstance(value, str) else value
        if url.scheme in ("redis", "rediss", "unix"):
            return url
        if url.scheme:
            # Name only the scheme: the rest of a URL may hold a password.
            raise ValueError(
                f"unknown circuit store scheme {url.scheme + '://'!r}: "
                "use 'memory' or a redis://, rediss:// or unix:// URL"
            )
        text = url.get_secret_value()
        if is_plain_word(text):
            raise ValueError(
                f"unknown circuit store {text!r}: use 'memory' or a redis:// URL"
                + did_you_mean(text, ["memory"])
            )
        raise ValueError(
            "unknown circuit store: use 'memory' or a redis://, rediss:// or unix:// URL"
        )


class PolicySettings(BaseModel):
    """How hard to try: retry, fallback, deadlines, mid-stream failures, circuit breaker."""

    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    retry: RetrySettings = Field(default_factory=RetrySettings)
    #: Try the next target when one fails (before any text reached the consumer).
    fallback: bool = True
    #: Failure kinds that stop the chain unless listed here: ``context_length`` (then only
    #: targets with a larger, or unknown, context window are tried) and ``content_filter``
    #: (a refusal before any text). Ignored when ``fallback`` is off.
    fallback_on: tuple[FallbackOn, ...] = ()
    timeouts: TimeoutSettings = Field(default_factory=TimeoutSettings)
    #: After text reached the consumer: ``raise`` StreamInterrupted, or ``continue`` on the
    #: next target with the partial answer as assistant prefix.
    mid_stream: Literal["raise", "continue"] = "raise"
    circuit: CircuitSettings = Field(default_factory=CircuitSettings)
