"""Turning what a caller passes as an image, audio or a document into a content part.

Accepted, for each argument:

- ``bytes`` (or ``bytearray`` / ``memoryview``);
- a path (``pathlib.Path``, any ``os.PathLike``, or a ``str`` naming a file that exists);
- a ``data:<mime>;base64,...`` URI, or a bare base64 ``str``;
- for images and documents, an ``http(s)://`` URL, which the provider fetches itself;
- a part already built (:class:`~llm_dispatch.content.ImagePart` ...).

The MIME type is read from the bytes (PNG, JPEG, GIF, WebP; WAV, MP3, OGG, FLAC, M4A,
WebM; PDF) and, when the caller also gives one (a data URI's, or ``mime_type=``), the two
must agree. Anything else is a :class:`~llm_dispatch.errors.RequestBindingError` that names
the argument (``images[1]``) and says what was wrong; a part over :data:`MAX_PART_BYTES` is
refused here, and each provider's own limits are checked by routing before anything is sent.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from pathlib import Path
from typing import Any, Literal, TypeVar

from .content import AudioPart, DocumentPart, ImagePart
from .errors import RequestBindingError

__all__ = [
    "MAX_PART_BYTES",
    "audio_part",
    "document_part",
    "encode_audio",
    "encode_image",
    "image_part",
    "sniff_mime",
]

#: No provider takes a single part larger than this; bigger ones are refused at once.
MAX_PART_BYTES = 64 * 1024 * 1024

Family = Literal["image", "audio", "document"]
_MediaT = TypeVar("_MediaT", ImagePart, AudioPart, DocumentPart)

_DATA_URI = re.compile(
    r"data:(?P<mime>[\w.+-]+/[\w.+-]+)(?P<params>(;[\w-]+=[^;,]*)*);base64,", re.I
)
# Spellings of the same type that callers and files use.
_ALIASES = {
    "image/jpg": "image/jpeg",
    "audio/x-wav": "audio/wav",
    "audio/wave": "audio/wav",
    "audio/mp3": "audio/mpeg",
    "audio/x-flac": "audio/flac",
    "audio/x-m4a": "audio/mp4",
    "audio/m4a": "audio/mp4",
}
_SUPPORTED: dict[Family, tuple[str, ...]] = {
    "image": ("image/png", "image/jpeg", "image/gif", "image/webp"),
    "audio": ("audio/wav", "audio/mpeg", "audio/ogg", "audio/flac", "audio/mp4", "audio/webm"),
    "document": ("application/pdf",),
}
_NAMES: dict[Family, str] = {
    "image": "PNG, JPEG, GIF or WebP",
    "audio": "WAV, MP3, OGG, FLAC, M4A or WebM",
    "document": "PDF",
}


def sniff_mime(data: bytes) -> str | None:
    """The MIME type the bytes' signature shows, or None for a format not listed above."""
    head = data[:16]
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith(b"RIFF") and head[8:12] == b"WAVE":
        return "audio/wav"
    if head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return "audio/mpeg"
    if head.startswith(b"OggS"):
        return "audio/ogg"
    if head.startswith(b"fLaC"):
        return "audio/flac"
    if head[4:8] == b"ftyp" and head[8:11] in (b"M4A", b"mp4", b"iso", b"M4B"):
        return "audio/mp4"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "audio/webm"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    return None


def image_part(value: Any, source: str, *, mime_type: str | None = None) -> ImagePart:
    """An :class:`ImagePart` from ``value`` (see the module docstring)."""
    return _part(ImagePart, "image", value, source, mime_type)


def audio_part(value: Any, source: str, *, mime_type: str | None = None) -> AudioPart:
    """An :class:`AudioPart` from ``value``; audio is always sent inline (no URLs)."""
    return _part(AudioPart, "audio", value, source, mime_type)


def document_part(value: Any, source: str, *, mime_type: str | None = None) -> DocumentPart:
    """A :class:`DocumentPart` (PDF) from ``value``; a path gives the document its name."""
    part = _part(DocumentPart, "document", value, source, mime_type)
    if part.name is None and isinstance(value, str | os.PathLike) and _is_file(value):
        part = part.model_copy(update={"name": Path(value).name})
    return part


def encode_image(path: str | os.PathLike[str]) -> str:
    """The file at ``path`` as a data URI (``data:image/png;base64,...``), checked to be an
    image: a value any ``images`` argument takes."""
    return _data_uri(image_part(path, str(path)))


def encode_audio(path: str | os.PathLike[str]) -> str:
    """The file at ``path`` as a data URI, checked to be audio: a value ``audio`` takes."""
    return _data_uri(audio_part(path, str(path)))


