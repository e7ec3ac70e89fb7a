"""Key paths and name suggestions for configuration messages.

A key path is how a reader finds a value in the YAML file: ``defaults.retry.max_retries``,
``routes.code_generation[1]``, ``providers.openai.prices["gpt-4.1"].input``.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence

__all__ = ["did_you_mean", "format_path"]

_PLAIN_KEY = re.compile(r"^[A-Za-z0-9_\-]+$")


def format_path(parts: Sequence[str | int]) -> str:
    """Render ``("routes", "code_generation", 1)`` as ``routes.code_generation[1]``."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _PLAIN_KEY.match(part):
            out += f".{part}" if out else part
        else:
            # Model names such as "gpt-4.1" contain dots: quote them so the path stays readable.
            out += f'["{part}"]'
    return out


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """``" (did you mean 'x'?)"`` for the closest candidate, or ``""`` when none is close."""
    matches = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return f" (did you mean {matches[0]!r}?)" if matches else ""
