"""Every example runs offline: ``LLM_DISPATCH_FAKE=1``, a working directory outside the repo,
no API keys in the environment. Each run checks what the example is there to show."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import PROVIDER_ENV_VARS

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"

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
    # Seed 003 (Steer LLM SDK guide), each sample as the guide writes it.
    "seed_steer/anthropic_streaming.py": (
        "[anthropic/claude-3-opus] usage: prompt_tokens=",
        "counted by: provider",
    ),
    "seed_steer/basic_streaming.py": ('answering as gpt-4. You asked: "Tell me a story"',),
    "seed_steer/batch_processing.py": tuple(
        f"Prompt: Write a haiku about {lang}\nResult: This is the fake openai server answering "
        f'as gpt-4. You asked: "Write a haiku about {lang}"'
        for lang in ("Python", "JavaScript", "Rust")
    ),
    "seed_steer/content_filter_transformer.py": ("Filtered: ", '"Saya***here"'),
    "seed_steer/error_handling.py": ("Answer: This is the fake openai server answering as gpt-4",),
    "seed_steer/event_callbacks.py": (
        "[STARTED] Model: gpt-4, Provider: openai",
        "[CHUNK 0] This",
        "[USAGE] prompt_tokens=",
        "[COMPLETE] Duration: ",
    ),
    "seed_steer/event_processor.py": (
        'Text: This is the fake openai server answering as gpt-4. You asked: "Generate content"',
        "Metrics: ProcessorMetrics(streams=1, events={'delta': ",
        "'usage': 1}, text_chars=",
    ),
    "seed_steer/high_performance.py": (
        " chunks: This is the fake openai server answering as gpt-4. You asked: "
        '"Generate text quickly"',
    ),
    "seed_steer/json_mode.py": (
        "{'provider': 'openai', 'model': 'gpt-4', 'prompt': 'Generate a JSON object",
        '{"provider": "openai", "model": "gpt-4"',
    ),
    "seed_steer/memory_efficient.py": ("Processed 40 words, 215 characters",),
    "seed_steer/openai_streaming.py": (
        "[openai/gpt-4] usage: prompt_tokens=",
        "counted by: provider",
    ),
    "seed_steer/streaming_interruptions.py": (
        'You asked: "Generate a long story"',
        "characters collected]",
    ),
    "seed_steer/streaming_with_usage.py": (
        'Text: This is the fake openai server answering as gpt-4. You asked: "Write a haiku',
        "Tokens used: prompt_tokens=",
    ),
    "seed_steer/xai_streaming.py": (
        "[xai/grok-2] This is the fake openai server answering as grok-2.",
        "without an xAI provider: no provider available",
        "model='grok-2': no configured provider serves it",
    ),
    "tools.py": (
        "Let me look that up.\n",
        'The tools answered: get_weather: {"city": "Paris", "sky": "sunny"',
        "[step 1: openai/gpt-4o-mini, tool calls: "
        "get_weather({'city': 'Paris', 'unit': 'celsius'})]",
        "[step 2: openai/gpt-4o-mini, tool calls: none]",
    ),
    "vision.py": ('You asked: "Describe this image". With it: an image (image/png, ',),
}


def test_every_example_is_checked() -> None:
    # Examples in subfolders are named by their path under examples/ ("seed_steer/x.py").
    found = (p.relative_to(EXAMPLES).as_posix() for p in EXAMPLES.rglob("*.py"))
    assert sorted(SHOWS) == sorted(found)


@pytest.mark.parametrize("name", sorted(SHOWS))
def test_example_runs_offline(name: str, tmp_path: Path) -> None:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in PROVIDER_ENV_VARS and not k.startswith("LLM_DISPATCH")
    }
    env["LLM_DISPATCH_FAKE"] = "1"
    # This checkout's package, not whichever one the interpreter has installed.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
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
