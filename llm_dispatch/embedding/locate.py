"""Which frames of a text are *its* payload, and that payload read back.

1. If the text ends with a trailer — or with a trailer and one line break (``\\n`` or
   ``\\r\\n``), as files and ``echo`` add — that trailer and the header pieces with the
   same ref before it.
2. Otherwise, the last header whose trailer is nowhere in the text (an unfinished stream:
   ``truncated``).
3. Otherwise the last trailer, with text after it (something was appended: ``tampered``).

Every other frame — a payload quoted from an older signed text — is part of the text like
any other character: it is covered by this text's signature and kept by ``strip``. A text
whose only frames are neither a header piece nor a trailer holds the remains of an edited
payload (see :attr:`Located.damaged`).

Only the chosen payload is read (its header reassembled, its trailer split), so forged
frames elsewhere cost no more than being found; and its metadata is decoded only when it
is asked for (:attr:`Located.metadata`), so a forged payload's metadata costs nothing to a
verdict, which does not need it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..errors import PayloadError
from .payload import (
    MAX_HEADER_DATA,
    PIECE_PREFIX,
    HeaderFields,
    HeaderPiece,
    Trailer,
    classify,
    read_extras,
    read_metadata,
    trailer_bytes,
)
from .scanner import scan

__all__ = ["LINE_BREAKS", "Located", "locate", "remove_spans"]

#: What may follow the trailer of a text and still count as its end.
LINE_BREAKS = ("\r\n", "\n")


_UNREAD: Any = object()


@dataclass(slots=True)
class Located:
    """This text's payload: its frames, and — decoded on first use — its metadata."""

    pieces: list[HeaderPiece]
    trailer: Trailer | None
    #: The reassembled header's fixed fields; None when pieces are missing, extra or
    #: damaged. Its metadata is still packed (see :attr:`header_metadata`).
    header: HeaderFields | None = None
    #: The bytes of each header frame, in order (when the header was reassembled).
    piece_frames: list[bytes] = field(default_factory=list)
    #: The trailer's extra metadata, still packed (see :attr:`extras`).
    extras_raw: bytes = b""
    #: The trailer's tag, and its bytes before the tag (what the signature covers of it).
    tag: bytes = b""
    trailer_prefix: bytes = b""
    #: Characters after the trailer (> 0 only when the trailer does not end the text).
    after_trailer: int = 0
    #: The one line break after the trailer that rule 1 allows ("" when there is none).
    line_break: str = ""
    #: False when the scan gave up (a text crafted to be full of frame candidates): then
    #: nothing else here is filled in.
    complete: bool = True
    #: Frames found that are neither a header piece nor a trailer (too short, or a piece
    #: whose index is not below its count): the remains of a payload that was edited.
    damaged: int = 0
    _header_metadata: Any = _UNREAD
    _extras: Any = _UNREAD

    @property
    def header_metadata(self) -> dict[str, Any] | None:
        """The header's metadata; None without a header, or when it does not decode."""
        if self._header_metadata is _UNREAD:
            try:
                self._header_metadata = read_metadata(self.header) if self.header else None
            except PayloadError:
                self._header_metadata = None
        result: dict[str, Any] | None = self._header_metadata
        return result

    @property
    def extras(self) -> dict[str, Any] | None:
        """The trailer's extra metadata ({} when it has none); None when it does not
        decode, or there is no trailer."""
        if self._extras is _UNREAD:
            try:
                self._extras = read_extras(self.extras_raw) if self.trailer else None
            except PayloadError:
                self._extras = None
        result: dict[str, Any] | None = self._extras
        return result

    @property
    def metadata(self) -> dict[str, Any] | None:
        """The header's metadata with the trailer's extras merged over it."""
        header = self.header_metadata
        if header is None:
            return None
        merged = dict(header)
        if self.extras:
            merged.update(self.extras)
        return merged

    def spans(self) -> list[tuple[int, int]]:
        spans = [(p.start, p.end) for p in self.pieces]
        if self.trailer is not None:
            spans.append((self.trailer.start, self.trailer.end))
        return spans


def locate(text: str) -> Located | None:
    """This text's payload (see the module docstring), or None when there is none."""
    found = scan(text)
    if not found.complete:
        return Located([], None, complete=False)
    pieces: list[HeaderPiece] = []
    trailers: list[Trailer] = []
    for raw in found.frames:
        frame = classify(text, raw)
        if isinstance(frame, HeaderPiece):
            pieces.append(frame)
        elif isinstance(frame, Trailer):
            trailers.append(frame)
    if not pieces and not trailers:
        damaged = len(found.frames)
        return Located([], None, damaged=damaged) if damaged else None
    trailer: Trailer | None = None
    after = 0
    line_break = ""
    last = trailers[-1] if trailers else None
    if last is not None and (last.end == len(text) or text[last.end :] in LINE_BREAKS):
        trailer = last
        line_break = text[last.end :]
        after = len(line_break)
        ref = trailer.ref
    else:
        closed = {t.ref for t in trailers}
        unclosed = [p.ref for p in pieces if p.ref not in closed]
        if unclosed:
            ref = unclosed[-1]
        else:  # every header has its trailer, so there is one: the last, text after it
            assert last is not None
            trailer = last
            ref = trailer.ref
            after = len(text) - trailer.end
    limit = trailer.start if trailer is not None else len(text)
    mine = [p for p in pieces if p.ref == ref and p.end <= limit]
    located = Located(mine, trailer, after_trailer=after, line_break=line_break)
    _read_header(text, located)
    if trailer is not None:
        _read_trailer(text, located, trailer)
    return located


def _read_header(text: str, located: Located) -> None:
    pieces = located.pieces
    if not pieces:
        return
    count = pieces[0].count
    if len(pieces) != count or any(p.index != i or p.count != count for i, p in enumerate(pieces)):
        return
    if sum(p.data_length for p in pieces) > MAX_HEADER_DATA:
        return  # more than any header we write: not worth decoding
    frames = [p.frame.raw(text) for p in pieces]
    data = b"".join(
        raw[p.frame.body_start - p.start + PIECE_PREFIX :]
        for p, raw in zip(pieces, frames, strict=True)
    )
    try:
        header = HeaderFields.parse(data)
    except PayloadError:
        return
    if header.ref == pieces[0].ref:
        located.header = header
        located.piece_frames = frames


def _read_trailer(text: str, located: Located, trailer: Trailer) -> None:
    parts = trailer_bytes(text, trailer)
    located.extras_raw, located.tag, located.trailer_prefix = (
        parts.extras_raw,
        parts.tag,
        parts.prefix,
    )


def remove_spans(text: str, spans: list[tuple[int, int]]) -> tuple[str, list[int]]:
    """``text`` without ``spans`` (sorted), and where each span sat in the result."""
    parts: list[str] = []
    offsets: list[int] = []
    last = 0
    kept = 0
    for start, end in spans:
        parts.append(text[last:start])
        kept += start - last
        offsets.append(kept)
        last = end
    parts.append(text[last:])
    return "".join(parts), offsets
