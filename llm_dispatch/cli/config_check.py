"""``llm-dispatch config check [FILE]``: validate the configuration and show its routing.

    llm-dispatch config check [FILE] [--fake]

The configuration is FILE, else what the library loads by default
(:func:`~llm_dispatch.settings.loader.default_config_path`: ``$LLM_DISPATCH_CONFIG``, then
``./config/dispatch.yaml``, then the built-in defaults). It is loaded into a
:class:`~llm_dispatch.dispatcher.Dispatcher`, exactly as ``llm-dispatch stream`` would load
it, and the table is read from that dispatcher's router: for every task type, the route that
serves it, its strategy and its targets in order, each enabled or not with the router's own
reason (``enabled: false``, no API key ...). The table therefore says what routing does.
What depends on a request (the media a model takes, an open circuit) is decided per request
and is not part of it.

The table goes to stdout: a rich table on a terminal, aligned plain text otherwise. Exit
status 0 when the configuration loads and every task type has an enabled target; 1 when it
does not load (the library's message, with file, line and key path, on stderr) or when a
task type has no enabled target (named on stderr). No key, header value or URL is printed.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TextIO

from ..task_types import TaskType
from .terminal import aligned_lines, is_terminal, rich_console, stdout_closed

if TYPE_CHECKING:
    from ..dispatcher import Dispatcher

__all__ = ["TargetRow", "add_subcommands", "check_command", "routing_rows"]

#: Why a task type has no target at all (the router's words when it plans such a request).
NO_ROUTE = "no route for this task type and no 'default' route"

_OFFLINE = "offline: every SDK provider is served by the fake provider server"
_HEADINGS = ("task type", "route", "strategy", "#", "provider", "model", "enabled", "note")


@dataclass(frozen=True, slots=True)
class TargetRow:
    """One line of the table: a target of the route serving ``task_type``, or (``position``
    0, no provider) the absence of any route."""

    task_type: str
    route: str
    strategy: str
    position: int
    provider: str
    model: str
    enabled: bool
    #: Why the target is not enabled (the router's reason); for an enabled one, a caveat
    #: or "".
    reason: str

    def cells(self) -> tuple[str, ...]:
        return (
            self.task_type,
            self.route,
            self.strategy,
            str(self.position) if self.position else "-",
            self.provider or "-",
            self.model or "-",
            "yes" if self.enabled else "no",
            self.reason,
        )


def routing_rows(dispatcher: Dispatcher) -> list[TargetRow]:
    """The table of ``dispatcher``'s configuration: every task type, in the order of
    :class:`TaskType`, with the targets of its route as its router resolves them."""
    from ..providers.registry import PROVIDER_KINDS

    config, router = dispatcher.config, dispatcher.router
    rows: list[TargetRow] = []
    for task in TaskType:
        found = config.route_for(task.value)
        if found is None:
            rows.append(TargetRow(task.value, "-", "-", 0, "", "", False, NO_ROUTE))
            continue
        key, route = found
        for position, entry in enumerate(route.targets, start=1):
            target = router.target(entry.provider, entry.model, entry.weight, entry.options)
            reason = router.disabled_reason(target.provider)
            note = ""
            if reason is None and target.kind not in PROVIDER_KINDS:
                note = "the decorated body: only decorated functions can use it"
            rows.append(
                TargetRow(
                    task.value,
                    key,
                    route.strategy,
                    position,
                    target.provider,
                    target.model,
                    reason is None,
                    reason or note,
                )
            )
    return rows


def unroutable(rows: Sequence[TargetRow]) -> list[str]:
    """The task types none of whose targets is enabled, in table order."""
    tasks = list(dict.fromkeys(row.task_type for row in rows))
    return [t for t in tasks if not any(r.enabled for r in rows if r.task_type == t)]


# -- output -------------------------------------------------------------------------------


def _write_plain(out: TextIO, source: str, rows: Sequence[TargetRow], fake: bool) -> None:
    lines = [f"configuration: {source}"]
    if fake:
        lines.append(_OFFLINE)
    lines.append("")
    lines += aligned_lines([_HEADINGS, *(row.cells() for row in rows)])
    out.write("\n".join(lines) + "\n")
    out.flush()


def _write_rich(out: TextIO, source: str, rows: Sequence[TargetRow], fake: bool) -> None:
    """One table per route, titled with the task types it serves: the per-task-type rows of
    the plain output would repeat the ``default`` route a dozen times on a screen."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    console = rich_console(out)
    console.print(Text(f"configuration: {source}", style="bold"))
    if fake:
        console.print(Text(_OFFLINE, style="yellow"))
    served: dict[str, list[str]] = {}
    for row in rows:
        if row.position:
            served.setdefault(row.route, [])
            if row.task_type not in served[row.route]:
                served[row.route].append(row.task_type)
    for route, tasks in served.items():
        targets = [r for r in rows if r.task_type == tasks[0]]
        noun = "task type" if len(tasks) == 1 else "task types"
        title = Text.assemble(
            ("route ", "dim"),
            (route, "bold"),
            (f" ({targets[0].strategy}), {noun}: ", "dim"),
            ", ".join(tasks),
        )
        table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
        for heading in _HEADINGS[3:]:
            table.add_column(heading, overflow="fold")
        for row in targets:
            cells: list[Any] = [Text(cell) for cell in row.cells()[3:]]
            cells[3] = Text("yes", style="green") if row.enabled else Text("no", style="bold red")
            table.add_row(*cells)
        console.print()
        console.print(table)
    unrouted = [row.task_type for row in rows if not row.position]
    if unrouted:
        console.print()
        console.print(Text(f"{NO_ROUTE}: {', '.join(unrouted)}", style="bold red"))


