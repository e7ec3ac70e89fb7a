"""Every fenced code block of README.md and docs/**/*.md runs in a test, or says why not.

Which blocks run, and how:

- ``python`` / ``py`` / ``python3`` / ``py3``: run as a script (``python BLOCK.py``) in a
  subprocess, offline (``LLM_DISPATCH_FAKE=1``, no provider keys or endpoints in the
  environment, no other ``LLM_DISPATCH_*`` variable), from a fresh working directory outside
  the repository that holds ``cat.jpg`` (a small JPEG) and ``talk.mp3`` (one MP3 frame),
  with ``PYTHONPATH`` set to the repository root. It must exit 0 within :data:`TIMEOUT`
  seconds with no traceback on stderr. A block is a script as it stands: a top-level
  ``await`` or ``async for`` is a syntax error, as it would be for a reader who runs it.
- ``bash`` / ``sh`` / ``shell`` / ``console``: run only when marked ``<!-- run -->``, with
  ``bash -euo pipefail`` and the same environment (``llm-dispatch`` is on ``PATH``); a
  ``console`` block runs its ``$ `` lines.
- ``yaml`` / ``yml``: loaded with ``llm_dispatch.settings.loader.load_config`` only when
  marked ``<!-- config -->``: a complete configuration file, which must load.
- Anything else (``text``, ``json``, no language ...) is not run, and must be marked.

Markers are HTML comments (invisible in rendered Markdown and in mkdocs) on the lines right
above the opening fence, at its indentation, one per line (``<!-- fmt: off -->`` may sit
among them: it is ruff's, which formats the Python blocks of Markdown files):

- ``<!-- not-runnable: REASON -->``: the block is not run; the reason is required.
- ``<!-- continues -->`` (Python): the block runs after the page's previous Python block
  that runs (and whatever that one continues), joined into one script, so it may use their
  definitions.
- ``<!-- run -->`` (shell) and ``<!-- config -->`` (YAML): see above.
- ``<!-- env: NAME=value -->``: sets a variable for this block (a sample that reads one).
- ``<!-- expect: TEXT -->``: the block's stdout must contain TEXT (repeatable).

An unknown marker, a marker without its value, or a block that is neither run nor marked
fails. Test ids name the file and line of the opening fence (``docs/streaming.md:40``).

Cost: a fresh interpreter that imports the package and its SDKs costs ~2 s of CPU, which
~30 blocks would pay each. So the Python blocks are run by ``doc_block_runner.py``: one
process imports all that once, then forks a fresh copy of itself per block (at most
:data:`WORKERS` at a time), which runs the block as ``__main__`` exactly as ``python
BLOCK.py`` would, sharing no state with the others. It starts with the module's first
test, and each test waits for its own block; shell blocks run alongside, one at a time.
Measured on a shared two-core machine (load 4-6 from other work): the Python blocks ~22 s,
the whole module 30-55 s; one interpreter per block took ~3 minutes there.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from tempfile import mkdtemp

import pytest
from conftest import PROVIDER_ENV_VARS
from media_samples import jpeg, mp3

from llm_dispatch.settings.loader import load_config

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 90
WORKERS = 3

PYTHON = ("python", "py", "python3", "py3")
SHELL = ("bash", "sh", "shell", "console")
YAML = ("yaml", "yml")
MARKERS = ("not-runnable", "continues", "run", "config", "env", "expect")
_VALUED = ("not-runnable", "env", "expect")

_FENCE = re.compile(r"^(?P<indent> *)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
_MARKER = re.compile(r"^<!--\s*(?P<name>[\w-]+)\s*(?::(?P<value>.*?))?\s*-->$")


@dataclass
class Block:
    """One fenced block: where it starts, its language, its text and its markers."""

    path: str  # relative to the repository root
    line: int  # 1-based line of the opening fence
    lang: str
    text: str
    markers: dict[str, list[str]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    parts: list[Block] = field(default_factory=list)  # the blocks it continues, then itself

    @property
    def id(self) -> str:
        return f"{self.path}:{self.line}"

    @property
    def skip_reason(self) -> str | None:
        reasons = self.markers.get("not-runnable")
        return reasons[0] if reasons else None

    @property
    def how(self) -> str:
        """``python``, ``shell``, ``config`` or ``skip``."""
        if self.skip_reason is not None:
            return "skip"
        if self.lang in PYTHON:
            return "python"
        if self.lang in SHELL and "run" in self.markers:
            return "shell"
        if self.lang in YAML and "config" in self.markers:
            return "config"
        return "unmarked"


def doc_files() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def parse(path: Path, name: str | None = None) -> list[Block]:
    """The fenced blocks of one Markdown file, with their markers (``name``: the file's
    name in test ids; default: its path from the repository root)."""
    rel = name or path.relative_to(ROOT).as_posix()
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        opening = _FENCE.match(lines[i])
        if not opening:
            i += 1
            continue
        indent, fence = len(opening["indent"]), opening["fence"]
        info = opening["info"].strip()
        lang = info.split()[0].strip("{}.").lower() if info else ""
        body: list[str] = []
        j = i + 1
        closing = re.compile(rf"^ *{re.escape(fence[0])}{{{len(fence)},}}\s*$")
        while j < len(lines) and not closing.match(lines[j]):
            line = lines[j]
            body.append(line[min(indent, len(line) - len(line.lstrip(" "))) :])
            j += 1
        block = Block(rel, i + 1, lang, "\n".join(body) + "\n")
        if j == len(lines):
            block.problems.append("the fence is never closed")
        _read_markers(block, lines, i)
        blocks.append(block)
        i = j + 1
    _join_continuations(blocks)
    return blocks


def _read_markers(block: Block, lines: list[str], fence_index: int) -> None:
    k = fence_index - 1
    while k >= 0 and lines[k].strip().startswith("<!--"):
        comment = lines[k].strip()
        found = _MARKER.match(comment)
        if re.fullmatch(r"<!--\s*fmt:\s*(off|on)\s*-->", comment):
            k -= 1  # ruff's switch for formatting the block: not ours
            continue
        name = found["name"] if found else None
        value = (found["value"] or "").strip() if found and found["value"] is not None else None
        if name not in MARKERS:
            block.problems.append(
                f"line {k + 1}: {comment!r} is not a marker; expected one of "
                + ", ".join(f"<!-- {m} -->" for m in MARKERS)
            )
        elif name in _VALUED and not value:
            block.problems.append(f"line {k + 1}: <!-- {name}: ... --> needs a value after ':'")
        elif name not in _VALUED and value is not None:
            block.problems.append(f"line {k + 1}: <!-- {name} --> takes no value")
        else:
            block.markers.setdefault(name, []).insert(0, value or "")
        k -= 1
    if block.skip_reason is not None and len(block.markers) > 1:
        block.problems.append("a not-runnable block takes no other marker")
    if "run" in block.markers and block.lang not in SHELL:
        block.problems.append(
            f"<!-- run --> is for shell blocks, not {block.lang or 'no language'}"
        )
    if "config" in block.markers and block.lang not in YAML:
        block.problems.append(f"<!-- config --> is for yaml blocks, not {block.lang or 'none'}")
    if "continues" in block.markers and block.lang not in PYTHON:
        block.problems.append("<!-- continues --> is for Python blocks")
    for assignment in block.markers.get("env", []):
        if not re.fullmatch(r"[A-Za-z_]\w*=.*", assignment):
            block.problems.append(f"<!-- env: {assignment} --> is not NAME=value")


def _join_continuations(blocks: list[Block]) -> None:
    previous: Block | None = None
    for block in blocks:
        if block.how != "python":
            continue
        if "continues" in block.markers:
            if previous is None:
                block.problems.append("<!-- continues --> but no Python block runs before it")
            else:
                block.parts = [*previous.parts, block]
        else:
            block.parts = [block]
        previous = block


ALL_BLOCKS = [block for path in doc_files() for block in parse(path)]


def test_blocks_are_found() -> None:
    """The parser sees the README's sample, so an empty parametrisation cannot pass."""
    assert any(b.path == "README.md" and b.lang == "python" for b in ALL_BLOCKS)


