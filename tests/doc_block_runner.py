"""Runs documentation blocks as scripts, each in a process of its own, paying for the imports once.

    python tests/doc_block_runner.py WORKERS < jobs.jsonl

Each line of stdin is a job: ``{"id", "script", "cwd", "env", "out", "err", "timeout"}``.
Once stdin is at its end, this process imports what every block imports (the package, its
SDKs, the fake server), then forks one child per job, at most WORKERS at a time. A child
is a fresh copy of this process that has run nothing of the package yet: it moves to the
job's directory and environment, points stdin at /dev/null and stdout / stderr at the
job's files, and runs the script as ``__main__`` (``runpy.run_path``), exiting as
``python SCRIPT`` would: 0, the code of a ``SystemExit``, or 1 with a traceback for an
uncaught exception. A child still running after ``timeout`` seconds is killed (SIGALRM).
Each finished job is one line on stdout: ``{"id", "returncode"}``.

This process starts no thread before it forks, so the children are safe copies of it.
"""

from __future__ import annotations

import importlib
import json
import os
import runpy
import signal
import sys
from typing import Any

#: What every block would import again: the package, its provider modules and their SDKs.
PRELOAD = (
    "openai",
    "anthropic",
    "google.genai",
    "llm_dispatch",
    "llm_dispatch.cache",
    "llm_dispatch.embedding",
    "llm_dispatch.providers.anthropic",
    "llm_dispatch.providers.google",
    "llm_dispatch.providers.openai",
    "llm_dispatch.streaming",
    "llm_dispatch.testing",
)


def _child(job: dict[str, Any]) -> None:
    """Runs in the forked child; never returns."""
    os.chdir(job["cwd"])
    os.environ.clear()
    os.environ.update(job["env"])
    for fd, path, flags in (
        (0, os.devnull, os.O_RDONLY),
        (1, job["out"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC),
        (2, job["err"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC),
    ):
        opened = os.open(path, flags, 0o600)
        os.dup2(opened, fd)
        os.close(opened)
    sys.argv = [job["script"]]
    sys.path[0] = os.path.dirname(os.path.abspath(job["script"]))
    signal.alarm(int(job["timeout"]))
    runpy.run_path(job["script"], run_name="__main__")
    sys.exit(0)  # an exception above propagates: a traceback and status 1, as for a script


def main() -> None:
    workers = int(sys.argv[1])
    jobs = [json.loads(line) for line in sys.stdin if line.strip()]
    for name in PRELOAD:
        importlib.import_module(name)
    running: dict[int, str] = {}
    pending = list(reversed(jobs))
    while pending or running:
        while pending and len(running) < workers:
            job = pending.pop()
            sys.stdout.flush()
            sys.stderr.flush()
            pid = os.fork()
            if pid == 0:
                _child(job)
            running[pid] = job["id"]
        pid, status = os.wait()
        done = running.pop(pid)
        print(json.dumps({"id": done, "returncode": os.waitstatus_to_exitcode(status)}))
        sys.stdout.flush()


if __name__ == "__main__":
    main()
