"""Judging a text: verification, extraction, stripping.

Which frames are the text's own payload is :mod:`.locate`'s business; this module turns
what it found into a verdict (:class:`VerifyStatus`) with a message that says what was
found and, where it can, what to do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from .locate import Located, locate, remove_spans
from .payload import classify
from .scanner import candidate_budget, scan
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


@dataclass(frozen=True, slots=True, repr=False)
class VerificationResult:
    """What :func:`verify` found. ``metadata`` can be trusted only when ``valid``.

    The verdict is reached from the payload's bytes alone; ``metadata`` and ``extras`` are
    decoded when first read (already, for a valid result), so that judging a text never
    costs the decoding of metadata nobody looks at — a forged payload's included.
    """

    status: VerifyStatus
    message: str
    signed: bool = False
    key_id: str | None = None
    #: Where the header frame(s) and the trailer sit in the text (``text[start:end]``).
    header_spans: tuple[tuple[int, int], ...] = ()
    trailer_span: tuple[int, int] | None = None
    #: Index in the stripped text after which the header sits.
    header_offset: int | None = None
    #: Whether one line break after the trailer was left out of the check (it is not part
    #: of the signed text; see ``verify``).
    ignored_line_break: bool = False
    #: The payload found (its metadata decoded on demand).
    _payload: Located | None = field(default=None, compare=False)

    @property
    def metadata(self) -> dict[str, Any] | None:
        """The metadata, the trailer's extras merged over the header's; None when there
        is none or it does not decode. Unverified unless :attr:`valid`."""
        return self._payload.metadata if self._payload is not None else None

    @property
    def extras(self) -> dict[str, Any]:
        """What the trailer carried (``{}`` when nothing, or when it does not decode)."""
        extras = self._payload.extras if self._payload is not None else None
        return dict(extras) if extras else {}

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
            "ignored_line_break": self.ignored_line_break,
        }

    def __repr__(self) -> str:
        return (
            f"VerificationResult(status={self.status.value!r}, message={self.message!r}, "
            f"metadata={self.metadata!r}, key_id={self.key_id!r}, "
            f"header_offset={self.header_offset!r})"
        )


def extract(text: str) -> dict[str, Any] | None:
    """The embedded metadata (header merged with trailer extras), unverified."""
    found = locate(text)
    return found.metadata if found is not None else None


def strip(text: str, *, all_payloads: bool = False) -> str:
    """``text`` without this text's payload (or, with ``all_payloads``, without every frame
    of ours, quoted ones included). Selectors that were in the text stay, and so does a
    text the scanner gave up on (see :mod:`.scanner`): nothing is removed from it."""
    if all_payloads:
        found = scan(text)
        if not found.complete:
            return text
        spans = [(f.start, f.end) for f in found.frames if classify(text, f) is not None]
    else:
        located = locate(text)
        spans = located.spans() if located is not None else []
    return remove_spans(text, sorted(spans))[0]


def verify(text: str, key: KeyLike | None, *, ignore_line_break: bool = True) -> VerificationResult:
    """Judge ``text`` against ``key`` (``None``: no key at hand, signed texts then report
    ``wrong_key``).

    One line break (``\n`` or ``\r\n``) after the trailer, as files and ``echo`` add, is
    not part of the signed text: with ``ignore_line_break`` (the default) it is left out
    of the check and the result says so (``ignored_line_break``); without it, it counts as
    text added after the signed end. Anything else after the trailer always does.
    """
    found = locate(text)
    if found is None:
        return VerificationResult(VerifyStatus.NO_METADATA, "no embedded metadata found")
    if not found.complete:
        return VerificationResult(
            VerifyStatus.TAMPERED,
            f"the text holds more than {candidate_budget(len(text))} selector sequences that "
            "look like the start of a payload frame (the most a text of its length is "
            "examined for): it was crafted or damaged, and was not checked further",
        )
    return _judge(text, found, key, ignore_line_break)


def _judge(
    text: str, found: Located, key: KeyLike | None, ignore_line_break: bool
) -> VerificationResult:
    header, trailer = found.header, found.trailer
    if not found.pieces and trailer is None:
        return VerificationResult(
            VerifyStatus.TAMPERED,
            f"the text holds {found.damaged} frame(s) of a payload, damaged: neither a "
            "header nor a trailer can be read (the payload was edited)",
        )
    spans: dict[str, Any] = {
        "header_spans": tuple((p.start, p.end) for p in found.pieces),
        "trailer_span": (trailer.start, trailer.end) if trailer else None,
        "_payload": found,
    }
    if trailer is None:
        what = "a header" if header is not None else "part of a header"
        return VerificationResult(
            VerifyStatus.TRUNCATED,
            f"the text has {what} but no trailer: the stream's end was never marked, or "
            f"the text was cut short. If you produced it, {END_HINT}.",
            signed=bool(header and header.signed),
            key_id=header.key_id.hex() if header else None,
            **spans,
        )
    if header is None:
        return VerificationResult(
            VerifyStatus.TAMPERED,
            "the trailer's header is missing or damaged (removed, edited, or the trailer "
            "was copied from another text)",
            signed=trailer.signed,
            **spans,
        )
    visible, offsets = remove_spans(text, sorted(found.spans()))
    ignored = bool(found.line_break) and ignore_line_break
    if ignored:
        visible = visible[: -len(found.line_break)]
    common: dict[str, Any] = {
        "signed": header.signed,
        "key_id": header.key_id.hex() if header.signed else None,
        "header_offset": offsets[0],
        "ignored_line_break": ignored,
        **spans,
    }
    note = " (one line break after the trailer was ignored)" if ignored else ""
    if found.after_trailer and not ignored:
        return VerificationResult(
            VerifyStatus.TAMPERED,
            f"{found.after_trailer} character(s) follow the signature trailer: text was "
            "added after the signed end",
            **common,
        )
    if header.signed != trailer.signed:
        return VerificationResult(
            VerifyStatus.TAMPERED, "header and trailer disagree on signing" + note, **common
        )
    if not header.signed:
        return VerificationResult(
            VerifyStatus.UNSIGNED,
            "metadata is present but unsigned: its integrity cannot be checked" + note,
            **common,
        )
    if key is None:
        return VerificationResult(
            VerifyStatus.WRONG_KEY,
            f"no key given; the text is signed with key id {header.key_id.hex()} "
            "(pass a key, or set LLM_DISPATCH_HMAC_KEY)" + note,
            **common,
        )
    key_bytes = key_to_bytes(key)
    if key_id(key_bytes) != header.key_id:
        return VerificationResult(
            VerifyStatus.WRONG_KEY,
            f"signed with another key (key id {header.key_id.hex()}; the key given has id "
            f"{key_id(key_bytes).hex()})" + note,
            **common,
        )
    mac = text_mac(key_bytes)
    mac.update(visible.encode("utf-8", "surrogatepass"))
    # The header pieces sit at offsets[:-1]; the last offset is the trailer's (the end).
    pieces = list(zip(offsets[:-1], found.piece_frames, strict=True))
    expected = compute_tag(key_bytes, pieces, mac.digest(), found.trailer_prefix)
    if not tags_equal(expected, found.tag):
        return VerificationResult(
            VerifyStatus.TAMPERED,
            "the signature does not match: the text, its metadata or where the payload sits "
            "changed after signing" + note,
            **common,
        )
    # Signed by the key holder: now the metadata is worth decoding (and must decode).
    if found.metadata is None or found.extras is None:
        return VerificationResult(
            VerifyStatus.TAMPERED,
            "the signature matches but the signed metadata does not decode (it was not "
            "written by this library)" + note,
            **common,
        )
    return VerificationResult(
        VerifyStatus.VALID, "signature valid: the text is unchanged" + note, **common
    )
