"""``llm-dispatch stream`` and ``llm-dispatch demo``, run as real processes."""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
from pathlib import Path

from conftest import PROVIDER_ENV_VARS, fake_providers

from llm_dispatch.testing import FakeProviderServer, Script


def clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in PROVIDER_ENV_VARS}
    env.pop("LLM_DISPATCH_CONFIG", None)
    env["NO_COLOR"] = "1"
    return env


async def run_cli(*args: str, cwd: Path | None = None) -> tuple[int, str, str]:
    """Run ``llm-dispatch ARGS`` while this loop keeps serving the fake server."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "llm_dispatch.cli",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=clean_env(),
        cwd=cwd,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=45)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


def config_file(tmp_path: Path, server: FakeProviderServer) -> str:
    path = tmp_path / "dispatch.yaml"
    # JSON is YAML: the loader reads it as any configuration file.
    path.write_text(json.dumps({"providers": fake_providers(server)}))
    return str(path)


async def test_stream_prints_the_answer_and_nothing_else(
    fake_server: FakeProviderServer, tmp_path: Path
) -> None:
    fake_server.enqueue(Script(chunks=["Hello ", "from ", "the CLI."]), provider="anthropic")
    code, out, err = await run_cli(
        "stream",
        "Say hello",
        "--provider",
        "anthropic",
        "--config",
        config_file(tmp_path, fake_server),
        "--task-type",
        "question_answering",
        "--max-tokens",
        "20",
        "--system",
        "Be nice.",
    )
    assert (code, out, err) == (0, "Hello from the CLI.\n", "")
    [recorded] = fake_server.requests
    assert recorded.prompt == "Say hello" and recorded.system == "Be nice."
    assert recorded.body["max_tokens"] == 20


async def test_stream_metadata_prints_json_chunk_dicts(
    fake_server: FakeProviderServer, tmp_path: Path
) -> None:
    fake_server.enqueue(Script(chunks=["a ", "b"], usage=(2, 2)))
    code, out, _ = await run_cli(
        "stream",
        "hi",
        "--provider",
        "google",
        "--model",
        "gemini-2.5-flash",
        "--config",
        config_file(tmp_path, fake_server),
        "--metadata",
    )
    assert code == 0
    items = [json.loads(line) for line in out.splitlines()]
    assert [i["chunk"] for i in items] == ["a ", "b", ""]
    assert items[-1]["is_final"] and items[-1]["progress"] == 100
    assert items[-1]["usage"]["total_tokens"] == 4
    assert {i["provider"] for i in items} == {"google"}


async def test_stream_progress_bar_goes_to_stderr(
    fake_server: FakeProviderServer, tmp_path: Path
) -> None:
    fake_server.enqueue(Script(chunks=["one ", "two ", "three"], usage=(2, 3)))
    code, out, err = await run_cli(
        "stream",
        "count",
        "--provider",
        "openai",
        "--config",
        config_file(tmp_path, fake_server),
        "--progress",
        "--max-tokens",
        "3",
    )
    assert code == 0 and out == "one two three\n"
    assert "openai/gpt-4o-mini" in err and "100%" in err and "done" in err


async def test_stream_errors_go_to_stderr_with_status_1(
    fake_server: FakeProviderServer, tmp_path: Path
) -> None:
    fake_server.enqueue(Script(status=401, error_message="bad key"), provider="openai")
    code, out, err = await run_cli(
        "stream",
        "hi",
        "--provider",
        "openai",
        "--config",
        config_file(tmp_path, fake_server),
    )
    assert code == 1 and out.strip() == ""
    assert "error:" in err and "auth" in err


async def test_demo_streams_through_the_three_fake_providers(tmp_path: Path) -> None:
    code, out, err = await run_cli("demo", cwd=tmp_path)
    assert code == 0, err
    for provider in ("openai", "anthropic", "google"):
        assert f"--- {provider} (fake) ---" in out
        assert f"This is the fake {provider} server" in out
    assert "progress 100%" in out and "$" in out
    assert "--- client batch" in out
    assert "stream.start" not in out and "stream.start" not in err  # logs stay quiet
    # The rate is the completion tokens over the whole stream's duration.
    rates = re.findall(r"\d+ tokens \((\d+) out\), \$[\d.]+, (\d+) ms, (\d+) tok/s", out)
    assert len(rates) == 3, out
    for completion, ms, rate in rates:
        expected = int(completion) / (int(ms) / 1000)
        # Printed rounded, from the unrounded duration: within one token per second or 5%.
        assert abs(int(rate) - expected) <= max(1.0, expected * 0.05), (completion, ms, rate)


async def test_every_streaming_command_has_a_one_line_error_for_an_unreadable_file(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "a-folder"
    folder.mkdir()
    for args in (["verify", str(folder)], ["strip", str(tmp_path / "missing.txt")]):
        code, out, err = await run_cli(*args)
        assert code == 2 and out == ""
        [line] = err.splitlines()
        assert line.startswith("error: cannot read ")
