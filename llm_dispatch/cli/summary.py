"""The one-line summary ``llm-dispatch stream`` writes to stderr after a completed stream.

    summary: openai/gpt-4o-mini, 1 attempt, first chunk 212 ms, 38 tokens at 95 tok/s,
             $0.000023, not from the cache

(one line). Every figure is read from the finished :class:`~llm_dispatch.result.
DispatchStream`: the provider and model that answered, the attempts in its ledger, and its
progress snapshot's time to first chunk and rate (completion tokens per second since the
first chunk: the figures the progress bar shows). The cost appears when the configuration
prices the model; ``~`` marks a token count the provider did not report (estimated from the
text). rich styles the line when stderr is a terminal.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TextIO

from .terminal import is_terminal, rich_console

if TYPE_CHECKING:
    from ..result import DispatchStream

__all__ = ["StreamFigures", "write_summary"]


@dataclass(frozen=True, slots=True)
class StreamFigures:
    """What the summary says about one stream."""

    provider: str
    model: str
    attempts: int
    first_chunk_ms: float | None
    tokens: int
    tokens_estimated: bool
    tokens_per_second: float | None
    cost_usd: float | None
    cached: bool

    @classmethod
    def of(cls, stream: DispatchStream[Any]) -> StreamFigures:
        snapshot = stream.progress
        usage = stream.usage
        return cls(
            provider=stream.provider,
            model=stream.model,
            attempts=len(stream.attempts),
            first_chunk_ms=snapshot.time_to_first_token_ms if snapshot is not None else None,
            tokens=snapshot.tokens if snapshot is not None else stream.context.tokens,
            tokens_estimated=usage is None or usage.estimated,
            tokens_per_second=snapshot.tokens_per_second if snapshot is not None else None,
            cost_usd=stream.cost_usd,
            cached=stream.context.cached,
        )

    def parts(self) -> list[str]:
        """The summary's pieces, in order: target, attempts, first chunk, rate, cost, cache."""
        first = f"{self.first_chunk_ms:.0f} ms" if self.first_chunk_ms is not None else "-"
        rate = f"{self.tokens_per_second:.0f}" if self.tokens_per_second is not None else "-"
        approx = "~" if self.tokens_estimated else ""
        return [
            f"{self.provider}/{self.model}",
            f"{self.attempts} attempt{'' if self.attempts == 1 else 's'}",
            f"first chunk {first}",
            f"{approx}{self.tokens} tokens at {rate} tok/s",
            f"${self.cost_usd:.6f}" if self.cost_usd is not None else "cost unknown",
            "from the cache" if self.cached else "not from the cache",
        ]

    def line(self) -> str:
        return "summary: " + ", ".join(self.parts())


def write_summary(stream: DispatchStream[Any], err: TextIO) -> None:
    """Write ``stream``'s summary line to ``err`` (styled by rich when it is a terminal)."""
    figures = StreamFigures.of(stream)
    if not is_terminal(err):
        err.write(figures.line() + "\n")
        err.flush()
        return
    from rich.text import Text

    text = Text("summary: ", style="dim")
    parts = figures.parts()
    for i, part in enumerate(parts):
        if i:
            text.append(", ", style="dim")
        style = "bold" if i == 0 else ""
        if i == len(parts) - 1 and figures.cached:
            style = "green"
        text.append(part, style=style)
    rich_console(err).print(text, soft_wrap=True)  # one line, however narrow the terminal
