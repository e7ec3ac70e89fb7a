"""Token estimates for when a provider reports no usage.

The estimate is about four characters per token (English prose, the usual tokenizers).
When ``tiktoken`` is importable *and* one of its encoding files is already in its local cache,
that encoding counts instead. Nothing here ever downloads: a missing encoding file means the
character estimate, not a network request. Estimates feed usage that is marked
``estimated: true``; they are never passed off as the provider's counts.

A :data:`TokenCounter` chooses how a stream's estimates are made:

- ``auto`` (the default): tiktoken when available offline, else the character estimate;
- ``tiktoken``: the same, but asked for explicitly: when tiktoken or its cached encoding is
  missing, one warning says so (once per process) and the character estimate is used;
- ``character``: the character estimate, even when tiktoken is available.

:func:`counter_used` names what a counter actually counts with (``tiktoken/o200k_base`` or
``characters``), so a result can say which estimate it holds.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import os
import tempfile
from typing import TYPE_CHECKING, Any, Literal

from .log import get_logger

if TYPE_CHECKING:
    from .request import Request

__all__ = [
    "CHARS_PER_TOKEN",
    "TOKEN_COUNTERS",
    "TokenCounter",
    "cached_encoding_path",
    "counter_used",
    "estimate_prompt_tokens",
    "estimate_tokens",
]

log = get_logger(__name__)

#: Characters per token assumed when no tokenizer is available.
CHARS_PER_TOKEN = 4

#: How estimates are counted (see the module docstring).
TokenCounter = Literal["auto", "tiktoken", "character"]
TOKEN_COUNTERS: tuple[TokenCounter, ...] = ("auto", "tiktoken", "character")

#: What :func:`counter_used` calls the character estimate.
CHARACTERS = "characters"

# Encodings tried in order: the newest OpenAI one first; both are fair stand-ins for the
# tokenizers of other providers, and far better than a character count.
_ENCODINGS = ("o200k_base", "cl100k_base")
_BLOB_URL = "https://openaipublic.blob.core.windows.net/encodings/{name}.tiktoken"


def cached_encoding_path(name: str) -> str | None:
    """Where tiktoken keeps encoding ``name`` when it is already downloaded, else None.

    Mirrors tiktoken's own cache lookup (``TIKTOKEN_CACHE_DIR``, then ``DATA_GYM_CACHE_DIR``,
    then ``<tmp>/data-gym-cache``; file named by the SHA-1 of the download URL).
    """
    cache_dir = os.environ.get("TIKTOKEN_CACHE_DIR")
    if cache_dir is None:
        cache_dir = os.environ.get("DATA_GYM_CACHE_DIR")
    if cache_dir is None:
        cache_dir = os.path.join(tempfile.gettempdir(), "data-gym-cache")
    if not cache_dir:
        # An empty cache dir tells tiktoken not to cache: every load would download.
        return None
    key = hashlib.sha1(_BLOB_URL.format(name=name).encode()).hexdigest()
    path = os.path.join(cache_dir, key)
    return path if os.path.isfile(path) and os.path.getsize(path) > 0 else None


@functools.cache
def _encoding() -> Any | None:
    """A tiktoken encoding whose file is already cached, or None (looked up once)."""
    if importlib.util.find_spec("tiktoken") is None:
        return None
    for name in _ENCODINGS:
        if cached_encoding_path(name) is None:
            continue
        try:
            import tiktoken

            return tiktoken.get_encoding(name)
        except Exception as exc:  # a broken install or cache must not break accounting
            log.warning("tokens.tiktoken_unavailable", encoding=name, error=repr(exc))
    return None


@functools.cache
def _warn_no_tiktoken() -> None:
    """Say once per process that ``tiktoken`` counting was asked for but is not available."""
    installed = importlib.util.find_spec("tiktoken") is not None
    log.warning(
        "tokens.tiktoken_unavailable",
        reason="no encoding file in its local cache" if installed else "tiktoken is not installed",
        using=CHARACTERS,
    )


def _encoding_for(counter: TokenCounter) -> Any | None:
    if counter == "character":
        return None
    encoding = _encoding()
    if encoding is None and counter == "tiktoken":
        _warn_no_tiktoken()
    return encoding


def counter_used(counter: TokenCounter = "auto") -> str:
    """What ``counter`` counts with here: ``tiktoken/<encoding>`` or ``characters``."""
    encoding = _encoding_for(counter)
    return f"tiktoken/{encoding.name}" if encoding is not None else CHARACTERS


def estimate_tokens(text: str, counter: TokenCounter = "auto") -> int:
    """Tokens in ``text``: tiktoken's count when available offline (and ``counter`` allows
    it), else ``ceil(chars / 4)``."""
    if not text:
        return 0
    encoding = _encoding_for(counter)
    if encoding is not None:
        return len(encoding.encode(text, disallowed_special=()))
    return (len(text) + CHARS_PER_TOKEN - 1) // CHARS_PER_TOKEN


def estimate_prompt_tokens(request: Request, counter: TokenCounter = "auto") -> int:
    """Tokens the provider reads for ``request``: every message and the system prompt."""
    total = sum(estimate_tokens(m.text, counter) for m in request.messages)
    return total + estimate_tokens(request.system or "", counter)
