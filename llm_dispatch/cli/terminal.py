"""How the commands write to a terminal or a pipe.

Output meant for a person uses rich when the stream it goes to is a terminal, and plain
text when it is piped or redirected, so that ``grep``, ``awk`` and files get no escape
codes. rich is imported only when a terminal asks for it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["BROKEN_PIPE_STATUS", "aligned_lines", "is_terminal", "rich_console", "stdout_closed"]

#: Exit status when stdout's reader closed the pipe: 128 + SIGPIPE, what shells report.
BROKEN_PIPE_STATUS = 141


def stdout_closed() -> int:
    """After a :class:`BrokenPipeError` on stdout (``| head -1`` went away): point stdout at
    ``/dev/null``, so the interpreter's final flush cannot fail, and return
    :data:`BROKEN_PIPE_STATUS` to end quietly, as a process ended by SIGPIPE would."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return BROKEN_PIPE_STATUS


def is_terminal(stream: TextIO) -> bool:
    """Whether ``stream`` is an interactive terminal (False for a closed or odd stream)."""
    isatty = getattr(stream, "isatty", None)
    if isatty is None:
        return False
    try:
        return bool(isatty())
    except (ValueError, OSError):
        return False


def rich_console(stream: TextIO) -> Console:
    """A rich console writing to ``stream`` (it honours ``NO_COLOR`` and ``TERM=dumb``)."""
    from rich.console import Console

    return Console(file=stream, highlight=False)


def aligned_lines(rows: Sequence[Sequence[str]], *, gap: str = "  ") -> list[str]:
    """``rows`` as lines whose columns line up: every column but the last padded to its
    widest cell (the last is left as it is, so no line ends in spaces)."""
    if not rows:
        return []
    columns = max(len(row) for row in rows)
    widths = [max((len(row[i]) for row in rows if i < len(row)), default=0) for i in range(columns)]
    lines = []
    for row in rows:
        cells = [cell.ljust(widths[i]) for i, cell in enumerate(row[:-1])]
        lines.append(gap.join([*cells, row[-1]]).rstrip() if row else "")
    return lines
