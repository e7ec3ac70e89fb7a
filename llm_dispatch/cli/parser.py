"""The ``llm-dispatch`` command: its parser and :func:`main`.

The subcommands are defined next to this module (:mod:`.embedding`: ``verify``, ``strip``;
:mod:`.stream`: ``stream``, ``demo``; :mod:`.config_check`: ``config check``); ``fake-server`` is
defined here.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any, NoReturn

from .config_check import add_subcommands as add_config_subcommands
from .embedding import add_subcommands as add_embedding_subcommands
from .stream import add_subcommands as add_stream_subcommands

__all__ = ["build_parser", "main"]


def _run_fake_server(args: argparse.Namespace) -> int:
    from ..testing.__main__ import main as serve

    argv = ["--port", str(args.port)]
    if args.chunks is not None:
        argv += ["--chunks", str(args.chunks)]
    return serve(argv)


class _Parser(argparse.ArgumentParser):
    """Usage errors as one line (``llm-dispatch stream: error: ...``), exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{value} is not a port number (0-65535)")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="llm-dispatch", description="Streaming LLM dispatcher tools.")
    subparsers: Any = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", parser_class=_Parser
    )
    add_embedding_subcommands(subparsers)
    add_stream_subcommands(subparsers)
    add_config_subcommands(subparsers)

    p = subparsers.add_parser(
        "fake-server", help="run the fake OpenAI / Anthropic / Gemini server on 127.0.0.1"
    )
    p.add_argument("--port", type=_port, default=0, help="port (0: any free port)")
    p.add_argument("--chunks", type=int, default=None, help="answer every request with N chunks")
    p.set_defaults(func=_run_fake_server)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))