# -- running ------------------------------------------------------------------------------


@dataclass
class Outcome:
    returncode: int
    stdout: str
    stderr: str
    script: str


def _environment(block: Block) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in PROVIDER_ENV_VARS and not k.startswith("LLM_DISPATCH")
    }
    env["LLM_DISPATCH_FAKE"] = "1"
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    for part in block.parts or [block]:
        for assignment in part.markers.get("env", []):
            name, _, value = assignment.partition("=")
            env[name] = value
    return env


def _workdir() -> Path:
    cwd = Path(mkdtemp(prefix="doc-block-"))
    (cwd / "cat.jpg").write_bytes(jpeg())
    (cwd / "talk.mp3").write_bytes(mp3())
    return cwd


def _script(block: Block) -> str:
    if block.how == "python":
        return "".join(f"# --- {part.id}\n{part.text}" for part in block.parts)
    if block.lang == "console":
        return "".join(line[2:] + "\n" for line in block.text.splitlines() if line[:2] == "$ ")
    return block.text


def _run_shell(block: Block) -> Outcome:
    cwd = _workdir()
    script = _script(block)
    try:
        done = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script],
            cwd=cwd,
            env=_environment(block),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
        )
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else exc.stdout or ""
        return Outcome(-1, out, f"timed out after {TIMEOUT} s", script)
    finally:
        shutil.rmtree(cwd, ignore_errors=True)
    return Outcome(done.returncode, done.stdout, done.stderr, script)


