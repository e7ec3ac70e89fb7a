"""Learned completion lengths: running estimates, per route and per task type, of how long
answers are and of how many characters a token has.

A stream's progress starts from them (:meth:`StreamProgress.begin
<llm_dispatch.progress.gauge.StreamProgress.begin>`), and the progress stage adds every
completed answer to them.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CompletionLengths", "default_lengths"]


@dataclass(slots=True)
class _Average:
    count: int = 0
    value: float = 0.0

    def add(self, sample: float, floor: float) -> None:
        # A plain mean for the first samples, then an exponential average so the estimate
        # follows an application whose answers change over time.
        self.count += 1
        weight = max(1.0 / self.count, floor)
        self.value += (sample - self.value) * weight


class CompletionLengths:
    """Running estimates, per route and per task type, of completion length and of
    characters per token. Shared by every stream that uses it (process-wide by default:
    :func:`default_lengths`)."""

    def __init__(self, *, smoothing: float = 0.2) -> None:
        if not 0.0 < smoothing <= 1.0:
            raise ValueError("smoothing must be in (0, 1]")
        self.smoothing = smoothing
        self._tokens: dict[str, _Average] = {}
        self._chars_per_token: dict[str, _Average] = {}

    def expected_tokens(self, route: str, task_type: str) -> int | None:
        """The learned completion length for ``route``, else for ``task_type``, else None."""
        for key in (route, task_type):
            average = self._tokens.get(key)
            if average is not None and average.count:
                return max(1, round(average.value))
        return None

    def chars_per_token(self, route: str, task_type: str) -> float | None:
        for key in (route, task_type):
            average = self._chars_per_token.get(key)
            if average is not None and average.count:
                return average.value
        return None

    def observe(self, route: str, task_type: str, *, tokens: int, chars: int, exact: bool) -> None:
        """Learn from one completed answer (``exact``: ``tokens`` is the provider's count)."""
        if tokens <= 0:
            return
        for key in (route, task_type):
            self._tokens.setdefault(key, _Average()).add(tokens, self.smoothing)
            if exact and chars > 0:
                ratio = min(max(chars / tokens, 1.0), 10.0)
                self._chars_per_token.setdefault(key, _Average()).add(ratio, self.smoothing)

    def reset(self) -> None:
        """Forget everything learned."""
        self._tokens.clear()
        self._chars_per_token.clear()


_DEFAULT_LENGTHS = CompletionLengths()


def default_lengths() -> CompletionLengths:
    """The process-wide estimates every progress stage uses unless given its own."""
    return _DEFAULT_LENGTHS
