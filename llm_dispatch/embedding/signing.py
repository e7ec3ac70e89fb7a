"""Keys, key ids and the HMAC-SHA256 that binds header, text and trailer together.

The signature is computed in two steps so that the per-chunk cost is one C-level update:

1. while the stream runs, a keyed HMAC-SHA256 absorbs the UTF-8 bytes of every visible
   character (everything but our own frames), chunk by chunk;
2. at the end, the tag is HMAC-SHA256 over a record that holds the header data (flags, key
   id, nonce, metadata), where each header piece sits in the visible text, the digest from
   step 1, and the trailer's extra metadata — truncated to 16 bytes.

Every field of the record is length-prefixed or fixed-size, so no two different
(header, layout, text, extras) give the same record. The nonce in the header makes every
signature unique, so a payload copied from another text never matches this text.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import threading
from collections.abc import Sequence
from typing import Any, Protocol

from .codec import encode_varint
from .payload import KEY_ID_SIZE, TAG_SIZE

__all__ = [
    "ENV_KEY",
    "KeyLike",
    "compute_tag",
    "default_key",
    "key_id",
    "key_to_bytes",
    "tags_equal",
    "text_mac",
]

ENV_KEY = "LLM_DISPATCH_HMAC_KEY"

_TEXT_DOMAIN = b"llm-dispatch/embedding/1 text\x00"
_TAG_DOMAIN = b"llm-dispatch/embedding/1 tag\x00"
_KEY_ID_DOMAIN = b"llm-dispatch/embedding/1 key id\x00"


class _Secret(Protocol):
    def get_secret_value(self) -> str: ...


KeyLike = str | bytes | bytearray | _Secret

_process_key: str | None = None
_process_key_lock = threading.Lock()


def default_key() -> str:
    """The key used when none is given: ``$LLM_DISPATCH_HMAC_KEY``, else a random one.

    The random key is made once per process, so a handler and a verifier created without a
    key in the same process agree (as in the seed examples); to verify elsewhere, read it
    from the handler (``handler.hmac_secret_key``).
    """
    global _process_key
    env = os.environ.get(ENV_KEY)
    if env:
        return env
    with _process_key_lock:
        if _process_key is None:
            _process_key = secrets.token_urlsafe(32)
        return _process_key


def key_to_bytes(key: KeyLike) -> bytes:
    """The key material: ``str`` keys are UTF-8, ``SecretStr``-likes are unwrapped."""
    raw: Any = key
    if hasattr(raw, "get_secret_value"):
        raw = raw.get_secret_value()
    if isinstance(raw, str):
        raw = raw.encode("utf-8")
    if not isinstance(raw, bytes | bytearray):
        raise TypeError(f"an HMAC key must be str or bytes, not {type(raw).__name__}")
    if not raw:
        raise ValueError("an HMAC key must not be empty")
    return bytes(raw)


def key_id(key: bytes) -> bytes:
    """Four bytes that name a key without revealing it, so verify can say "other key"."""
    return hashlib.sha256(_KEY_ID_DOMAIN + key).digest()[:KEY_ID_SIZE]


def text_mac(key: bytes) -> hmac.HMAC:
    """A fresh running HMAC for the visible text of one stream."""
    return hmac.new(key, _TEXT_DOMAIN, hashlib.sha256)


def compute_tag(
    key: bytes,
    header_raw: bytes,
    offsets: Sequence[int],
    text_digest: bytes,
    extras_raw: bytes,
) -> bytes:
    """The trailer's tag over everything a reader could change."""
    record = bytearray(_TAG_DOMAIN)
    record += encode_varint(len(header_raw))
    record += header_raw
    record += encode_varint(len(offsets))
    for offset in offsets:
        record += encode_varint(offset)
    record += text_digest
    record += encode_varint(len(extras_raw))
    record += extras_raw
    return hmac.new(key, bytes(record), hashlib.sha256).digest()[:TAG_SIZE]


def tags_equal(a: bytes, b: bytes) -> bool:
    """Constant-time comparison, so timing does not leak how much of a tag was right."""
    return hmac.compare_digest(a, b)
