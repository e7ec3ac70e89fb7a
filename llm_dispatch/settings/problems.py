"""Problems found by model validators, each with the key path it belongs to.

A validator that checks several keys at once (a route naming an unknown provider, a price
for an unlisted model) raises :class:`ConfigProblems`; pydantic wraps it in a
``value_error`` whose ``ctx["error"]`` is that instance, and the loader joins the error's
location with each problem's ``loc`` to point at the right line.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .paths import format_path

__all__ = ["ConfigProblem", "ConfigProblems"]


@dataclass(frozen=True, slots=True)
class ConfigProblem:
    """One finding of a cross-section check; ``loc`` is relative to the model that found it."""

    loc: tuple[str | int, ...]
    message: str


class ConfigProblems(ValueError):
    """Raised by model validators so the loader can report each problem at its own key path.

    pydantic wraps it in a ``value_error`` whose ``ctx["error"]`` is this instance; the loader
    joins the error's location with each problem's ``loc``.
    """

    def __init__(self, problems: Sequence[ConfigProblem]) -> None:
        self.problems = list(problems)
        super().__init__(
            "; ".join(
                f"{format_path(p.loc)}: {p.message}" if p.loc else p.message for p in self.problems
            )
        )
