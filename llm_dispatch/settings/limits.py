"""Rate and concurrency limits: a provider's (and its models') ``limits``, and where the
counts live (``defaults.limits``).

A :class:`LimitRule` is one set of limits: requests and tokens per minute, streams at
once, and what a call does when one is reached. :class:`ProviderLimits` is a provider
entry's ``limits``: a rule for every request to the provider, and ``models``, a rule per
model over it. :class:`LimitSettings` (``defaults.limits``) says where the counts are kept
(this process, or a Redis server shared by every process using it) and over what window.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from .stores import StoreLocation, store_location

__all__ = ["LimitRule", "LimitSettings", "OnLimit", "ProviderLimits"]

#: What a call does when a limit is reached: wait until it allows the request (never past
#: the call's ``total`` deadline), or move on to the next target of the route.
OnLimit = Literal["wait", "fallback"]


class LimitRule(BaseModel):
    """One set of limits; an unset one does not limit."""

    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    requests_per_minute: int | None = Field(
        default=None,
        ge=1,
        description="Requests sent (retries included) within any window of "
        "defaults.limits.window seconds, scaled to that window (per minute at the default "
        "window of 60 s).",
    )
    tokens_per_minute: int | None = Field(
        default=None,
        ge=1,
        description="Tokens within any window, scaled as requests_per_minute: each request "
        "counts its estimated prompt plus max_tokens when sent, then what the ledger charged "
        "it once it ended (the provider's usage when reported).",
    )
    max_concurrent: int | None = Field(
        default=None,
        ge=1,
        description="Streams open at once, from sending the request until the stream "
        "completed, failed or was cancelled.",
    )
    on_limit: OnLimit | None = Field(
        default=None,
        description="When a limit here is reached: wait (within the call's total deadline) "
        "or fallback (the next target of the route); unset: the provider's on_limit, else "
        "wait.",
    )

    @property
    def limits_anything(self) -> bool:
        return any(
            v is not None
            for v in (self.requests_per_minute, self.tokens_per_minute, self.max_concurrent)
        )


class ProviderLimits(LimitRule):
    """A provider's ``limits``: a rule over all its requests, and one per model."""

    models: dict[str, LimitRule] = Field(
        default_factory=dict,
        description="Per model, limits over that model's requests, checked as well as the "
        "provider's own; a model's on_limit applies to its own limits.",
    )


class LimitSettings(BaseModel):
    """Where limit counts live, and the window they are counted over."""

    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    window: float = Field(
        default=60.0,
        gt=0,
        description="Seconds of the sliding window the per-minute limits are counted over; "
        "each allows its per-minute number times window / 60 (a shorter window spreads the "
        "same rate with smaller bursts). Every limit must allow at least one request per "
        "window.",
    )
    store: StoreLocation = Field(
        default="memory",
        description="Where the counts live: memory (this process) or a redis://, rediss:// or "
        "unix:// URL shared by every process using that server; its password is masked "
        "everywhere but in the Redis client.",
    )
    namespace: str = Field(
        default="llm_dispatch:limits",
        min_length=1,
        description="Prefix of the Redis keys, so several applications can share one server.",
    )
    lease: float = Field(
        default=30.0,
        gt=0,
        description="Seconds a concurrency slot in a shared store lasts unless its process "
        "renews it (every third of it while the stream runs): the slots of a process that "
        "died free themselves after this.",
    )
    store_timeout: float = Field(
        default=0.25,
        gt=0,
        description="Longest wait for one round trip to a shared store, in seconds (the "
        "call's `total` bounds it too); a store that does not answer in time is replaced by "
        "this process's own counts.",
    )
    store_retry: float = Field(
        default=5.0,
        gt=0,
        description="Seconds this process keeps its own counts after the shared store "
        "failed, before trying the store again.",
    )

    @field_validator("store", mode="before")
    @classmethod
    def _known_store(cls, value: Any) -> StoreLocation:
        return store_location(value, "limits")
