"""``StreamingHandler``: sign a text while it streams, one chunk at a time.

Each chunk comes back at once with nothing held back: a chunk with no target passes through
untouched, the header goes right after the first target (or is spread over later ones), and
the trailer — which holds the integrity tag and can only be known at the end — goes out with
the chunk passed with ``is_final=True``. A caller that ends with :meth:`finalize` instead
gets that trailer in the summary (``summary["tail"]``) and must append it.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping
from os import urandom
from typing import Any

from .codec import bytes_to_selectors
from .compact import pack, unpack, utc_timestamp
from .payload import (
    MAX_METADATA_BYTES,
    NONCE_SIZE,
    SPREAD_PIECE_SIZE,
    HeaderData,
    encode_extras,
    header_frames,
    trailer_frame,
    trailer_prefix,
)
from .signing import KeyLike, compute_tag, default_key, key_id, key_to_bytes, text_mac
from .targets import MetadataTarget, TargetScanner

__all__ = ["MAX_METADATA_BYTES", "StreamingHandler"]

_SEEKING, _STREAMING, _DONE = 0, 1, 2
_NO_KEY_ID = bytes(4)


def _check_size(packed: bytes) -> None:
    if len(packed) > MAX_METADATA_BYTES:
        raise ValueError(
            f"metadata packs to {len(packed)} bytes; the limit is {MAX_METADATA_BYTES} "
            "(it becomes as many invisible characters)"
        )


def _counting_once(method: Callable[..., str]) -> Callable[..., str]:
    """Wrap a subclass's ``process_chunk`` so that one call counts one chunk (see
    :attr:`StreamingHandler.chunks_processed`)."""

    @functools.wraps(method)
    def process_chunk(self: StreamingHandler, *args: Any, **kwargs: Any) -> str:
        self._call_depth += 1
        try:
            out = method(self, *args, **kwargs)
        except BaseException:
            self._call_depth -= 1
            if not self._call_depth:
                self._counted_in_call = False
            raise
        self._call_depth -= 1
        if not self._call_depth:
            if self._counted_in_call:  # the override counted this chunk itself
                self._counted_in_call = False
            else:
                self._chunks += 1
        return out

    process_chunk.__counts_once__ = True  # type: ignore[attr-defined]
    return process_chunk


# Targets that never fall back to "any character" when buffer_size runs out.
_FALLBACK_EXEMPT = frozenset({MetadataTarget.END, MetadataTarget.ALL_CHARACTERS})


class StreamingHandler:
    """Embeds signed metadata into a stream of text chunks.

    Args:
        metadata: what to embed (JSON-like values, see :mod:`.compact`). ``None`` embeds
            ``{"timestamp": <now, ISO-8601 UTC>}``.
        target: where the header goes (:class:`MetadataTarget` or its name).
        hmac_secret_key: the signing key (``str``, ``bytes`` or a ``SecretStr``); ``secret_key``
            is an alias. ``None`` uses ``$LLM_DISPATCH_HMAC_KEY``, else a random key made once
            per process — read it back from :attr:`hmac_secret_key` to verify elsewhere.
        encode_first_chunk_only: ``True`` puts the whole header after the first target;
            ``False`` spreads it in 16-byte pieces over the following targets (shorter
            invisible runs), any pieces left over going out at the end.
        buffer_size: how far into the text the header may wait for a target. Nothing is
            ever held back; once this many characters went by without a target, any
            character counts as one, so a text with no targets (no whitespace, say) still
            carries its metadata near its start rather than only at its end. Not applied to
            ``MetadataTarget.END``, which asks for the end.
        min_buffer_size: the header goes after the first target found at or after this
            many characters of text (no text is held back to honour it); at most
            ``buffer_size``.
        sign: ``False`` writes an unsigned payload (verifies as ``unsigned``).

    :attr:`chunks_processed` counts the chunks and can be assigned (a subclass may keep its
    own count there): see its docstring for how one chunk is never counted twice.

    One handler serves one stream. Mutating :attr:`metadata` (or calling
    :meth:`update_metadata`) before the header goes out changes the header; later changes
    are carried by the trailer and merged over the header's values on extraction.
    """

    def __init__(
        self,
        metadata: Mapping[str, Any] | None = None,
        target: MetadataTarget | str = MetadataTarget.WHITESPACE,
        hmac_secret_key: KeyLike | None = None,
        encode_first_chunk_only: bool = True,
        buffer_size: int = 1024,
        min_buffer_size: int = 0,
        *,
        secret_key: KeyLike | None = None,
        sign: bool = True,
    ) -> None:
        if hmac_secret_key is not None and secret_key is not None:
            raise ValueError("pass hmac_secret_key or its alias secret_key, not both")
        key = hmac_secret_key if hmac_secret_key is not None else secret_key
        if key is None:
            key = default_key()
        if buffer_size < 0 or min_buffer_size < 0:
            raise ValueError("buffer sizes must not be negative")
        if min_buffer_size > buffer_size:
            raise ValueError(
                f"min_buffer_size ({min_buffer_size}) must not exceed buffer_size ({buffer_size})"
            )
        #: The key as given (or generated); never shown by ``repr``.
        self.hmac_secret_key: KeyLike = key
        self._key = key_to_bytes(key)
        self._key_id = key_id(self._key) if sign else _NO_KEY_ID
        self.metadata: dict[str, Any] = (
            dict(metadata) if metadata is not None else {"timestamp": utc_timestamp()}
        )
        _check_size(pack(self.metadata))  # fail now, not mid-stream, on what cannot embed
        self.target = MetadataTarget.coerce(target)
        self.encode_first_chunk_only = encode_first_chunk_only
        self.buffer_size = buffer_size
        self.min_buffer_size = min_buffer_size
        self.signed = sign
        self._nonce = urandom(NONCE_SIZE)
        self._mac = text_mac(self._key)
        # Unsigned payloads hash nothing; len() is a C-level no-op with the same signature.
        self._absorb: Callable[[bytes], object] = self._mac.update if sign else len
        self._scanner = TargetScanner(self.target)
        self._state = _SEEKING
        self._header: HeaderData | None = None
        #: Whether the header is fixed (its first frame went out, or the stream ended):
        #: metadata changed from now on travels in the trailer. A plain attribute rather
        #: than a property because the stage reads it on every chunk.
        self.header_sealed = False
        #: Header frames (their bytes) still to go out.
        self._frames: list[bytes] = []
        #: Header frames that went out: (offset in the visible text, frame bytes).
        self._pieces: list[tuple[int, bytes]] = []
        self._chars = 0
        # A count a subclass assigned before calling this __init__ is kept. (Not read
        # through ``self.__dict__``: touching it makes every attribute of the instance
        # slower to reach, on the per-chunk path too.)
        self._chunks: int = getattr(self, "_chunks", 0)
        #: How deep inside (subclass) process_chunk overrides we are, and whether code
        #: there assigned chunks_processed during the current call.
        self._call_depth = 0
        self._counted_in_call = False
        self._payload_chars = 0
        self._summary: dict[str, Any] | None = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        override = cls.__dict__.get("process_chunk")
        if inspect.isfunction(override) and not getattr(override, "__counts_once__", False):
            setattr(cls, "process_chunk", _counting_once(override))  # noqa: B010

    # -- the per-chunk path -------------------------------------------------------------

    def process_chunk(self, chunk: str, is_final: bool = False) -> str:
        """The chunk to pass on: ``chunk`` itself, with the header inserted if a target
        appeared, and with the trailer appended when ``is_final`` is true."""
        if self._state == _STREAMING and not is_final:
            # Hot path once the header is out: absorb the text, hand the chunk back as is.
            try:
                data = chunk.encode()
            except UnicodeEncodeError:  # lone surrogates: keep them, they are text too
                data = chunk.encode("utf-8", "surrogatepass")
            self._absorb(data)
            self._chars += len(chunk)
            if not self._call_depth:  # else the subclass wrapper counts the chunk
                self._chunks += 1
            return chunk
        return self._process_slow(chunk, is_final)

    def _process_slow(self, chunk: str, is_final: bool) -> str:
        if self._state == _DONE:
            raise RuntimeError(
                "this stream is already finished; use a new StreamingHandler per stream"
            )
        if not isinstance(chunk, str):
            raise TypeError(f"chunk must be str, not {type(chunk).__name__}")
        out = chunk
        if self._state == _SEEKING and chunk:
            if self._chars >= self.buffer_size and self._scanner.target not in _FALLBACK_EXEMPT:
                # No target within buffer_size characters: from here any character will do.
                self._scanner.target = MetadataTarget.ALL_CHARACTERS
            # Ask for every point in the chunk when spreading: the piece count is only
            # known once the header is sealed, and extra points are simply not used.
            wanted = 1 if self.encode_first_chunk_only else 255
            points = self._scanner.scan(chunk, wanted, max(0, self.min_buffer_size - self._chars))
            if points:
                out = self._insert(chunk, points)
        self._absorb(chunk.encode("utf-8", "surrogatepass"))
        self._chars += len(chunk)
        if is_final:
            out += self._close("is_final")
        if not self._call_depth:  # else the subclass wrapper counts the chunk
            self._chunks += 1
        return out

    def _insert(self, chunk: str, points: list[int]) -> str:
        if self._header is None:
            self._seal()
        parts: list[str] = []
        last = 0
        for point in points[: len(self._frames)]:
            parts.append(chunk[last:point])
            frame = self._frames.pop(0)
            parts.append(bytes_to_selectors(frame))
            self._payload_chars += len(frame)
            self._pieces.append((self._chars + point, frame))
            last = point
        parts.append(chunk[last:])
        if not self._frames:
            self._state = _STREAMING
        return "".join(parts)

    def _seal(self) -> None:
        """Freeze the header: from now on metadata changes go to the trailer."""
        self._header = HeaderData.build(
            self.metadata, signed=self.signed, key_id=self._key_id, nonce=self._nonce
        )
        self.header_sealed = True
        piece_size = None if self.encode_first_chunk_only else SPREAD_PIECE_SIZE
        self._frames = header_frames(self._header, piece_size)

    def _extras(self) -> dict[str, Any]:
        """What changed in :attr:`metadata` since the header was sealed."""
        assert self._header is not None
        sealed_raw = self._header.packed_metadata
        if pack(self.metadata) == sealed_raw:
            return {}
        sealed = unpack(sealed_raw)
        return {
            k: v for k, v in self.metadata.items() if k not in sealed or pack(v) != pack(sealed[k])
        }

    def _close(self, ended_with: str) -> str:
        if self._header is None:
            self._seal()
        assert self._header is not None
        # Header pieces no target took go out at the end, just before the trailer.
        self._pieces.extend((self._chars, frame) for frame in self._frames)
        tail_bytes = b"".join(self._frames)
        self._frames = []
        extras_raw = encode_extras(self._extras())
        ref = self._header.ref
        tag = (
            compute_tag(
                self._key,
                self._pieces,
                self._mac.digest(),
                trailer_prefix(ref, extras_raw, signed=True),
            )
            if self.signed
            else None
        )
        tail_bytes += trailer_frame(ref, extras_raw, tag)
        tail = bytes_to_selectors(tail_bytes)
        self._payload_chars += len(tail)
        self._state = _DONE
        embedded = dict(self._header.metadata)
        if extras_raw:
            embedded.update(unpack(extras_raw))
        self._summary = {
            "tail": "" if ended_with == "is_final" else tail,
            "ended_with": ended_with,
            "metadata": embedded,
            # The chunk passed with is_final is counted once its call returns.
            "chunks": self._chunks + int(ended_with == "is_final" and not self._counted_in_call),
            "characters": self._chars,
            "payload_characters": self._payload_chars,
            "header_offset": self._pieces[0][0],
            "header_pieces": len(self._pieces),
            "target": self.target.value,
            "signed": self.signed,
            "key_id": self._key_id.hex(),
            "nonce": self._nonce.hex(),
        }
        return tail

    # -- the EncypherAI-style API -------------------------------------------------------

    def finalize(self) -> dict[str, Any]:
        """End the stream (unless ``is_final=True`` already did) and describe it.

        The summary's ``"tail"`` is the invisible text that still has to be appended to
        what was delivered — the trailer, and the header if no target ever appeared. It is
        ``""`` when the last chunk was passed with ``is_final=True`` (the trailer went out
        with it). A text delivered without its tail verifies as ``truncated``.

        Other keys: ``ended_with`` (``"is_final"``/``"finalize"``), ``metadata`` (what was
        embedded, header and trailer merged), ``chunks``, ``characters`` (visible),
        ``payload_characters`` (invisible), ``header_offset``, ``header_pieces``,
        ``target``, ``signed``, ``key_id``, ``nonce``. Calling it again returns the same.
        """
        if self._summary is None:
            self._close("finalize")
        assert self._summary is not None
        return dict(self._summary)

    def get_metadata(self) -> dict[str, Any]:
        """A copy of the metadata that will be embedded."""
        return dict(self.metadata)

    def update_metadata(self, metadata: Mapping[str, Any]) -> None:
        """Merge ``metadata`` into the metadata (``dict.update`` semantics).

        Before the header goes out this changes the header; afterwards the changed keys
        travel in the trailer. Keys cannot be removed once the header is out.
        """
        if self._state == _DONE:
            raise RuntimeError("this stream is finished; its metadata can no longer change")
        merged = {**self.metadata, **metadata}
        _check_size(pack(merged))
        self.metadata.update(metadata)

    # -- introspection ------------------------------------------------------------------

    @property
    def secret_key(self) -> KeyLike:
        """Alias of :attr:`hmac_secret_key`."""
        return self.hmac_secret_key

    @property
    def key_id(self) -> str:
        """Hex id of the signing key (safe to show: it does not reveal the key)."""
        return self._key_id.hex()

    @property
    def header_emitted(self) -> bool:
        """Whether every header frame has gone out."""
        return self._header is not None and not self._frames

    @property
    def chunks_processed(self) -> int:
        """How many chunks were processed (the summary's ``"chunks"``).

        It can be assigned, and one chunk is still counted once. Assigned between calls,
        it sets the count (the next chunk makes it one more). Assigned by code inside a
        subclass's ``process_chunk`` override — ``self.chunks_processed += 1`` before or
        after calling ``super().process_chunk`` — it is that call's count: the handler
        does not add the chunk again. The handler counts a chunk when the outermost
        ``process_chunk`` call returns; a call that raises is not counted.
        """
        return self._chunks

    @chunks_processed.setter
    def chunks_processed(self, value: int) -> None:
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"chunks_processed must be an int, not {type(value).__name__}")
        if value < 0:
            raise ValueError(f"chunks_processed must not be negative (got {value})")
        self._chunks = value
        if getattr(self, "_call_depth", 0):
            self._counted_in_call = True

    @property
    def chars_processed(self) -> int:
        """Visible characters seen so far (the payload not counted)."""
        return self._chars

    @property
    def finished(self) -> bool:
        return self._state == _DONE

    def __repr__(self) -> str:
        state = ("seeking", "streaming", "done")[self._state]
        return (
            f"{type(self).__name__}(target={self.target.value!r}, key_id={self.key_id!r}, "
            f"state={state!r}, chunks={self._chunks})"
        )
