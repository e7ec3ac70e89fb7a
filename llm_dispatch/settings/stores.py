"""Where the state that processes share lives: ``memory`` (this process) or a Redis URL.

The circuit breaker (``defaults.circuit``), the limits (``defaults.limits``) and the
budgets (``defaults.budgets``) each name one, with the fields of
:class:`SharedStoreSettings`; :func:`store_location` reads and checks the location. An
error names the store and at most a URL's scheme, never the rest of it (it may hold a
password).
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..redaction import is_plain_word
from ..urls import SecretUrl
from .paths import did_you_mean

__all__ = ["NAMESPACE_HELP", "SharedStoreSettings", "StoreLocation", "store_location"]

#: ``memory`` or a ``redis://``, ``rediss://`` or ``unix://`` URL.
StoreLocation = Literal["memory"] | SecretUrl

#: The description of every store's ``namespace`` (a subclass gives it its own default).
NAMESPACE_HELP = "Prefix of the Redis keys, so several applications can share one server."

_SCHEMES = ("redis", "rediss", "unix")
_USE = "use 'memory' or a redis://, rediss:// or unix:// URL"


def store_location(value: Any, what: str) -> StoreLocation:
    """``value`` as a store's location; ``what`` names the store in an error ("circuit")."""
    if value == "memory":
        return "memory"
    if not isinstance(value, str | SecretUrl):
        raise ValueError(f"the {what} store must be 'memory' or a redis:// URL")
    url = SecretUrl(value) if isinstance(value, str) else value
    if url.scheme in _SCHEMES:
        return url
    if url.scheme:
        raise ValueError(f"unknown {what} store scheme {url.scheme + '://'!r}: {_USE}")
    text = url.get_secret_value()
    if is_plain_word(text):
        raise ValueError(
            f"unknown {what} store {text!r}: use 'memory' or a redis:// URL"
            + did_you_mean(text, ["memory"])
        )
    raise ValueError(f"unknown {what} store: {_USE}")


class SharedStoreSettings(BaseModel):
    """Where state that processes share is kept, and how long a process waits for it
    before it goes on with its own. Each subclass names its store and its key prefix."""

    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    #: The store's name in errors ("circuit": "unknown circuit store ...").
    store_name: ClassVar[str] = "shared"

    store: StoreLocation = Field(
        default="memory",
        description="Where the state lives: memory (this process) or a redis://, rediss:// "
        "or unix:// URL shared by every process using that server; its password is masked "
        "everywhere but in the Redis client.",
    )
    namespace: str = Field(
        default="llm_dispatch",
        min_length=1,
        description=NAMESPACE_HELP,
    )
    store_timeout: float = Field(
        default=0.25,
        gt=0,
        description="Longest wait for one round trip to a shared store, in seconds (the "
        "call's `total` bounds it too); a store that does not answer in time is replaced by "
        "this process's own state.",
    )
    store_retry: float = Field(
        default=5.0,
        gt=0,
        description="Seconds this process keeps its own state after the shared store failed, "
        "before trying the store again.",
    )

    @field_validator("store", mode="before")
    @classmethod
    def _known_store(cls, value: Any) -> StoreLocation:
        return store_location(value, cls.store_name)
