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
    model_serializer,
    model_validator,
)

from ..errors import ConfigProblems
from .budgets import BudgetSettings
from .limits import LimitSettings
from .problems import ConfigProblem
from .stores import NAMESPACE_HELP, SharedStoreSettings

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

    connect: float = Field(
        default=10.0,
        gt=0,
        description="Seconds to establish the TCP/TLS connection to the provider; it cannot "
        "be switched off.",
    )
    first_token: float | None = Field(
        default=60.0,
        gt=0,
        description="Seconds from sending the request to the attempt's first event (text, "
        "reasoning or a tool-call delta); null: no deadline. A miss is retried and falls "
        "back like any retryable error.",
    )
    idle: float | None = Field(
        default=60.0,
        gt=0,
        description="Longest gap between two events of a stream, in seconds; null: no "
        "deadline. After text it is a mid-stream failure.",
    )
    total: float | None = Field(
        default=None,
        gt=0,
        description="Seconds for the whole call, every attempt, backoff and the cache lookup "
        "included; null: no deadline.",
    )

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
    provider); the others keep the ``defaults.timeouts`` value. ``total`` is not one of
    them: it bounds the whole call, whichever providers serve it.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    connect: float | None = Field(
        default=None,
        gt=0,
        description="This provider's connect timeout in seconds (null is refused: it cannot "
        "be switched off).",
    )
    first_token: float | None = Field(
        default=None,
        gt=0,
        description="This provider's first-event deadline in seconds; null switches it off "
        "for this provider.",
    )
    idle: float | None = Field(
        default=None,
        gt=0,
        description="This provider's idle deadline in seconds; null switches it off for "
        "this provider.",
    )

    @model_validator(mode="before")
    @classmethod
    def _no_total(cls, data: Any) -> Any:
        # ``total`` is the whole call's budget, whichever providers serve it: one provider
        # cannot have its own.
        if isinstance(data, dict) and "total" in data:
            raise ConfigProblems(
                [
                    ConfigProblem(
                        ("total",),
                        "the total deadline covers the whole call, whichever providers serve "
                        "it: set it in defaults.timeouts (or a function's timeout=)",
                    )
                ]
            )
        return data

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

    max_retries: int = Field(
        default=2,
        ge=0,
        description="Retries of one target after its first try, for retryable errors only "
        "(0: no retry).",
    )
    backoff_base: float = Field(
        default=0.5, ge=0, description="Seconds before the first retry; doubles on each retry."
    )
    backoff_max: float = Field(
        default=8.0, ge=0, description="Upper bound of one backoff delay, in seconds."
    )
    jitter: float = Field(
        default=0.25,
        ge=0,
        le=1,
        description="Random spread of each delay, as a fraction of it (0.25: ±25 %).",
    )
    retry_after_cap: float = Field(
        default=30.0,
        ge=0,
        description="Longest Retry-After a provider's answer may ask for that is honoured, "
        "in seconds.",
    )
    connection_errors: bool = Field(
        default=True,
        description="Retry failures to connect (refused, reset before a response, the connect "
        "deadline); off, such a failure goes straight to the next target.",
    )


class CircuitSettings(SharedStoreSettings):
    """When a failing target is taken out of rotation, and where that state is kept."""

    store_name = "circuit"

    enabled: bool = Field(
        default=True,
        description="Keep a circuit per target (provider/model); false: never skip a target "
        "for its past failures.",
    )
    failure_threshold: int = Field(
        default=5,
        ge=1,
        description="Failures within `window` seconds, with no success in between, that "
        "open a target's circuit.",
    )
    window: float = Field(
        default=60.0,
        gt=0,
        description="Seconds over which failures are counted towards `failure_threshold`.",
    )
    cooldown: float = Field(
        default=30.0,
        gt=0,
        description="Seconds an open circuit skips its target before one probe request is "
        "let through.",
    )
    namespace: str = Field(default="llm_dispatch:circuit", min_length=1, description=NAMESPACE_HELP)


class PolicySettings(BaseModel):
    """How hard to try: retry, fallback, deadlines, mid-stream failures, circuit breaker."""

    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    retry: RetrySettings = Field(
        default_factory=RetrySettings, description="Retries of one target before the next."
    )
    fallback: bool = Field(
        default=True,
        description="Try the next target when one fails before its first event (text, "
        "reasoning or a tool-call delta).",
    )
    fallback_on: tuple[FallbackOn, ...] = Field(
        default=(),
        description="Failures about the request that fall back anyway: context_length (then "
        "only targets with a larger, or unknown, context window are tried) and "
        "content_filter (a refusal before any text). Without fallback, nothing falls back.",
    )
    timeouts: TimeoutSettings = Field(
        default_factory=TimeoutSettings, description="The deadlines of every call."
    )
    mid_stream: Literal["raise", "continue"] = Field(
        default="raise",
        description="A failure after the first event: raise StreamInterrupted with the "
        "delivered text, or continue on the next target, asked to go on from the partial "
        "answer (always raise once a tool-call delta was delivered).",
    )
    circuit: CircuitSettings = Field(
        default_factory=CircuitSettings,
        description="The circuit breaker that takes a failing target out of rotation.",
    )
    limits: LimitSettings = Field(
        default_factory=LimitSettings,
        description="Where the providers' rate and concurrency limits are counted; the "
        "limits themselves are each provider's `limits`.",
    )
    budgets: BudgetSettings = Field(
        default_factory=BudgetSettings,
        description="Where the spend counters of `budgets` live (see docs/budgets.md).",
    )
    hedge_after: float | None = Field(
        default=None,
        gt=0,
        description="Seconds after an attempt's request was sent without its first event "
        "before the next target of the plan is sent the request too; whichever produces "
        "its first event first is streamed, the other is closed. null: no hedging; a "
        "route with one target never hedges.",
    )
