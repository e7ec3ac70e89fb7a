"""What the SDK providers share when they send a message's content parts.

Each provider maps :mod:`~llm_dispatch.content` parts to its own form (see the provider
modules); this module holds the pieces they have in common: whether parts are text only
(sent as a plain string), base64 and data URIs, where a media part's content is (its bytes
or its URL), and the error for a part a provider cannot send, which names the part's
``source``.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from typing import TYPE_CHECKING

from ..content import AudioPart, DocumentPart, ImagePart, Part, TextPart
from ..errors import BadRequestError
from .options import request_error

if TYPE_CHECKING:
    from .base import ProviderSettings

__all__ = [
    "MediaPart",
    "base64_text",
    "data_uri",
    "media_content",
    "part_error",
    "text_only",
]

MediaPart = ImagePart | AudioPart | DocumentPart


def text_only(parts: Iterable[Part]) -> bool:
    """Whether ``parts`` are all text (a message of text parts is sent as one string, its
    :func:`~llm_dispatch.content.text_of`)."""
    return all(isinstance(p, TextPart) for p in parts)


def base64_text(data: bytes) -> str:
    """``data`` in standard base64, as the APIs take inline bytes."""
    return base64.b64encode(data).decode("ascii")


def data_uri(mime_type: str, data: bytes) -> str:
    """``data:<mime_type>;base64,<data>``."""
    return f"data:{mime_type};base64,{base64_text(data)}"


def part_error(
    settings: ProviderSettings, model: str, part: MediaPart, why: str
) -> BadRequestError:
    """The error for ``part``, which this provider cannot send: ``why`` says what it lacks."""
    source = f" from {part.source!r}" if part.source else ""
    return request_error(settings, model, f"cannot send the {part.type} part{source}: {why}")


def media_content(settings: ProviderSettings, model: str, part: MediaPart) -> bytes | str:
    """What ``part`` carries: its bytes, else its URL (a part with neither is refused)."""
    if part.data is not None:
        return part.data
    if part.url is not None:
        return part.url
    raise part_error(settings, model, part, "it has neither bytes nor a URL")
