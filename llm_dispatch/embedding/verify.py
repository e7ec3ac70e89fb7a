"""Finding this text's payload, and judging it: extraction, verification, stripping.

Which frames are *this text's* payload:

1. If the text ends with a trailer, that trailer and the header pieces with the same ref
   before it.
2. Otherwise, the last header whose trailer is nowhere in the text (an unfinished stream:
   ``truncated``).
3. Otherwise the last trailer, with text after it (something was appended: ``tampered``).

Every other frame — a payload quoted from an older signed text — is part of the text like
any other character: it is covered by this text's signature and kept by :func:`strip`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from .codec import scan_frames
from .compact import PayloadError
from .payload import HeaderData, HeaderPiece, Trailer, parse_frame
from .signing import KeyLike, compute_tag, key_id, key_to_bytes, tags_equal, text_mac

__all__ = [
    "VerificationResult",
    "VerifyStatus",
    "extract",
    "locate",
    "strip",
    "verify",
]

END_HINT = (
    "mark the end of the stream: pass the last chunk with process_chunk(chunk, "
    "is_final=True), or append the 'tail' of the dict handler.finalize() returns"
)


class VerifyStatus(StrEnum):
    """The verdict on a text."""

    #: Signed with the given key, and nothing changed since.
    VALID = "valid"
    #: A payload is there but text, payload or layout changed after signing.
    TAMPERED = "tampered"
    #: A header without its trailer: the end was never marked, or the text was cut short.
    TRUNCATED = "truncated"
    #: Metadata is there but was written without a signature.
    UNSIGNED = "unsigned"
    #: No payload of ours in the text.
    NO_METADATA = "no_metadata"
    #: Signed, but with another key than the one given (or no key was given).
    WRONG_KEY = "wrong_key"


@dataclass(frozen=True, slots=True)
class VerificationResult:
    """What :func:`verify` found. ``metadata`` can be trusted only when ``valid``."""

    status: VerifyStatus
    message: str
    metadata: dict[str, Any] | None = None
    signed: bool = False
    key_id: str | None = None
    #: Where the header frame(s) and the trailer sit in the text (``text[start:end]``).
    header_spans: tuple[tuple[int, int], ...] = ()
    trailer_span: tuple[int, int] | None = None
    #: Index in the stripped text after which the header sits.
    header_offset: int | None = None
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def valid(self) -> bool:
        return self.status is VerifyStatus.VALID

    def __bool__(self) -> bool:
        return self.valid

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view (for the CLI's ``--json``)."""
        return {
            "status": self.status.value,
            "valid": self.valid,
            "message": self.message,
            "metadata": self.metadata,
            "signed": self.signed,
            "key_id": self.key_id,
            "header_spans": [list(s) for s in self.header_spans],
            "trailer_span": list(self.trailer_span) if self.trailer_span else None,
            "header_offset": self.header_offset,
        }


@dataclass(slots=True)
class Located:
    """This text's payload: its frames, and the header once reassembled."""

    pieces: list[HeaderPiece]
    trailer: Trailer | None
    header: HeaderData | None
    #: Characters after the trailer (> 0 only when the trailer does not end the text).
    after_trailer: int = 0

    @property
    def metadata(self) -> dict[str, Any] | None:
        if self.header is None:
            return None
        merged = dict(self.header.metadata)
        if self.trailer is not None and self.trailer.ref == self.header.ref:
            merged.update(self.trailer.extras)
        return merged

    def spans(self) -> list[tuple[int, int]]:
        spans = [(p.start, p.end) for p in self.pieces]
        if self.trailer is not None:
            spans.append((self.trailer.start, self.trailer.end))
        return spans


def _reassemble(pieces: list[HeaderPiece]) -> HeaderData | None:
    if not pieces:
        return None
    count = pieces[0].count
    if len(pieces) != count or any(p.index != i or p.count != count for i, p in enumerate(pieces)):
        return None
    try:
        header = HeaderData.parse(b"".join(p.data for p in pieces))
    except PayloadError:
        return None
    return header if header.ref == pieces[0].ref else None


def locate(text: str) -> Located | None:
    """This text's payload (see the module docstring), or None when there is none."""
    pieces: list[HeaderPiece] = []
    trailers: list[Trailer] = []
    for raw in scan_frames(text):
        frame = parse_frame(raw)
        if isinstance(frame, HeaderPiece):
            pieces.append(frame)
        elif isinstance(frame, Trailer):
            trailers.append(frame)
    if not pieces and not trailers:
        return None
    trailer: Trailer | None = None
    after = 0
    if trailers and trailers[-1].end == len(text):
        trailer = trailers[-1]
        ref = trailer.ref
    else:
        closed = {t.ref for t in trailers}
        unclosed = [p.ref for p in pieces if p.ref not in closed]
        if unclosed:
            ref = unclosed[-1]
        else:
            trailer = trailers[-1]
            ref = trailer.ref
            after = len(text) - trailer.end
    limit = trailer.start if trailer is not None else len(text)
    mine = [p for p in pieces if p.ref == ref and p.end <= limit]
    return Located(mine, trailer, _reassemble(mine), after)