# -- reading ------------------------------------------------------------------------------


def _part(
    kind: type[_MediaT], family: Family, value: Any, source: str, mime_type: str | None
) -> _MediaT:
    if isinstance(value, kind):
        return value if value.source else value.model_copy(update={"source": source})
    given = _normal(mime_type) if mime_type else None
    if isinstance(value, str) and value.startswith(("http://", "https://")):
        if family == "audio":
            raise _error(source, "audio is sent inline: pass bytes, a path or base64, not a URL")
        if any(c.isspace() or ord(c) < 32 for c in value):
            raise _error(source, "the URL holds whitespace or control characters")
        return kind(mime_type=given or _guess_from_url(value, family), url=value, source=source)
    data, stated = _read(value, source, family)
    given = given or stated
    return kind(mime_type=_check(data, given, source, family), data=data, source=source)


def _read(value: Any, source: str, family: Family) -> tuple[bytes, str | None]:
    """The bytes ``value`` stands for, and the MIME type it states (a data URI's)."""
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value), None
    if isinstance(value, os.PathLike):
        return _read_file(Path(value), source), None
    if not isinstance(value, str):
        raise _error(
            source,
            f"got {type(value).__name__}; pass bytes, a path, a data URI or base64"
            + (", or an http(s) URL" if family != "audio" else ""),
        )
    match = _DATA_URI.match(value)
    if match is not None:
        return _decode(value[match.end() :], source), _normal(match["mime"])
    if _is_file(value):
        return _read_file(Path(value), source), None
    try:
        return _decode(value, source), None
    except RequestBindingError:
        shown = value if len(value) <= 60 else value[:57] + "..."
        raise _error(
            source,
            f"{shown!r} is not a file that exists, a data URI, base64"
            + (" or an http(s) URL" if family != "audio" else ""),
        ) from None


def _is_file(value: str | os.PathLike[str]) -> bool:
    try:
        return len(os.fspath(value)) < 4096 and Path(value).is_file()
    except (OSError, ValueError):
        return False


def _read_file(path: Path, source: str) -> bytes:
    try:
        size = path.stat().st_size
        if size > MAX_PART_BYTES:
            raise _error(
                source, f"{path} is {_mb(size)}; no provider takes more than {_mb(MAX_PART_BYTES)}"
            )
        return path.read_bytes()
    except OSError as exc:
        raise _error(source, f"cannot read {path}: {exc.strerror or exc}") from None


def _decode(text: str, source: str) -> bytes:
    compact = "".join(text.split())
    if len(compact) > MAX_PART_BYTES * 4 // 3 + 4:
        raise _error(source, f"the base64 text is over {_mb(MAX_PART_BYTES)} once decoded")
    try:
        return base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        raise _error(source, "the text is not valid base64") from None


def _check(data: bytes, given: str | None, source: str, family: Family) -> str:
    """The part's MIME type: what the bytes show, agreeing with what was stated."""
    if not data:
        raise _error(source, f"the {family} is empty")
    if len(data) > MAX_PART_BYTES:
        raise _error(
            source, f"{_mb(len(data))} is more than any provider takes ({_mb(MAX_PART_BYTES)})"
        )
    found = sniff_mime(data)
    if found is None or found not in _SUPPORTED[family]:
        what = f"{found} data" if found else "an unknown format"
        raise _error(source, f"this is {what}, not {_article(family)} ({_NAMES[family]})")
    if given is not None and given != found:
        raise _error(source, f"the {family} was given as {given} but its bytes are {found}")
    return found


def _guess_from_url(url: str, family: Family) -> str:
    suffix = Path(url.split("?", 1)[0].split("#", 1)[0]).suffix.lower().lstrip(".")
    by_suffix = {"png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg",
                 "gif": "image/gif", "webp": "image/webp", "pdf": "application/pdf"}  # fmt: skip
    guess = by_suffix.get(suffix)
    if guess is not None and guess in _SUPPORTED[family]:
        return guess
    return _SUPPORTED[family][0] if family == "document" else "image/jpeg"


def _data_uri(part: ImagePart | AudioPart) -> str:
    assert part.data is not None
    return f"data:{part.mime_type};base64,{base64.b64encode(part.data).decode('ascii')}"


def _normal(mime: str) -> str:
    lowered = mime.strip().lower()
    return _ALIASES.get(lowered, lowered)


def _article(family: Family) -> str:
    return {"image": "an image", "audio": "audio", "document": "a document"}[family]


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


def _error(source: str, message: str) -> RequestBindingError:
    return RequestBindingError(f"{source}: {message}")
