"""Every example runs offline: ``LLM_DISPATCH_FAKE=1``, a working directory outside the repo,
no API keys in the environment. Each run checks what the example is there to show."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import PROVIDER_ENV_VARS

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

# What each example's output must contain: the thing it demonstrates, not just "it ran".
SHOWS: dict[str, tuple[str, ...]] = {
    "audio.py": (
        'You asked: "Transcribe this audio". With it: an audio clip (audio/wav, ',
        "[google/",
        "skipped openai/gpt-4o-mini: takes text, image, document; this request sends audio",
    ),
    "batch.py": ("#0 openai:", "#1 anthropic:", "#2 ", "#3 "),
    "callbacks.py": ("usage prompt_tokens=", "complete in"),
    "chat_history.py": ("User: How does machine learning work?", "[4 turns kept]"),
    "code_generation.py": ("language: python", "Write rust code that does this: Reverse a string"),
    "content_filter.py": ("provider sent:",),
    "content_progress.py": ("Generating content...", "Progress: 100.0%"),
    "progress.py": ("run 1:", "run 2: expected 120 tokens (learned)"),
    "quickstart.py": ("[openai]", "[anthropic]", "[google]"),
    "tools.py": (
        "Let me look that up.\n",
        'The tools answered: get_weather: {"city": "Paris", "sky": "sunny"',
        "[step 1: openai/gpt-4o-mini, tool calls: "
        "get_weather({'city': 'Paris', 'unit': 'celsius'})]",
        "[step 2: openai/gpt-4o-mini, tool calls: none]",
    ),
    "vision.py": ('You asked: "Describe this image". With it: an image (image/png, ',),
    "web_app.py": (
        "GET / -> 200, ",
        "uses EventSource",
        "content-type: text/event-stream",
        'You asked: "How do rainbows form?". A real model would stream',
        "[done #",
        '{"status":"complete","finish_reason":"stop","usage":{"prompt_tokens":',
    ),
}


def test_every_example_is_checked() -> None:
    assert sorted(SHOWS) == sorted(p.name for p in EXAMPLES.glob("*.py"))


@pytest.mark.parametrize("name", sorted(SHOWS))
def test_example_runs_offline(name: str, tmp_path: Path) -> None:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in PROVIDER_ENV_VARS and not k.startswith("LLM_DISPATCH")
    }
    env["LLM_DISPATCH_FAKE"] = "1"
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / name)],
        cwd=tmp_path,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert done.returncode == 0, f"{name} exited {done.returncode}\n{done.stderr[-2000:]}"
    for expected in SHOWS[name]:
        assert expected in done.stdout, f"{name} did not show {expected!r}:\n{done.stdout[-2000:]}"
    assert "Traceback" not in done.stderr
