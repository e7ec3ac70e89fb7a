"""Validated cache options: the ``cache`` section of the config and the constructor's kwargs."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ..redaction import is_plain_word
from ..urls import SecretUrl

__all__ = ["DEFAULT_IGNORED_EXTRA", "CacheOptions"]

#: ``Request.extra`` keys that never change the answer, so they do not split the cache.
#: Every other extra key does (an unknown key may carry images or tools: safer to split).
DEFAULT_IGNORED_EXTRA = frozenset(
    {"cache_scope", "request_id", "trace_id", "span_id", "idempotency_key"}
)


class CacheOptions(BaseModel):
    """Everything that configures a :class:`~llm_dispatch.cache.StreamingCache`.

    ``backend`` is ``"memory"``, ``"redis"`` (then ``url`` is required) or a
    ``redis://`` / ``rediss://`` URL (``redis://[user:password@]host:port/db``). URLs are
    held as :class:`~llm_dispatch.urls.SecretUrl`, so reprs and dumps mask their password;
    :attr:`redis_url` is the real one.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    enabled: bool = Field(default=True, description="false: the cache neither looks up nor stores.")
    similarity_threshold: float = Field(
        default=0.95,
        gt=0.0,
        le=1.0,
        description="Lowest cosine score of a similar hit, in (0, 1]; the guard still "
        "requires the same content words, numbers in the same order and the same operands of "
        "direction words.",
    )
    max_cache_size: int = Field(
        default=100,
        ge=1,
        description="Entries kept; the least recently used beyond it are evicted.",
    )
    ttl: float | None = Field(
        default=None,
        gt=0.0,
        description="Seconds an entry lives after it was stored; null: until evicted.",
    )
    backend: Literal["memory", "redis"] | SecretUrl = Field(
        default="memory",
        description="memory (this process), redis (with url), or a redis:// / rediss:// URL; "
        "a URL's password is masked everywhere but in the Redis client.",
    )
    url: SecretUrl | None = Field(
        default=None,
        description="The redis:// or rediss:// URL of `backend: redis`; its password is masked.",
    )
    namespace: str = Field(
        default="llm_dispatch",
        min_length=1,
        pattern=r"^[A-Za-z0-9_.:\-]+$",
        description="Prefix of every key (letters, digits, _ . : -); caches in different "
        "namespaces never meet.",
    )
    replay_timing: Literal["immediate", "recorded"] = Field(
        default="immediate",
        description="immediate replays a hit at once; recorded spaces its chunks as they arrived.",
    )
    record_timing: bool = Field(
        default=True,
        description="Record each chunk's offset from the first (needed for `replay_timing: "
        "recorded`).",
    )
    backend_timeout: float = Field(
        default=2.0,
        gt=0.0,
        description="Seconds a backend call may take; a lookup that fails or times out is a "
        "miss and the call goes live.",
    )
    vectorizer: Literal["hashing", "semantic"] = Field(
        default="hashing",
        description="hashing: hashed words, no model (default); semantic: the local "
        "WordLlama sentence embeddings, with a vector index (pip install "
        "'llm-dispatch[semantic]'). Leave it at hashing when giving the cache a vectorizer "
        "in code.",
    )
    shared_flights: bool = Field(
        default=True,
        description="With a Redis backend, identical calls in flight in different processes "
        "share one provider stream (the first leads, the others follow it through Redis); "
        "false: each process shares only its own flights.",
    )
    flight_lease: float = Field(
        default=10.0,
        ge=0.5,
        description="Seconds a process leading a shared flight holds it without renewing "
        "(renewed every third of it): a leader that died is replaced this long after.",
    )
    ignore_extra: frozenset[str] = Field(
        default=DEFAULT_IGNORED_EXTRA,
        description="Request.extra keys that do not split the cache (tracing ids by "
        "default); every other extra key does.",
    )

    @field_validator("backend", mode="before")
    @classmethod
    def _known_backend(cls, value: Any) -> Literal["memory", "redis"] | SecretUrl:
        if value == "memory":
            return "memory"
        if value == "redis":
            return "redis"
        if not isinstance(value, str | SecretUrl):
            raise ValueError("backend must be 'memory', 'redis' or a redis:// URL")
        url = SecretUrl(value) if isinstance(value, str) else value
        if url.scheme in ("redis", "rediss"):
            return url
        if url.scheme:
            # Name only the scheme: the rest of a URL may hold a password.
            raise ValueError(
                f"unknown cache backend scheme {url.scheme + '://'!r}: use 'memory', "
                "'redis' with url=..., or a redis:// or rediss:// URL"
            )
        text = url.get_secret_value()
        shown = f" {text!r}" if is_plain_word(text) else ""
        raise ValueError(
            f"unknown cache backend{shown}: use 'memory', 'redis' with url=..., or a redis:// URL"
        )

    @model_validator(mode="after")
    def _url_for_redis(self) -> CacheOptions:
        if self.backend == "redis":
            if self.url is None or not self.url.get_secret_value():
                raise ValueError("backend 'redis' needs url='redis://host:port/db'")
            if self.url.scheme not in ("redis", "rediss"):
                raise ValueError("url must be a redis:// or rediss:// URL")
        elif self.url is not None:
            # Read only with ``backend: redis``: anywhere else it would be silently unused.
            raise ValueError(
                "url is only read with backend 'redis'; a backend given as a URL carries it "
                "itself, and the memory backend has none"
            )
        return self

    @property
    def redis_url(self) -> str | None:
        """The Redis URL to connect to, password included, or None for the in-memory
        backend. For the client only: show :attr:`backend` or :attr:`url` instead."""
        if self.backend == "memory":
            return None
        url = self.url if self.backend == "redis" else self.backend
        return url.get_secret_value() if isinstance(url, SecretUrl) else None
