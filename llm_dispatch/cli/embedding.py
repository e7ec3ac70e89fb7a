"""``llm-dispatch verify`` and ``llm-dispatch strip``.

The main CLI registers these with :func:`add_subcommands` and then runs
``args.func(args)``, which returns the exit code. Standalone:
``python -m llm_dispatch.embedding.cli verify answer.txt``.

Exit codes: ``verify`` 0 only when the signature is valid, 1 for any other verdict, 2 when
the input cannot be read; ``strip`` 0 (1 with ``--check`` when nothing was removed), 2 when
the input cannot be read.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from typing import Any

from ..embedding.scanner import scan
from ..embedding.signing import ENV_KEY
from ..embedding.verify import strip, verify

__all__ = ["add_subcommands", "main", "strip_command", "verify_command"]


def _read(path: str) -> str | None:
    """The text of ``path`` (``-``: stdin) exactly as stored, or None after an error."""
    try:
        if path == "-":
            data = sys.stdin.buffer.read()
        else:
            with open(path, "rb") as f:
                data = f.read()
    except OSError as exc:
        print(f"error: cannot read {path}: {exc.strerror or exc}", file=sys.stderr)
        return None
    try:
        # Bytes, not text mode: the signature covers every character, CR LF included.
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        print(
            f"error: {path} is not UTF-8 text ({exc.reason} at byte {exc.start})", file=sys.stderr
        )
        return None


def _write(text: str) -> None:
    """Write ``text`` as UTF-8 whatever the terminal's encoding (selectors included)."""
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is None:
        sys.stdout.write(text)
        return
    sys.stdout.flush()
    buffer.write(text.encode("utf-8", "surrogatepass"))
    buffer.flush()


def verify_command(path: str, key: str | None = None, *, as_json: bool = False) -> int:
    """Print the metadata and verdict for FILE (``-``: stdin); 0 only when valid.

    ``key`` defaults to ``$LLM_DISPATCH_HMAC_KEY``. One line break after the trailer (an
    editor's or ``echo``'s) is not part of the signed text: it is left out of the check,
    whatever the verdict, and the output says so.
    """
    text = _read(path)
    if text is None:
        return 2
    if key is None:
        key = os.environ.get(ENV_KEY) or None
    result = verify(text, key)
    note = "one line break after the signature was ignored" if result.ignored_line_break else ""
    if as_json:
        data: dict[str, Any] = result.to_dict()
        data["note"] = note or None
        _write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")
    else:
        lines = [f"status: {result.status.value}", f"message: {result.message}"]
        if note:
            lines.append(f"note: {note}")
        if result.key_id:
            lines.append(f"key id: {result.key_id}")
        if result.header_offset is not None:
            lines.append(f"header after character {result.header_offset}")
        if result.metadata is not None:
            caveat = "" if result.valid else " (unverified: do not trust it)"
            lines.append(f"metadata{caveat}:")
            lines.append(json.dumps(result.metadata, ensure_ascii=False, indent=2, default=str))
        _write("\n".join(lines) + "\n")
    return 0 if result.valid else 1


def strip_command(path: str, *, all_payloads: bool = False, check: bool = False) -> int:
    """Write FILE (``-``: stdin) without its payload to stdout."""
    text = _read(path)
    if text is None:
        return 2
    stripped = strip(text, all_payloads=all_payloads)
    _write(stripped)
    if stripped == text:
        if scan(text).complete:
            print("note: no embedded metadata found; text unchanged", file=sys.stderr)
        else:
            print(
                "note: the text is full of selector sequences that look like payload frames "
                "(crafted or damaged); it was not read, and nothing was removed",
                file=sys.stderr,
            )
        return 1 if check else 0
    return 0


def _run_verify(args: argparse.Namespace) -> int:
    return verify_command(args.file, args.key, as_json=args.json)


def _run_strip(args: argparse.Namespace) -> int:
    return strip_command(args.file, all_payloads=args.all, check=args.check)


def add_subcommands(subparsers: Any) -> None:
    """Register ``verify`` and ``strip`` on an ``argparse`` subparsers object; each sets
    ``func`` so that the caller runs ``args.func(args)`` and exits with its result."""
    p = subparsers.add_parser(
        "verify",
        help="show the embedded metadata and check its signature (exit 0 only when valid)",
        description=verify_command.__doc__,
    )
    p.add_argument("file", nargs="?", default="-", help="the text to check; '-' for stdin")
    p.add_argument(
        "--key",
        default=None,
        help=f"the HMAC key (default: ${ENV_KEY}; prefer the variable, arguments are "
        "visible to other users of the machine)",
    )
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(func=_run_verify)

    p = subparsers.add_parser(
        "strip",
        help="remove the embedded metadata, printing the original text",
        description=strip_command.__doc__,
    )
    p.add_argument("file", nargs="?", default="-", help="the text; '-' for stdin")
    p.add_argument(
        "--all", action="store_true", help="also remove payloads quoted from other texts"
    )
    p.add_argument(
        "--check", action="store_true", help="exit 1 when there was no payload to remove"
    )
    p.set_defaults(func=_run_strip)


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``verify``/``strip`` on their own (``python -m llm_dispatch.embedding.cli``)."""
    parser = argparse.ArgumentParser(
        prog="python -m llm_dispatch.embedding.cli",
        description="Check or remove signed metadata embedded by llm_dispatch.",
    )
    add_subcommands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.func(args))
