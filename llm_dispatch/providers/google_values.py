"""What google-genai's models make of two kinds of Gemini wire values, for reading a chunk's
JSON object as the SDK would read it (``parser: fast``):

- an enum (a finish reason, a block reason, a harm category): the value of the SDK's own
  enum class for it, which matches names in any case (``"stop"`` is ``STOP``) and keeps an
  unknown value as it is (with the SDK's warning);
- a thought signature: the standard base64 text of the bytes the SDK decodes, which is
  what :func:`.google_tools.signature_text` makes of the SDK's bytes. The SDK takes the
  standard or the URL-safe alphabet (not both at once), with or without its ``=``
  padding, and refuses anything else, including unused bits that are not zero.
"""

from __future__ import annotations

import base64
import re
from typing import Any

__all__ = ["UnreadableAnswer", "enum_value", "wire_signature"]

_STANDARD = re.compile(r"[A-Za-z0-9+/]*")
_URL_SAFE = re.compile(r"[A-Za-z0-9_-]*")
_TO_STANDARD = str.maketrans("-_", "+/")


class UnreadableAnswer(ValueError):
    """A chunk holds something no answer can (a function call without a name, a value of
    the wrong kind)."""


def enum_value(enum: type[Any], raw: object, what: str) -> str:
    """The value of ``enum`` (a google-genai enum class) the SDK reads ``raw`` as."""
    if not isinstance(raw, str):
        raise UnreadableAnswer(f"{what} is not a string: {type(raw).__name__}")
    return str(enum(raw).value)


def wire_signature(raw: object) -> str | None:
    """A ``thoughtSignature`` as standard base64 text (None: none, or an empty one)."""
    if raw is None or raw == "":
        return None
    if not isinstance(raw, str):
        raise UnreadableAnswer(f"a thought signature is not a string: {type(raw).__name__}")
    body = raw.rstrip("=")
    padding = len(raw) - len(body)
    shaped = _STANDARD.fullmatch(body) or _URL_SAFE.fullmatch(body)
    if not shaped or len(body) % 4 == 1 or padding > -len(body) % 4:
        raise UnreadableAnswer("a thought signature is not base64 text")
    standard = body.translate(_TO_STANDARD)
    text = base64.b64encode(base64.b64decode(standard + "=" * (-len(body) % 4))).decode("ascii")
    if text.rstrip("=") != standard:
        raise UnreadableAnswer("a thought signature is not base64 text")
    return text if text else None
