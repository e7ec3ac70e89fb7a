"""The ``llm-dispatch`` command.

llm-dispatch verify [FILE|-]     check the signed provenance in a text (exit 0 only if valid)
llm-dispatch strip [FILE|-]      remove the invisible payload
llm-dispatch fake-server         run the fake provider server on 127.0.0.1
llm-dispatch stream "PROMPT"     stream one prompt to stdout (--progress: a bar on stderr)
llm-dispatch demo                stream through the three providers (fake ones without keys)
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

__all__ = ["build_parser", "main"]


def _run_fake_server(args: argparse.Namespace) -> int:
    from .testing.__main__ import main as serve

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

    from .embedding.cli import add_subcommands
    from .streaming.cli import add_subcommands as add_streaming_subcommands

    add_subcommands(subparsers)
    add_streaming_subcommands(subparsers)

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


if __name__ == "__main__":
    sys.exit(main())