def extract(text: str) -> dict[str, Any] | None:
    """The embedded metadata (header merged with trailer extras), unverified."""
    found = locate(text)
    return found.metadata if found is not None else None


def strip(text: str, *, all_payloads: bool = False) -> str:
    """``text`` without this text's payload (or, with ``all_payloads``, without every frame
    of ours, quoted ones included). Selectors that were in the text stay."""
    if all_payloads:
        spans = [(f.start, f.end) for f in scan_frames(text) if parse_frame(f) is not None]
    else:
        found = locate(text)
        spans = found.spans() if found is not None else []
    return _remove(text, sorted(spans))[0]


def _remove(text: str, spans: list[tuple[int, int]]) -> tuple[str, list[int]]:
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


def verify(text: str, key: KeyLike | None) -> VerificationResult:
    """Judge ``text`` against ``key`` (``None``: no key at hand, signed texts then report
    ``wrong_key``)."""
    found = locate(text)
    if found is None:
        return VerificationResult(VerifyStatus.NO_METADATA, "no embedded metadata found")
    header, trailer = found.header, found.trailer
    spans = {
        "header_spans": tuple((p.start, p.end) for p in found.pieces),
        "trailer_span": (trailer.start, trailer.end) if trailer else None,
    }
    metadata = found.metadata
    if trailer is None:
        what = "a header" if header is not None else "part of a header"
        return VerificationResult(
            VerifyStatus.TRUNCATED,
            f"the text has {what} but no trailer: the stream's end was never marked, or "
            f"the text was cut short. If you produced it, {END_HINT}.",
            metadata,
            signed=bool(header and header.signed),
            key_id=header.key_id.hex() if header else None,
            **spans,  # type: ignore[arg-type]
        )
    if header is None:
        return VerificationResult(
            VerifyStatus.TAMPERED,
            "the trailer's header is missing or damaged (removed, edited, or the trailer "
            "was copied from another text)",
            None,
            signed=trailer.signed,
            **spans,  # type: ignore[arg-type]
        )
    visible, offsets = _remove(text, sorted(found.spans()))
    common: dict[str, Any] = {
        "signed": header.signed,
        "key_id": header.key_id.hex() if header.signed else None,
        "header_offset": offsets[0],
        "extras": dict(trailer.extras),
        **spans,
    }
    if found.after_trailer:
        return VerificationResult(
            VerifyStatus.TAMPERED,
            f"{found.after_trailer} character(s) follow the signature trailer: text was "
            "added after the signed end",
            metadata,
            **common,
        )
    if header.signed != trailer.signed:
        return VerificationResult(
            VerifyStatus.TAMPERED, "header and trailer disagree on signing", metadata, **common
        )
    if not header.signed:
        return VerificationResult(
            VerifyStatus.UNSIGNED,
            "metadata is present but unsigned: its integrity cannot be checked",
            metadata,
            **common,
        )
    if key is None:
        return VerificationResult(
            VerifyStatus.WRONG_KEY,
            f"no key given; the text is signed with key id {header.key_id.hex()} "
            "(pass a key, or set LLM_DISPATCH_HMAC_KEY)",
            metadata,
            **common,
        )
    key_bytes = key_to_bytes(key)
    if key_id(key_bytes) != header.key_id:
        return VerificationResult(
            VerifyStatus.WRONG_KEY,
            f"signed with another key (key id {header.key_id.hex()}; the key given has id "
            f"{key_id(key_bytes).hex()})",
            metadata,
            **common,
        )
    mac = text_mac(key_bytes)
    mac.update(visible.encode("utf-8", "surrogatepass"))
    # The header pieces sit at offsets[:-1]; the last offset is the trailer's (the end).
    expected = compute_tag(key_bytes, header.raw, offsets[:-1], mac.digest(), trailer.extras_raw)
    if not tags_equal(expected, trailer.tag):
        return VerificationResult(
            VerifyStatus.TAMPERED,
            "the signature does not match: the text, its metadata or where the payload sits "
            "changed after signing",
            metadata,
            **common,
        )
    return VerificationResult(
        VerifyStatus.VALID, "signature valid: the text is unchanged", metadata, **common
    )