class PythonBlocks:
    """The Python blocks, run by ``doc_block_runner.py``: one process that imports the
    package and its SDKs once, then forks a fresh copy of itself per block."""

    def __init__(self, blocks: list[Block]) -> None:
        self.futures: dict[str, Future[Outcome]] = {}
        self.jobs: dict[str, tuple[Block, Path, str]] = {}
        lines = []
        for block in blocks:
            cwd = _workdir()
            script = _script(block)
            name = re.sub(r"\W", "_", block.id) + ".py"
            (cwd / name).write_text(script, encoding="utf-8")
            job = {
                "id": block.id,
                "script": str(cwd / name),
                "cwd": str(cwd),
                "env": _environment(block),
                "out": str(cwd / "stdout.txt"),
                "err": str(cwd / "stderr.txt"),
                "timeout": TIMEOUT,
            }
            lines.append(json.dumps(job) + "\n")
            self.jobs[block.id] = (block, cwd, script)
            self.futures[block.id] = Future()
        self.process: subprocess.Popen[str] | None = None
        if not lines:
            return
        self.process = subprocess.Popen(
            [sys.executable, str(Path(__file__).with_name("doc_block_runner.py")), str(WORKERS)],
            cwd=ROOT,
            env=_environment(Block("", 0, "", "")),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdin is not None
        self.process.stdin.writelines(lines)
        self.process.stdin.close()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        for line in self.process.stdout:
            report = json.loads(line)
            block, cwd, script = self.jobs[report["id"]]
            outcome = Outcome(
                report["returncode"],
                (cwd / "stdout.txt").read_text(encoding="utf-8", errors="replace"),
                (cwd / "stderr.txt").read_text(encoding="utf-8", errors="replace"),
                script,
            )
            if outcome.returncode == -signal.SIGALRM:
                outcome.stderr += f"\n(killed: still running after {TIMEOUT} s)"
            shutil.rmtree(cwd, ignore_errors=True)
            self.futures[block.id].set_result(outcome)
        code = self.process.wait()
        for future in self.futures.values():
            if not future.done():
                future.set_exception(RuntimeError(f"doc_block_runner.py exited {code}"))

    def close(self) -> None:
        if self.process is not None:
            if self.process.poll() is None:
                self.process.kill()
            self.process.wait()
            self.reader.join(timeout=10)
        for _, cwd, _ in self.jobs.values():
            shutil.rmtree(cwd, ignore_errors=True)


@pytest.fixture(scope="module")
def outcomes(request: pytest.FixtureRequest) -> Iterator[dict[str, Future[Outcome]]]:
    """Starts every selected block that runs a process, in test order."""
    selected = {
        item.callspec.id
        for item in request.session.items
        if getattr(item, "originalname", None) == "test_doc_block" and hasattr(item, "callspec")
    }
    runnable = [b for b in ALL_BLOCKS if b.id in selected and not b.problems]
    python = PythonBlocks([b for b in runnable if b.how == "python"])
    futures = dict(python.futures)
    with ThreadPoolExecutor(max_workers=1) as shell:
        for block in runnable:
            if block.how == "shell":
                futures[block.id] = shell.submit(_run_shell, block)
        try:
            yield futures
        finally:
            python.close()


@pytest.mark.parametrize("block", ALL_BLOCKS, ids=[b.id for b in ALL_BLOCKS])
def test_doc_block(block: Block, outcomes: dict[str, Future[Outcome]], tmp_path: Path) -> None:
    assert not block.problems, f"{block.id}: " + "; ".join(block.problems)
    how = block.how
    if how == "skip":
        pytest.skip(f"not runnable: {block.skip_reason}")
    assert how != "unmarked", (
        f"{block.id}: a {block.lang or 'no-language'} block that does not run; mark it "
        + (
            "<!-- run --> or "
            if block.lang in SHELL
            else "<!-- config --> or "
            if block.lang in YAML
            else ""
        )
        + "<!-- not-runnable: REASON -->"
    )
    if how == "config":
        path = tmp_path / "dispatch.yaml"
        path.write_text(block.text, encoding="utf-8")
        load_config(path, environ=_environment(block))
        return
    done = outcomes[block.id].result(timeout=TIMEOUT * 2)
    numbered = "\n".join(f"{n:4} {line}" for n, line in enumerate(done.script.splitlines(), 1))
    context = f"{block.id} ({how})\n{numbered}\n--- stdout:\n{done.stdout[-3000:]}"
    context += f"\n--- stderr:\n{done.stderr[-3000:]}"
    assert done.returncode == 0, f"exited {done.returncode}: {context}"
    assert "Traceback" not in done.stderr, context
    for expected in block.markers.get("expect", []):
        assert expected in done.stdout, f"stdout does not show {expected!r}: {context}"


# -- the rules themselves -------------------------------------------------------------------

RULES_PAGE = """\
<!-- not-runnable: a sketch -->
```python
x = (
```

<!-- not-runnable:   -->
```python
pass
```

```python
value = 6 * 7
```

<!-- continues -->
<!-- expect: 42 -->
```py
print(value)
```

<!-- not-runable: typo -->
```python
pass
```

```bash
echo hi
```

<!-- run -->
<!-- env: GREETING=hello there -->
```console
$ echo "$GREETING"
hello there
```

<!-- config -->
```yaml
providers: {}
```

```json
{}
```

<!-- config -->
```python
pass
```

- In a list:

   ~~~~python
   ```
   print("inside")
   ~~~~
"""


def test_marker_rules(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(RULES_PAGE, encoding="utf-8")
    blocks = parse(page, "page.md")
    got = [(b.line, b.lang, b.how, b.problems) for b in blocks]
    assert [(line, lang, how) for line, lang, how, _ in got] == [
        (2, "python", "skip"),
        (7, "python", "python"),  # a marker without its reason is a problem (below)
        (11, "python", "python"),
        (17, "py", "python"),
        (22, "python", "python"),  # the unknown marker is a problem
        (26, "bash", "unmarked"),
        (32, "console", "shell"),
        (38, "yaml", "config"),
        (42, "json", "unmarked"),
        (47, "python", "python"),
        (53, "python", "python"),
    ]
    problems = {line: problems for line, _, _, problems in got if problems}
    assert sorted(problems) == [7, 22, 47]
    assert "needs a value" in problems[7][0]
    assert "not a marker" in problems[22][0]
    assert "for yaml blocks" in problems[47][0]
    joined = blocks[3]
    assert [part.line for part in joined.parts] == [11, 17]
    assert joined.markers["expect"] == ["42"]
    assert _script(joined) == "# --- page.md:11\nvalue = 6 * 7\n# --- page.md:17\nprint(value)\n"
    assert _script(blocks[6]) == 'echo "$GREETING"\n'
    assert _environment(blocks[6])["GREETING"] == "hello there"
    assert blocks[10].text == '```\nprint("inside")\n'  # dedented; a shorter fence is text


def test_runner_reports_what_each_script_did() -> None:
    """A block fails the way a script fails: its exit status, its traceback, its output."""
    scripts = {
        "ok": "import os, sys\nprint(os.environ['LLM_DISPATCH_FAKE'], sys.argv[0].endswith('.py'))",
        "raises": "1 / 0",
        "exits": "import sys\nsys.exit(3)",
        "top-level-await": "import asyncio\nawait asyncio.sleep(0)",
    }
    blocks = [Block(name, 1, "python", text) for name, text in scripts.items()]
    for block in blocks:
        block.parts = [block]
    runner = PythonBlocks(blocks)
    try:
        done = {name: runner.futures[f"{name}:1"].result(timeout=TIMEOUT) for name in scripts}
    finally:
        runner.close()
    assert (done["ok"].returncode, done["ok"].stdout) == (0, "1 True\n")
    assert done["raises"].returncode == 1
    assert "ZeroDivisionError" in done["raises"].stderr
    assert "Traceback" in done["raises"].stderr
    assert done["exits"].returncode == 3
    assert done["top-level-await"].returncode == 1
    assert "SyntaxError" in done["top-level-await"].stderr
