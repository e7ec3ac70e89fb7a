"""``llm-dispatch stream`` and ``llm-dispatch demo``.

    llm-dispatch stream "prompt" [--provider P] [--model M] [--task-type T] [--config FILE]
                                 [--system S] [--max-tokens N] [--json] [--metadata]
                                 [--progress] [--fake] [-v]
    llm-dispatch demo [--fake] [-v]

``stream`` writes the answer to stdout (one JSON chunk dict per line with ``--metadata``)
and, with ``--progress``, a progress bar to stderr. ``--json`` is JSON mode: the provider is
asked for one JSON object and an answer that is not JSON fails the stream. A completed
stream ends with one summary line on stderr (:mod:`.summary`). Errors go to stderr as one
line, with exit status 1; a closed stdout (``| head -1``) ends it quietly with status 141.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from typing import Any

from ..task_types import TaskType
from .summary import write_summary
from .terminal import BROKEN_PIPE_STATUS, stdout_closed

__all__ = ["BROKEN_PIPE_STATUS", "add_subcommands", "positive_int"]


def positive_int(text: str) -> int:
    """An argparse type: an integer of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


async def _stream(args: argparse.Namespace) -> int:
    from ..client import Client
    from ..client_options import JSON_MODE_OPTIONS
    from ..dispatcher import Dispatcher
    from ..errors import LLMDispatchError
    from ..progress.bar import ProgressBar
    from ..progress.tracker import ProgressTracker
    from ..result import DispatchStream

    tracker = ProgressTracker() if args.progress else None
    dispatcher: Dispatcher | None = None
    stream: DispatchStream[Any] | None = None
    try:
        dispatcher = Dispatcher(args.config, fake=True if args.fake else None)
        client = Client(dispatcher=dispatcher)
        stream = client.open(
            args.prompt,
            provider=args.provider,
            model=args.model,
            task_type=args.task_type,
            system=args.system,
            max_tokens=args.max_tokens,
            metadata=args.metadata,
            progress_tracker=tracker,
            streaming_options=JSON_MODE_OPTIONS if args.json else None,
        )
        out = sys.stdout
        if tracker is not None:
            async with ProgressBar(tracker):
                await _write(stream, out, metadata=args.metadata)
        else:
            await _write(stream, out, metadata=args.metadata)
        if not args.metadata:
            out.write("\n")
            out.flush()
        write_summary(stream, sys.stderr)
        return 0
    except (LLMDispatchError, ValueError, TypeError) as exc:
        # Bad input or a failed stream: one line, no traceback. After partial output, the
        # message starts on a line of its own.
        partial = stream is not None and bool(stream.get_text())
        print(f"{chr(10) if partial else ''}error: {exc}", file=sys.stderr)
        return 1
    finally:
        if dispatcher is not None:
            await dispatcher.aclose()


async def _write(stream: Any, out: Any, *, metadata: bool) -> None:
    async for item in stream:
        out.write(json.dumps(item) + "\n" if metadata else item)
        out.flush()


def _run_stream(args: argparse.Namespace) -> int:
    from ..log import log_to_stderr

    log_to_stderr(logging.INFO if args.verbose else logging.WARNING)
    try:
        return asyncio.run(_stream(args))
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`| head -1`): stop quietly, as a process ended by SIGPIPE
        # would.
        return stdout_closed()


def _run_demo(args: argparse.Namespace) -> int:
    from ..demo import run_demo
    from ..log import log_to_stderr

    log_to_stderr(logging.INFO if args.verbose else logging.WARNING)
    try:
        return asyncio.run(run_demo(fake=args.fake))
    except KeyboardInterrupt:
        return 130


def add_subcommands(subparsers: Any) -> None:
    """Add ``stream`` and ``demo`` to the ``llm-dispatch`` parser."""
    p = subparsers.add_parser(
        "stream", help="stream one prompt through the configured providers to stdout"
    )
    p.add_argument("prompt", help="the prompt")
    p.add_argument("--provider", help="only this configured provider (default: the route)")
    p.add_argument("--model", help="this model (on the provider that has it)")
    p.add_argument(
        "--task-type",
        default=TaskType.TEXT_GENERATION.value,
        choices=[t.value for t in TaskType],
        help="route by this task type (default: text_generation)",
    )
    p.add_argument(
        "--config",
        help="configuration file (default: $LLM_DISPATCH_CONFIG, ./config/dispatch.yaml, "
        "built-in defaults)",
    )
    p.add_argument("--system", help="system prompt")
    p.add_argument("--max-tokens", type=positive_int, help="completion token limit (≥ 1)")
    p.add_argument(
        "--json",
        action="store_true",
        help="JSON mode: ask for one JSON object (response_format json_object); an answer "
        "that is not JSON is an error",
    )
    p.add_argument(
        "--metadata", action="store_true", help="print one JSON chunk dict per line instead"
    )
    p.add_argument("--progress", action="store_true", help="show a progress bar on stderr")
    _add_fake_flag(p)
    p.add_argument("-v", "--verbose", action="store_true", help="log requests to stderr")
    p.set_defaults(func=_run_stream)

    p = subparsers.add_parser(
        "demo",
        help="stream through OpenAI, Anthropic and Gemini (the fake server for those "
        "without an API key)",
    )
    _add_fake_flag(p)
    p.add_argument("-v", "--verbose", action="store_true", help="log requests to stderr")
    p.set_defaults(func=_run_demo)


def _add_fake_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--fake",
        action="store_true",
        help="serve every provider from the built-in fake provider server on 127.0.0.1 "
        "(as LLM_DISPATCH_FAKE=1 does)",
    )
