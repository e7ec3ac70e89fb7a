"""The EncypherAI-style facades: ``UnicodeMetadata`` (static helpers) and ``MetadataEncoder``.

Both are thin: embedding is a one-chunk :class:`StreamingHandler` stream, reading is
:mod:`.verify`. A key left out means ``$LLM_DISPATCH_HMAC_KEY``, else this process's random
key (see :func:`.signing.default_key`), so that code which signs and verifies in one process
without naming a key verifies.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .handler import StreamingHandler
from .signing import KeyLike, default_key
from .targets import MetadataTarget
from .verify import VerificationResult, extract, strip
from .verify import verify as verify_text

# MetadataTarget is re-exported: code written for the EncypherAI API imports it from here.
__all__ = ["MetadataEncoder", "MetadataTarget", "UnicodeMetadata"]


def _one_key(hmac_secret_key: KeyLike | None, secret_key: KeyLike | None) -> KeyLike:
    if hmac_secret_key is not None and secret_key is not None:
        raise ValueError("pass hmac_secret_key or its alias secret_key, not both")
    key = hmac_secret_key if hmac_secret_key is not None else secret_key
    return key if key is not None else default_key()


class UnicodeMetadata:
    """Embed, extract, verify and strip metadata in a finished text."""

    @staticmethod
    def embed_metadata(
        text: str,
        metadata: Mapping[str, Any] | None = None,
        target: MetadataTarget | str = MetadataTarget.WHITESPACE,
        hmac_secret_key: KeyLike | None = None,
        *,
        secret_key: KeyLike | None = None,
        encode_first_chunk_only: bool = True,
        sign: bool = True,
    ) -> str:
        """``text`` with ``metadata`` embedded and signed (the whole text is one chunk)."""
        handler = StreamingHandler(
            metadata,
            target,
            _one_key(hmac_secret_key, secret_key),
            encode_first_chunk_only,
            sign=sign,
        )
        return handler.process_chunk(text, is_final=True)

    @staticmethod
    def extract_metadata(text: str) -> dict[str, Any] | None:
        """The embedded metadata, without checking the signature (None if there is none)."""
        return extract(text)

    @staticmethod
    def verify_metadata(
        text: str,
        hmac_secret_key: KeyLike | None = None,
        *,
        secret_key: KeyLike | None = None,
    ) -> tuple[bool, dict[str, Any] | None]:
        """``(True, metadata)`` when the signature is valid, else ``(False, None)``.

        Use :meth:`verify` to learn why a text did not verify.
        """
        result = verify_text(text, _one_key(hmac_secret_key, secret_key))
        return (True, result.metadata) if result.valid else (False, None)

    @staticmethod
    def verify(
        text: str,
        hmac_secret_key: KeyLike | None = None,
        *,
        secret_key: KeyLike | None = None,
    ) -> VerificationResult:
        """The full verdict: status, message, metadata and where the payload sits."""
        return verify_text(text, _one_key(hmac_secret_key, secret_key))

    @staticmethod
    def strip_metadata(text: str, *, all_payloads: bool = False) -> str:
        """``text`` without its payload; selectors that were in the text stay."""
        return strip(text, all_payloads=all_payloads)


class MetadataEncoder:
    """An object form of the same operations, bound to one key."""

    def __init__(
        self,
        hmac_secret_key: KeyLike | None = None,
        *,
        secret_key: KeyLike | None = None,
        target: MetadataTarget | str = MetadataTarget.WHITESPACE,
    ) -> None:
        self._key = _one_key(hmac_secret_key, secret_key)
        self.target = MetadataTarget.coerce(target)

    def encode_metadata(self, text: str, metadata: Mapping[str, Any] | None = None) -> str:
        """``text`` with ``metadata`` embedded and signed with this encoder's key."""
        return UnicodeMetadata.embed_metadata(text, metadata, self.target, self._key)

    def decode_metadata(self, text: str) -> dict[str, Any] | None:
        """The embedded metadata, unverified (None if there is none)."""
        return extract(text)

    def verify_text(self, text: str) -> bool:
        """Whether ``text`` carries a valid signature by this encoder's key."""
        return verify_text(text, self._key).valid

    def verify(self, text: str) -> VerificationResult:
        """The full verdict for ``text`` against this encoder's key."""
        return verify_text(text, self._key)

    def strip(self, text: str) -> str:
        """``text`` without its payload."""
        return strip(text)

    def __repr__(self) -> str:
        return f"MetadataEncoder(target={self.target.value!r})"