def _source_label(file: str | None) -> tuple[str | None, str]:
    """The source to load (None: the built-in defaults) and how the table names it."""
    from ..settings.loader import CONFIG_ENV_VAR, DEFAULT_CONFIG_PATH, default_config_path

    if file is not None:
        return file, file
    path = default_config_path()
    if path is None:
        return None, "built-in defaults (no $LLM_DISPATCH_CONFIG, no ./config/dispatch.yaml)"
    if path == DEFAULT_CONFIG_PATH:
        return str(path), str(path)
    return str(path), f"{path} (${CONFIG_ENV_VAR})"


# -- the command --------------------------------------------------------------------------


def check_command(file: str | None = None, *, fake: bool | None = None) -> int:
    """Load the configuration, print its routing table, return the exit status."""
    from ..dispatcher import Dispatcher
    from ..errors import LLMDispatchError

    try:
        source, label = _source_label(file)
        dispatcher = Dispatcher(source, fake=fake)
    except (LLMDispatchError, ValueError, TypeError) as exc:
        # The library's message names the file, line and key path; never the values.
        print(f"error: {exc}", file=sys.stderr)
        return 1
    try:
        rows = routing_rows(dispatcher)
    except (LLMDispatchError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        asyncio.run(dispatcher.aclose())
    out = sys.stdout
    write = _write_rich if is_terminal(out) else _write_plain
    try:
        write(out, label, rows, dispatcher.fake)
    except BrokenPipeError:
        return stdout_closed()  # `| head -1`: end quietly, as after SIGPIPE
    missing = unroutable(rows)
    if missing:
        every = len(missing) == len(TaskType)
        which = "any task type" if every else f"task type(s) {', '.join(missing)}"
        print(
            f"error: no enabled target for {which}: "
            f"{'every request' if every else 'a request of those types'} would fail "
            "(see the table)",
            file=sys.stderr,
        )
        return 1
    return 0


def _run_check(args: argparse.Namespace) -> int:
    from ..log import log_to_stderr

    log_to_stderr(logging.WARNING)
    return check_command(args.file, fake=True if args.fake else None)


def add_subcommands(subparsers: Any) -> None:
    """Add ``config`` (with its ``check`` subcommand) to the ``llm-dispatch`` parser."""
    config = subparsers.add_parser("config", help="check the configuration")
    commands: Any = config.add_subparsers(
        dest="config_command", required=True, metavar="COMMAND", parser_class=type(config)
    )
    p = commands.add_parser(
        "check",
        help="validate the configuration and print the routing table of every task type",
        description="Validate the configuration and print, for every task type, the route's "
        "strategy and its targets, each enabled or not and why. Exit status 0 when the "
        "configuration is valid and every task type has an enabled target, else 1.",
    )
    p.add_argument(
        "file",
        nargs="?",
        default=None,
        help="configuration file (default: $LLM_DISPATCH_CONFIG, ./config/dispatch.yaml, "
        "built-in defaults)",
    )
    p.add_argument(
        "--fake",
        action="store_true",
        help="check as 'stream --fake' would run (as LLM_DISPATCH_FAKE=1 does): providers "
        "of the SDK kinds are served by the fake provider server and need no API key",
    )
    p.set_defaults(func=_run_check)
