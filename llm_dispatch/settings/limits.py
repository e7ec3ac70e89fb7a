"""Rate and concurrency limits: a provider's (and its models') ``limits``, and where the
counts live (``defaults.limits``).

A :class:`LimitRule` is one set of limits: requests and tokens per minute, streams at
once, and what a call does when one is reached. :class:`ProviderLimits` is a provider
entry's ``limits``: a rule for every request to the provider, and ``models``, a rule per
model over it. :class:`LimitSettings` (``defaults.limits``) says where the counts are kept
(this process, or a Redis server shared by every process using it) and over what window.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from .stores import NAMESPACE_HELP, SharedStoreSettings

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


class LimitSettings(SharedStoreSettings):
    """Where limit counts live, and the window they are counted over."""

    store_name = "limits"

    window: float = Field(
        default=60.0,
        gt=0,
        description="Seconds of the sliding window the per-minute limits are counted over; "
        "each allows its per-minute number times window / 60 (a shorter window spreads the "
        "same rate with smaller bursts). Every limit must allow at least one request per "
        "window.",
    )
    namespace: str = Field(default="llm_dispatch:limits", min_length=1, description=NAMESPACE_HELP)
    lease: float = Field(
        default=30.0,
        gt=0,
        description="Seconds a concurrency slot in a shared store lasts unless its process "
        "renews it (every third of it while the stream runs): the slots of a process that "
        "died free themselves after this.",
    )
