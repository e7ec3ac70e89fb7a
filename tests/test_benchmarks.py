"""``benchmarks/run_all.py`` and the page it writes.

The default run checks the committed page's generated section (the markers, every table,
figures in each) and how a section replaces the one in a page. The heavy test runs every
benchmark with ``--quick`` into a page of its own and checks what it wrote; timing figures
are printed by the benchmarks, never asserted here.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS = ROOT / "benchmarks"
PAGE = ROOT / "docs" / "benchmarks.md"


@pytest.fixture(scope="module")
def report() -> Iterator[ModuleType]:
    spec = importlib.util.spec_from_file_location("bench_report", BENCHMARKS / "report.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclass looks itself up there
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.modules.pop(spec.name, None)


def test_the_committed_page_has_every_generated_table(report: ModuleType) -> None:
    page = PAGE.read_text(encoding="utf-8")
    assert report.problems(page) == []
    section = page.split(report.START, 1)[1].split(report.END, 1)[0]
    for title in report.TABLES:
        assert f"\n### {title}\n" in section
    # Every variant of the per-chunk table against the raw SDK, provider by provider.
    for provider in ("openai", "anthropic", "google"):
        assert f"| {provider} | raw SDK |" in section
        assert f"| {provider} | `@llm_stream` |" in section
    for chart in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", section):
        assert (PAGE.parent / chart).is_file(), chart


def test_a_section_replaces_only_the_one_in_the_page(report: ModuleType) -> None:
    page = f"# Title\n\nhand-written\n\n{report.START}\nold figures\n{report.END}\n\nthe rest\n"
    section = f"{report.START}\nnew figures\n{report.END}"
    spliced = report.splice(page, section)
    assert spliced == f"# Title\n\nhand-written\n\n{section}\n\nthe rest\n"
    assert report.splice("# Title\n", section) == f"# Title\n\n{section}\n"
    # Prose that quotes a marker is left alone.
    quoted = f"# Title\n\nbetween `{report.START}` and the end\n\n" + page.split("\n\n", 2)[2]
    assert report.splice(quoted, section) == quoted.replace(
        f"{report.START}\nold figures\n{report.END}", section
    )


def test_a_section_without_a_table_or_figures_is_reported(report: ModuleType) -> None:
    page = PAGE.read_text(encoding="utf-8")
    assert report.problems(page.replace(report.END, "")) != []
    without = re.sub(r"\n### Cache\n", "\n### Kache\n", page)
    assert report.problems(without) == ["no 'Cache' table"]
    emptied = re.sub(r"(\n### Embedding\n(?:.*\n)*?)((?:\|.*\n)+)", r"\1", page, count=1)
    assert report.problems(emptied) == ["the 'Embedding' table has no figures"]


@pytest.mark.heavy
@pytest.mark.timeout(1800)
def test_a_quick_run_writes_every_table_with_figures(report: ModuleType, tmp_path: Path) -> None:
    out = tmp_path / "benchmarks.md"
    out.write_text(f"# Benchmarks\n\nhand-written\n\n{report.START}\n{report.END}\n\nthe rest\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / "run_all.py"), "--quick", "--no-chart", "--out", out],
        capture_output=True,
        text=True,
        timeout=1700,
        env=env,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    page = out.read_text(encoding="utf-8")
    assert report.problems(page) == []
    assert page.startswith("# Benchmarks\n\nhand-written\n\n")
    assert page.endswith("\n\nthe rest\n")
    assert "benchmarks.png" not in page and not (tmp_path / "benchmarks.png").exists()
    assert "not counted (`--quick`)" in page
    for provider in ("openai", "anthropic", "google"):
        assert re.search(rf"^\| {provider} \| raw SDK \| \d", page, re.MULTILINE)


@pytest.mark.heavy
@pytest.mark.redis
@pytest.mark.timeout(600)
def test_the_cache_benchmark_measures_the_semantic_vectorizer(tmp_path: Path) -> None:
    pytest.importorskip("wordllama", reason="needs the semantic extra")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [
            sys.executable,
            str(BENCHMARKS / "cache.py"),
            "--vectorizer",
            "semantic",
            "--sizes",
            "300",
            "--runs",
            "20",
            "--redis",
            "redis://127.0.0.1:6379/0",
        ],
        capture_output=True,
        text=True,
        timeout=500,
        env=env,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert re.search(r"^embedding: [\d.]+ ms a prompt alone", done.stdout, re.MULTILINE)
    for backend in ("memory", "redis"):
        assert re.search(rf"^\| {backend} \| 300 \| [\d.]+ / [\d.]+ ms", done.stdout, re.MULTILINE)
