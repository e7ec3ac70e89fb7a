"""What a message may repeat of text that llm_dispatch does not control.

- :func:`redact` removes credentials from a text: API keys of the known shapes, values of
  key and authorization headers, URL passwords, and any secret it is given.
- :func:`is_plain_word` tells whether a configuration value is harmless enough to quote in
  a "did you mean" message.
- :func:`sdk_error_facts` reads what an SDK exception says about the failed request (its
  type, HTTP status and request id) and nothing of its text, for
  :meth:`~llm_dispatch.errors.UpstreamError.of`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

__all__ = ["is_plain_word", "redact", "sdk_error_facts"]

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


def sdk_error_facts(exc: BaseException) -> tuple[str, int | None, str | None]:
    """``exc``'s qualified type name, HTTP status and request id, read without SDK imports.

    The type is ``module.Class`` (just ``Class`` for builtins); the status is the
    ``status_code`` attribute, or a ``code`` between 100 and 599; the request id is the
    ``request_id`` attribute or the response's ``x-request-id`` / ``request-id`` header, kept
    only when it looks like an id. Nothing else of ``exc`` is read.
    """
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
    return name, status, _safe_id(request_id)


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
