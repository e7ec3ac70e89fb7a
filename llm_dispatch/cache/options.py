"""Validated cache options: the ``cache`` section of the config and the constructor's kwargs."""

from __future__ import annotations

from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = ["DEFAULT_IGNORED_EXTRA", "CacheOptions"]

#: ``Request.extra`` keys that never change the answer, so they do not split the cache.
#: Every other extra key does (an unknown key may carry images or tools: safer to split).
DEFAULT_IGNORED_EXTRA = frozenset(
    {"cache_scope", "request_id", "trace_id", "span_id", "idempotency_key"}
)


class CacheOptions(BaseModel):
    """Everything that configures a :class:`~llm_dispatch.cache.StreamingCache`.

    ``backend`` is ``"memory"``, ``"redis"`` (then ``url`` is required) or a
    ``redis://`` / ``rediss://`` URL (``redis://[user:password@]host:port/db``).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    similarity_threshold: float = Field(default=0.95, gt=0.0, le=1.0)
    max_cache_size: int = Field(default=100, ge=1)
    #: Seconds an entry lives after it was stored; None: until evicted.
    ttl: float | None = Field(default=None, gt=0.0)
    backend: str = "memory"
    url: str | None = None
    namespace: str = Field(default="llm_dispatch", min_length=1, pattern=r"^[A-Za-z0-9_.:\-]+$")
    replay_timing: Literal["immediate", "recorded"] = "immediate"
    #: Record the relative time of each chunk (needed for ``replay_timing="recorded"``).
    record_timing: bool = True
    #: Seconds a backend call may take before the cache gives up and the call goes live.
    backend_timeout: float = Field(default=2.0, gt=0.0)
    ignore_extra: frozenset[str] = DEFAULT_IGNORED_EXTRA

    @field_validator("backend")
    @classmethod
    def _known_backend(cls, value: str) -> str:
        if value in ("memory", "redis"):
            return value
        if urlsplit(value).scheme in ("redis", "rediss"):
            return value
        raise ValueError(
            f"unknown cache backend {value!r}: use 'memory', 'redis' with url=..., "
            "or a redis:// URL"
        )

    @model_validator(mode="after")
    def _url_for_redis(self) -> CacheOptions:
        if self.backend == "redis":
            if not self.url:
                raise ValueError("backend 'redis' needs url='redis://host:port/db'")
            if urlsplit(self.url).scheme not in ("redis", "rediss"):
                raise ValueError("url must be a redis:// or rediss:// URL")
        return self

    @property
    def redis_url(self) -> str | None:
        """The Redis URL to connect to, or None for the in-memory backend."""
        if self.backend == "memory":
            return None
        return self.url if self.backend == "redis" else self.backend
