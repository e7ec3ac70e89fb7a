"""Where the state that processes share lives: ``memory`` (this process) or a Redis URL.

The circuit breaker (``defaults.circuit.store``), the limits (``defaults.limits.store``)
and the budgets (``defaults.budgets.store``) each name one; :func:`store_location` reads
and checks what the configuration says. An error names the store and at most a URL's
scheme, never the rest of it (it may hold a password).
"""

from __future__ import annotations

from typing import Any, Literal

from ..redaction import is_plain_word
from ..urls import SecretUrl
from .paths import did_you_mean

__all__ = ["StoreLocation", "store_location"]

#: ``memory`` or a ``redis://``, ``rediss://`` or ``unix://`` URL.
StoreLocation = Literal["memory"] | SecretUrl

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
