"""What a message may repeat of text that llm_dispatch does not control.

- :func:`redact` removes credentials from a text: API keys of the known shapes, values of
  key and authorization headers, URL passwords, and any secret it is given.
- :func:`is_secret_name` tells whether a mapping key names a credential, and
  :func:`secret_values` / :func:`redacted_mapping` find and hide the values under such keys
  (a call's ``extra_headers`` option, say).
- :func:`is_plain_word` tells whether a configuration value is harmless enough to quote in
  a "did you mean" message.
- :func:`sdk_error_facts` reads what an SDK exception says about the failed request (its
  type, HTTP status and request id) and nothing of its text, for
  :meth:`~llm_dispatch.errors.UpstreamError.of`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

__all__ = [
    "is_plain_word",
    "is_secret_name",
    "redact",
    "redacted_mapping",
    "sdk_error_facts",
    "secret_values",
]

_SECRET_NAMES = frozenset(
    {"key", "api_key", "apikey", "api-key", "secret", "password", "passwd", "token",
     "authorization", "auth", "credential", "credentials", "headers", "extra_headers",
     "default_headers", "cookie", "cookies", "hmac_key", "signing_key", "private_key"}
)  # fmt: skip
_SECRET_SUFFIXES = ("_key", "-key", "_secret", "_password", "_token", "_credentials")

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


def is_secret_name(name: str) -> bool:
    """Whether a mapping key names a credential, or a mapping of them (``extra_headers``)."""
    lowered = name.lower()
    return lowered in _SECRET_NAMES or lowered.endswith(_SECRET_SUFFIXES)


def secret_values(mapping: Mapping[str, Any]) -> tuple[str, ...]:
    """Every string held under a secret-named key of ``mapping``, at any depth: what a
    message about a call made with ``mapping`` as its options must not repeat."""
    return tuple(_strings_under_secrets(mapping, inside=False))


def _strings_under_secrets(value: Any, *, inside: bool) -> Iterator[str]:
    if isinstance(value, str):
        if inside:
            yield value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _strings_under_secrets(
                item, inside=inside or (isinstance(key, str) and is_secret_name(key))
            )
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings_under_secrets(item, inside=inside)


def redacted_mapping(mapping: Mapping[str, Any]) -> dict[str, Any]:
    """``mapping`` with the value of every secret-named key replaced by ``"[redacted]"``
    (nested mappings included): safe for a repr or a log line."""
    return {
        key: "[redacted]"
        if isinstance(key, str) and is_secret_name(key)
        else redacted_mapping(value)
        if isinstance(value, Mapping)
        else value
        for key, value in mapping.items()
    }


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
