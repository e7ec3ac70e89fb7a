"""Every commented-out example in ``config/dispatch.yaml`` loads once uncommented.

An example is a run of comment lines whose first line, once ``# `` is taken off, is a YAML
key (``# cache:``, ``    # api_key: ${OPENAI_API_KEY}``, ``  # vllm:``), followed by the
comment lines at the same column that are indented deeper (its body). Prose comments never
start with a bare ``word:`` (the file writes ```kind`: ...``), so they are not examples.
Each example is uncommented alone, in place, and the file is loaded with the library's
loader.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from llm_dispatch.settings import load_config

REPO = Path(__file__).resolve().parent.parent
SHIPPED = REPO / "config" / "dispatch.yaml"
_COMMENT = re.compile(r"^(\s*)# (.*)$")
_KEY = re.compile(r"^\s*[A-Za-z_][\w./-]*:(\s|$)")
#: The variables the examples reference without a default.
ENVIRON = {
    "LLM_DISPATCH_HMAC_KEY": "an-example-key-of-32-characters!",
    "OPENAI_ORG_ID": "org-example",
}


def example_blocks(lines: list[str]) -> list[tuple[int, int]]:
    """``(start, end)`` line indexes (end exclusive) of each commented example."""
    blocks: list[tuple[int, int]] = []
    i = 0
    while i < len(lines):
        first = _COMMENT.match(lines[i])
        if first is None or not _KEY.match(first.group(2)):
            i += 1
            continue
        indent = _depth(first.group(2))
        end = i + 1
        while end < len(lines):
            line = _COMMENT.match(lines[end])
            if line is None or line.group(1) != first.group(1):
                break
            body = line.group(2)
            if not body.strip() or _depth(body) <= indent:
                break
            end += 1
        blocks.append((i, end))
        i = end
    return blocks


def _depth(text: str) -> int:
    return len(text) - len(text.lstrip())


def uncommented(lines: list[str], start: int, end: int) -> list[str]:
    """``lines`` with the example at ``start:end`` uncommented in place."""
    out = list(lines)
    for n in range(start, end):
        match = _COMMENT.match(out[n])
        assert match is not None
        out[n] = match.group(1) + match.group(2)
    return out


SHIPPED_LINES = SHIPPED.read_text(encoding="utf-8").splitlines()
BLOCKS = example_blocks(SHIPPED_LINES)


def test_the_examples_are_found() -> None:
    firsts = [SHIPPED_LINES[start].strip() for start, _ in BLOCKS]
    for expected in ("# vllm:", "# ollama:", "# code_generation:", "# embedding:"):
        assert expected in firsts
    assert firsts.count("# cache:") == 2
    assert len(BLOCKS) >= 15


@pytest.mark.parametrize(
    ("start", "end"),
    BLOCKS,
    ids=[f"line{s + 1}:{SHIPPED_LINES[s].strip()[2:20]}" for s, _ in BLOCKS],
)
def test_each_commented_example_loads(tmp_path: Path, start: int, end: int) -> None:
    lines = uncommented(SHIPPED_LINES, start, end)
    path = tmp_path / "dispatch.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    # The example became part of the document, not a comment.
    assert yaml.safe_load(path.read_text()) != yaml.safe_load(SHIPPED.read_text())
    config = load_config(path, environ=ENVIRON)
    top = SHIPPED_LINES[start].strip()
    if top == "# cache:":
        assert config.cache is not None and config.cache.enabled
    if top == "# embedding:":
        assert config.embedding is not None and config.embedding.key_source == "explicit"


def test_a_broken_example_is_caught(tmp_path: Path) -> None:
    text = "providers:\n  openai:\n    kind: openai\n# cache:\n#   max_size: 1000\n"
    lines = text.splitlines()
    [(start, end)] = example_blocks(lines)
    path = tmp_path / "dispatch.yaml"
    path.write_text("\n".join(uncommented(lines, start, end)) + "\n")
    with pytest.raises(ValueError, match=r"cache\.max_size: unknown key"):
        load_config(path, environ={})
