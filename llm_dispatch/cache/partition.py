"""The partition: everything about a request that must match *exactly* for a cache hit.

Similarity only ever compares prompts inside one partition. The partition covers:

- the task type and the route (what would answer: route name or pinned provider/model);
- the tenant scope (``cache_scope=``), so tenants never share entries;
- the system prompt and every generation parameter: temperature, max_tokens, stop,
  response_format, the function's rendered ``arguments``, and any field a future
  :class:`~llm_dispatch.request.Request` grows (all fields but ``messages``, ``options``
  and ``extra`` are taken as they are);
- the provider ``options``, except those that name credentials (``extra_headers`` ...);
- every message except the last user message (the conversation so far), in order, with
  the position of the prompt inside it; and the prompt's own media (images, audio,
  documents). Media count by the SHA-256 of their bytes (or their URL), so the same image
  given as a path and as bytes is the same, and no media ever reaches the cache;
- everything in ``request.extra`` (the values stages read, ``embedding_fields`` ...) except
  keys known not to change the answer (:data:`.options.DEFAULT_IGNORED_EXTRA`) and keys
  that name credentials (``api_key``, ``*_token``, ``headers`` ...), which are dropped.

The key is the SHA-256 (first 128 bits) of a canonical JSON of all that (sorted keys, no
whitespace). The JSON document itself is never stored: only its hash is, so nothing of the
request but the prompt ends up in the cache. A value with no stable form for the key (an
arbitrary object) raises :class:`~llm_dispatch.errors.UncacheableRequest`, and the cache
bypasses that call.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from collections.abc import Iterable, Mapping
from enum import Enum
from typing import Any

from pydantic import BaseModel

from ..content import Content, cache_form
from ..errors import UncacheableRequest
from ..redaction import is_secret_name
from ..request import Request

__all__ = ["PARTITION_VERSION", "partition_key"]

#: Part of every partition: bump it when what the partition covers changes.
PARTITION_VERSION = 2


def _canonical(value: Any, path: str) -> Any:
    """A JSON-ready, deterministic form of ``value``."""
    if value is None or isinstance(value, bool | int | str):
        return value
    # Plain dicts and lists (most of a dumped request) first: the checks below cost more.
    kind = type(value)
    if kind is dict:
        return {str(k): _canonical(v, f"{path}.{k}") for k, v in value.items()}
    if kind is list:
        return [_canonical(v, f"{path}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, float):
        # NaN and infinities have no JSON form; their repr is stable.
        return value if math.isfinite(value) else repr(value)
    if isinstance(value, Enum):
        return _canonical(value.value, path)
    if isinstance(value, BaseModel):
        return _canonical(value.model_dump(mode="json"), path)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _canonical(dataclasses.asdict(value), path)
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for k, v in value.items():
            out[str(k)] = _canonical(v, f"{path}.{k}")
        return out
    if isinstance(value, bytes | bytearray | memoryview):
        # Images or audio: the hash decides equality without copying the data into the key.
        return {"$sha256": hashlib.sha256(bytes(value)).hexdigest()}
    if isinstance(value, set | frozenset):
        items = [_canonical(v, f"{path}[]") for v in value]
        return sorted(items, key=lambda v: json.dumps(v, sort_keys=True))
    if isinstance(value, list | tuple):
        return [_canonical(v, f"{path}[{i}]") for i, v in enumerate(value)]
    raise UncacheableRequest(
        f"{path} is a {type(value).__name__}, which has no stable form for a cache key; "
        "pass JSON-like values (str, numbers, lists, dicts, pydantic models), or list the "
        "key in the cache's ignore_extra if it does not change the answer"
    )


def _media_of(content: Content) -> list[Any]:
    """The prompt's media, by digest (its text is the prompt, compared by similarity)."""
    form = cache_form(content)
    return [] if isinstance(form, str) else [p for p in form if p["type"] != "text"]


def prompt_index(request: Request) -> int:
    """Index of the message that is the prompt (the last user message, as ``Request.prompt``)."""
    for i in range(len(request.messages) - 1, -1, -1):
        if request.messages[i].role == "user":
            return i
    return len(request.messages) - 1


def partition_key(
    request: Request,
    *,
    route: str,
    scope: str | None,
    ignore_extra: Iterable[str] = (),
) -> str:
    """SHA-256 hex (first 128 bits) of everything that must match exactly."""
    at = prompt_index(request)
    history = [
        {"role": message.role, "content": cache_form(message.content)}
        if i != at
        else {"$prompt": True, "role": message.role, "media": _media_of(message.content)}
        for i, message in enumerate(request.messages)
    ]
    ignored = frozenset(ignore_extra)
    # Credentials are dropped at the top level, where a caller would put them; nested
    # mappings are kept whole (a tool schema may well have a property called "key"), and
    # only their hash ever reaches the key.
    extra = {k: v for k, v in request.extra.items() if k not in ignored and not is_secret_name(k)}
    # Options that name credentials (extra_headers ...) change nothing about the answer.
    options = {k: v for k, v in request.options.items() if not is_secret_name(k)}
    document = {
        "v": PARTITION_VERSION,
        "request": _canonical(
            request.model_dump(mode="json", exclude={"messages", "extra", "options"}), "request"
        ),
        "options": _canonical(options, "request.options"),
        "route": route,
        "scope": scope,
        "history": history,
        "extra": _canonical(extra, "request.extra"),
    }
    encoded = json.dumps(
        document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")
    return hashlib.sha256(encoded).hexdigest()[:32]
