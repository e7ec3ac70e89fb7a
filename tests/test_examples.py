"""Every example runs offline: ``LLM_DISPATCH_FAKE=1``, a working directory outside the repo,
no API keys in the environment. Each run checks what the example is there to show.
Examples in subfolders are named by their path under examples/ (``seed_encypher/x.py``)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
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
    "web_app.py": (
        "GET / -> 200, ",
        "uses EventSource",
        "content-type: text/event-stream",
        'You asked: "How do rainbows form?". A real model would stream',
        "[done #",
        '{"status":"complete","finish_reason":"stop","usage":{"prompt_tokens":',
    ),
    # Seed 004's samples, as the guide writes them (examples/seed_dispatcher/).
    "seed_dispatcher/anthropic_streaming.py": (
        'fake anthropic server answering as claude-3-sonnet. You asked: "Write a creative story"',
    ),
    "seed_dispatcher/audio_streaming.py": (
        "fake google server answering as gemini-2.5-flash. "
        'You asked: "Transcribe this audio". With it: an audio clip (audio/mpeg, 417 bytes)',
    ),
    "seed_dispatcher/batch_streaming.py": (
        'You asked: "Write a story".',
        'You asked: "Explain AI".',
        'You asked: "Code example".',
    ),
    "seed_dispatcher/best_practice_cache.py": (
        "[call 1: openai]",
        "[call 2: from the cache]",
    ),
    "seed_dispatcher/best_practice_timeout.py": ('You asked: "Write a haiku about patience"',),
    "seed_dispatcher/chat_application.py": (
        'Assistant: This is the fake openai server answering as gpt-4o-mini. You asked: "What is',
        'Assistant: This is the fake openai server answering as gpt-4o-mini. You asked: "How does',
    ),
    "seed_dispatcher/code_generation.py": (
        "Generated code:\n",
        'You asked: "Create a function to sort a list language: python"',
    ),
    "seed_dispatcher/content_generation_progress.py": (
        "Generating content...\n",
        '%\n "Artificial',  # each chunk after a progress line (text mode reads \r as \n)
        '%\n long".',
    ),
    "seed_dispatcher/google_streaming.py": (
        'fake google server answering as gemini-2.5-pro. You asked: "Write a summary"',
    ),
    "seed_dispatcher/image_text_streaming.py": (
        'You asked: "Describe this image". With it: an image (image/png, 73 bytes)',
    ),
    "seed_dispatcher/openai_streaming.py": (
        'fake openai server answering as gpt-4. You asked: "Write a technical explanation"',
    ),
    "seed_dispatcher/progress_tracking.py": ("This\nProgress: ", "done.\nProgress: "),
    "seed_dispatcher/robust_error_handling.py": ('You asked: "Write a story"',),
    "seed_dispatcher/simple_streaming.py": (
        'You asked: "Write a long story about space exploration"',
    ),
    "seed_dispatcher/streaming_callbacks.py": (
        "Streaming started with openai:gpt-4o-mini\n",
        'Received chunk:  story"....\n',
        "Streaming completed. Total tokens: ",
    ),
    "seed_dispatcher/streaming_with_caching.py": ('You asked: "Write a story about AI"',),
    "seed_dispatcher/streaming_with_metadata.py": (
        "[openai:gpt-4o-mini] This\n",
        "[openai:gpt-4o-mini]  done.\n",
    ),
    "seed_dispatcher/streaming_with_timeout.py": ('You asked: "Write a long story"',),
    # Seeds 000 / 001: the EncypherAI streaming docs' samples.
    "seed_encypher/handler_usage.py": (
        "Extracted metadata: {'model': 'gpt-4', 'organization': 'MyCompany', 'timestamp': ",
        "Verification result: True",
        "Why: signature valid: the text is unchanged",
    ),
    "seed_encypher/openai_stream.py": (
        "is the fake openai server answering as gpt-4.",
        "Streaming completed!",
        "Extracted metadata: {'model': 'gpt-4', 'organization': 'MyCompany'",
        "As printed: truncated",
        "With the tail appended: valid=True, metadata={'model': 'gpt-4'",
    ),
    "seed_encypher/anthropic_stream.py": (
        "is the fake anthropic server answering as claude-3-opus-20240229.",
        "Extracted metadata: {'model': 'claude-3-opus-20240229', 'organization': 'MyCompany'",
        "As printed: truncated",
        "With the tail appended: valid=True, metadata={'model': 'claude-3-opus-20240229'",
    ),
    "seed_encypher/custom_handler.py": (
        'Streaming statistics: {\n  "chunks_processed": 3,\n  "total_characters": 87,\n'
        '  "average_chunk_size": 29.0\n}',
        "In the header (sealed at the first chunk): "
        "{'model': 'custom-model', 'chunk_number': 1, 'total_characters': 33}",
        "Handler's own count: 3 chunks",
        "Verified: True, metadata: {'model': 'custom-model', 'chunk_number': 3, "
        "'total_characters': 87, 'final_chunk_count': 3, 'final_character_count': 87}",
    ),
    "seed_encypher/handler_hmac.py": (
        "Extracted metadata: {'model_id': 'gpt-4', 'organization': 'EncypherAI', 'timestamp': ",
        "Verification result: ❌ Failed",
        "Status: truncated (the text has a header but no trailer",
        "With finalize()['tail'] appended: ✅ Verified",
        "With another key: ❌ Failed",
    ),
    "seed_encypher/openai_stream_hmac.py": (
        "is the fake openai server answering as gpt-4.",
        "Extracted metadata: {'model_id': 'gpt-4', 'organization': 'EncypherAI'",
        "As printed: truncated",
        "With finalize()['tail'] appended: valid=True, metadata={'model_id': 'gpt-4'",
    ),
    "seed_encypher/anthropic_stream_hmac.py": (
        "is the fake anthropic server answering as claude-3-opus-20240229.",
        "As printed: truncated",
        "With finalize()['tail'] appended: valid=True, "
        "metadata={'model_id': 'claude-3-opus-20240229'",
    ),
    "seed_encypher/advanced_configuration.py": (
        "punctuation: header at character 6 in 1 piece(s)",
        "first chunk only: header at character 7 in 1 piece(s)",
        "spread: header at character 7 in 2 piece(s)",
        "min_buffer_size=50: header at character 58 in 1 piece(s)",
        "valid=True, same metadata=True",
    ),
    "seed_encypher/fastapi_endpoint.py": (
        "HTTP 200 text/plain",
        'Body: This is the fake openai server answering as gpt-4. You asked: "Say something '
        'about provenance."',
        "Metadata in the body: {'model_id': 'gpt-4', 'timestamp': ",
        "'request_id': 'req-42', 'version': '1.1.0'}",
        "Verification: truncated",
    ),
    # Seed 002: the LangChain-style StreamHandler doc's samples.
    "seed_stream_handler/console_streaming.py": (
        'This is the fake openai server answering as gpt-4o-mini. You asked: "Write a short '
        'poem about AI".',
        "[openai/gpt-4o-mini: ",
    ),
    "seed_stream_handler/initialization.py": (
        "on_token is handle_token: True",
        'This is the fake anthropic server answering as claude-sonnet-4-5. You asked: "Say hello"',
        "[anthropic/claude-sonnet-4-5]",
    ),
    "seed_stream_handler/fastapi_sse.py": (
        "HTTP 200 text/event-stream",
        "First events: ['This', ' is', ' the']",
        'events: This is the fake openai server answering as gpt-4o-mini. You asked: "What is '
        'streaming?".',
    ),
    "seed_stream_handler/websocket_stream.py": (
        "Closed by the server (code 1000)",
        "First messages: ['This', ' is', ' the']",
        'messages: This is the fake openai server answering as gpt-4o-mini. You asked: "Why '
        'WebSockets".',
    ),
    "seed_stream_handler/statistics_handler.py": (
        "\n\nStatistics:\n  Total tokens: 39\n  Speed: ",
        "The handler counted 39 tokens of ",
    ),
    "seed_stream_handler/ui_buffer.py": (
        # text=True reads the example's "\r" as a line end
        "\nCurrent: This\nCurrent: This is\nCurrent: This is the",
        "until the closing event says it is done.\n[Response complete]",
        "39 tokens buffered, complete=True",
    ),
    "seed_stream_handler/queue_handler.py": (
        'This is the fake openai server answering as gpt-4o-mini. You asked: "Name three queues"',
        "[consumed on MainThread, produced on another thread]",
    ),
    "seed_stream_handler/batch_handler.py": (
        "batch: 'This is the fake openai'",
        "8 batches, last: ' event says it is done.'",
        "Batches add up to the answer: True",
    ),
    "seed_stream_handler/memory_efficient_handler.py": (
        "40 tokens forwarded, 40 received",
        "Collections run while streaming: at least 4: True",
    ),
    "seed_stream_handler/safe_handler.py": (
        "logged: Error in token callback: cannot handle ' gpt-4o-mini.'",
        "logged: Error in token callback: cannot handle ' 2'",
        "Handled 37 tokens; the stream went on to its end: ' is done.'",
    ),
    "seed_stream_handler/resilient_handler.py": (
        "49 sends for 40 tokens (9 retried)",
        "Every token arrived once, in order: True",
    ),
    "seed_stream_handler/unit_tests.py": (
        "Test that exact token is passed to callback ... ok",
        "Test that callback is invoked for each token ... ok",
        "Ran 2 tests",
        "test_handler_with_mock ... ok",
    ),
    "seed_stream_handler/integration_test.py": ("test_streaming_with_llm ... ok",),
    "seed_stream_handler/ui_friendly_handler.py": (
        "on_token received first: ['⋯', '\\x08\\x08\\x08', 'This', ' is']",
    ),
    "seed_stream_handler/managed_handler.py": (
        "File closed on exit: True",
        'It holds: This is the fake openai server answering as gpt-4o-mini. You asked: "Write a '
        'log line".',
    ),
    "seed_stream_handler/debug_handler.py": (
        "[Token 0]: 'This'\n  Kwargs: {'run_id': UUID('",
        "[Token 8]: ' gemini-2.5-flash.'",
        "Stats: 38 tokens, ",
    ),
    "seed_stream_handler/multiple_handlers.py": (
        "This is the fake openai server answering as gpt-4o-mini. You asked: \"What's in the Q3 "
        'report?".',
        "The file holds the same answer: True",
    ),
}

# What an example's output must never contain.
NEVER_SHOWS: dict[str, tuple[str, ...]] = {
    # Each reading comes after a chunk arrived: an unattached tracker that followed nothing
    # would print 0.0% (the tracker there is never given to the call).
    "seed_dispatcher/progress_tracking.py": ("Progress: 0.0%",),
    "seed_dispatcher/content_generation_progress.py": ("Progress: 0.0%",),
}


def test_every_example_is_checked() -> None:
    found = sorted(p.relative_to(EXAMPLES).as_posix() for p in EXAMPLES.rglob("*.py"))
    assert sorted(SHOWS) == found
    assert set(NEVER_SHOWS) <= set(SHOWS)


def run_example(name: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``examples/<name>`` run as a script: offline, no keys, from ``cwd``."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in PROVIDER_ENV_VARS and not k.startswith("LLM_DISPATCH")
    }
    env["LLM_DISPATCH_FAKE"] = "1"
    # The package of this checkout, wherever the interpreter's own copy is installed from.
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(EXAMPLES.parent), os.environ.get("PYTHONPATH")) if p
    )
    return subprocess.run(
        [sys.executable, str(EXAMPLES / name)],
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=90,
    )


#: The sample folders whose examples run among the heavy tests.
HEAVY_SAMPLES = ("seed_dispatcher/", "seed_steer/", "seed_encypher/", "seed_stream_handler/")


@pytest.fixture(scope="module")
def example_runs(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Future[subprocess.CompletedProcess[str]]]]:
    """Every example this session selected, started at once a few at a time: each is a
    process that spends about a second importing, so running them side by side keeps the
    suite short. Each test then waits for its own."""
    names = [
        item.callspec.params["name"]
        for item in request.session.items
        if item.originalname == "test_example_runs_offline"
    ]
    with ThreadPoolExecutor(max_workers=max(2, (os.cpu_count() or 1) + 1)) as pool:
        runs = {
            name: pool.submit(run_example, name, tmp_path_factory.mktemp("example"))
            for name in names
        }
        yield runs
        for run in runs.values():
            run.cancel()


@pytest.mark.parametrize(
    "name",
    # The samples ported from other libraries' guides (examples/seed_*) run among the heavy
    # tests (.ci/run runs them), to keep the default run short; the library's own examples
    # run in every run.
    [
        pytest.param(name, marks=pytest.mark.heavy) if name.startswith(HEAVY_SAMPLES) else name
        for name in sorted(SHOWS)
    ],
)
def test_example_runs_offline(
    name: str, example_runs: dict[str, Future[subprocess.CompletedProcess[str]]]
) -> None:
    done = example_runs[name].result(timeout=120)
    assert done.returncode == 0, f"{name} exited {done.returncode}\n{done.stderr[-2000:]}"
    for expected in SHOWS[name]:
        assert expected in done.stdout, f"{name} did not show {expected!r}:\n{done.stdout[-2000:]}"
    for unexpected in NEVER_SHOWS.get(name, ()):
        assert unexpected not in done.stdout, (
            f"{name} showed {unexpected!r}:\n{done.stdout[-2000:]}"
        )
    assert "Traceback" not in done.stderr
