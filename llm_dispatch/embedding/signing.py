"""Keys, key ids and the HMAC-SHA256 that binds header, text and trailer together.

The signature is computed in two steps so that the per-chunk cost is one C-level update:

1. while the stream runs, a keyed HMAC-SHA256 absorbs the UTF-8 bytes of every visible
   character (everything but our own frames), chunk by chunk;
2. at the end, the tag is HMAC-SHA256 over a record that holds, for each header piece in
   order, where it sits in the visible text and every byte of its frame (magic, type,
   length and body), then the digest from step 1, then every byte of the trailer frame
   before the tag — truncated to 16 bytes.

Every field of the record is length-prefixed or fixed-size, so no two different
(frames, layout, text) give the same record; and since every byte of every frame is in
it, the tag itself being compared whole, any change to the invisible text — a frame's
length written another way, the header cut into pieces differently — fails. The nonce in
the header makes every signature unique, so a payload copied from another text never
matches this text.
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
    "process_key",
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


def process_key() -> str:
    """This process's random signing key: made on first use, the same ever after.

    Every user of a random key in one process shares it — a :class:`StreamingHandler`
    built without a key (and without ``$LLM_DISPATCH_HMAC_KEY``), and every dispatcher
    stage configured with ``hmac_key: random`` — so that what one signs, the others and
    this function's caller can verify. It lives only as long as the process: to verify
    elsewhere, configure a key.
    """
    global _process_key
    with _process_key_lock:
        if _process_key is None:
            _process_key = secrets.token_urlsafe(32)
        return _process_key


def default_key() -> str:
    """The key a :class:`StreamingHandler` uses when none is given:
    ``$LLM_DISPATCH_HMAC_KEY``, else :func:`process_key`.

    Because the random key is per process, a handler and a verifier created without a key
    in the same process agree; to verify elsewhere, read it from the handler
    (``handler.hmac_secret_key``).
    """
    env = os.environ.get(ENV_KEY)
    return env if env else process_key()


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
    pieces: Sequence[tuple[int, bytes]],
    text_digest: bytes,
    trailer_prefix: bytes,
) -> bytes:
    """The trailer's tag over everything a reader could change.

    ``pieces`` are the header frames in index order, each as (offset in the visible text,
    the frame's bytes); ``text_digest`` the visible text's HMAC (:func:`text_mac`);
    ``trailer_prefix`` the trailer frame's bytes before the tag.
    """
    record = bytearray(_TAG_DOMAIN)
    record += encode_varint(len(pieces))
    for offset, frame in pieces:
        record += encode_varint(offset)
        record += encode_varint(len(frame))
        record += frame
    record += text_digest
    record += encode_varint(len(trailer_prefix))
    record += trailer_prefix
    return hmac.new(key, bytes(record), hashlib.sha256).digest()[:TAG_SIZE]


def tags_equal(a: bytes, b: bytes) -> bool:
    """Constant-time comparison, so timing does not leak how much of a tag was right."""
    return hmac.compare_digest(a, b)
