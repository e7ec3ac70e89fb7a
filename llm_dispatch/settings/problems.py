"""One problem found by a configuration validator, with the key path it belongs to.

A validator that checks several keys at once (a route naming an unknown provider, a price
for an unlisted model) raises :class:`~llm_dispatch.errors.ConfigProblems` with one
:class:`ConfigProblem` per finding; pydantic wraps it in a ``value_error`` whose
``ctx["error"]`` is that instance, and the loader joins the error's location with each
problem's ``loc`` to point at the right line.
"""

from __future__ import annotations

from dataclasses import dataclass

from .paths import format_path

__all__ = ["ConfigProblem"]


@dataclass(frozen=True, slots=True)
class ConfigProblem:
    """One finding of a cross-section check; ``loc`` is relative to the model that found it."""

    loc: tuple[str | int, ...]
    message: str

    def describe(self) -> str:
        """``key.path: message``, or only the message when ``loc`` is empty."""
        return f"{format_path(self.loc)}: {self.message}" if self.loc else self.message
