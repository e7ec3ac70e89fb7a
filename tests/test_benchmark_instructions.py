"""``benchmarks/overhead.py --instructions``: reading callgrind's out file, and no valgrind.

No test runs valgrind: the out files here are small samples written by the test, in the
format callgrind 3.19 writes (``events:`` names the counters, ``summary:`` near the top and
``totals:`` at the end hold one count per event).
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

import llm_dispatch

ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS = ROOT / "benchmarks"

SAMPLE = """\
# callgrind format
version: 1
creator: callgrind-3.19.0
pid: 4242
cmd:  /usr/bin/python3 benchmarks/instructions.py --url=http://127.0.0.1:1 --provider=openai
part: 1


desc: I1 cache:
desc: D1 cache:
desc: LL cache:

desc: Timerange: Basic block 0 - 9051117
desc: Trigger: Program termination

positions: line
events: {events}
summary: {summary}


ob=(1) /usr/bin/python3.11
fl=(1) ???
fn=(1) _PyEval_EvalFrameDefault
0 {summary}

totals: {totals}
"""


@pytest.fixture
def instructions(monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    spec = importlib.util.spec_from_file_location(
        "bench_instructions", BENCHMARKS / "instructions.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)  # its dataclass looks itself up there
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop("streams", None)  # benchmarks/streams.py, imported by the module


def out_file(tmp_path: Path, *, events: str, summary: str, totals: str | None) -> str:
    text = SAMPLE.format(events=events, summary=summary, totals=totals)
    if totals is None:
        text = text.replace("totals: None\n", "")
    path = tmp_path / "callgrind.out"
    path.write_text(text)
    return path.read_text()


def test_the_total_ir_is_read_from_the_totals_line(
    instructions: ModuleType, tmp_path: Path
) -> None:
    text = out_file(tmp_path, events="Ir", summary="850029583", totals="850029584")
    assert instructions.total_ir(text) == 850029584


def test_without_totals_the_summary_line_is_read(instructions: ModuleType, tmp_path: Path) -> None:
    text = out_file(tmp_path, events="Ir", summary="10983722949", totals=None)
    assert instructions.total_ir(text) == 10983722949


def test_ir_is_found_among_other_events(instructions: ModuleType, tmp_path: Path) -> None:
    text = out_file(tmp_path, events="Dr Ir Dw", summary="7 900 3", totals="7 900 3")
    assert instructions.total_ir(text) == 900
    # Counts of zero at the end of the line are left out.
    text = out_file(tmp_path, events="Dr Ir", summary="7", totals="7")
    assert instructions.total_ir(text) == 0


def test_a_file_without_ir_or_totals_is_an_error(instructions: ModuleType, tmp_path: Path) -> None:
    text = out_file(tmp_path, events="Dr Dw", summary="7 3", totals="7 3")
    with pytest.raises(ValueError, match="no Ir"):
        instructions.total_ir(text)
    with pytest.raises(ValueError, match="not a callgrind out file"):
        instructions.total_ir("==4242== I   refs:      850,029,583\n")


def test_without_valgrind_the_mode_says_so_and_exits_2(tmp_path: Path) -> None:
    env = dict(os.environ)
    env["PATH"] = str(tmp_path)  # an empty directory: no valgrind, no callgrind_control
    env["PYTHONPATH"] = str(Path(llm_dispatch.__file__).resolve().parents[1])
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / "overhead.py"), "--instructions", "--chunks", "5"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=tmp_path,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1
    assert "needs valgrind" in lines[0] and "apt-get install valgrind" in lines[0]


def test_the_mode_refuses_what_it_would_ignore(tmp_path: Path) -> None:
    env = dict(os.environ, PYTHONPATH=str(Path(llm_dispatch.__file__).resolve().parents[1]))
    for args in (["--instructions", "--rounds", "3"], ["--jobs", "2"]):
        done = subprocess.run(
            [sys.executable, str(BENCHMARKS / "overhead.py"), *args],
            capture_output=True,
            text=True,
            timeout=60,
            env=env,
            cwd=tmp_path,
        )
        assert done.returncode == 2, args
        assert "error:" in done.stderr
