"""``llm-dispatch stream`` and ``llm-dispatch demo``, run as real processes."""

from __future__ import annotations

import asyncio
import io
import json
import os
import re
import sys
from pathlib import Path
from typing import Any

from conftest import FAST_RETRY, PROVIDER_ENV_VARS, fake_providers

import llm_dispatch
from llm_dispatch import Client
from llm_dispatch.cli.summary import StreamFigures, write_summary
from llm_dispatch.testing import FakeProviderServer, Script

#: The summary line of a completed stream, as written to a pipe.
SUMMARY = re.compile(
    r"summary: (?P<target>\S+), (?P<attempts>\d+) attempts?, first chunk (?P<ttfc>\d+) ms, "
    r"(?P<tokens>~?\d+) tokens at (?P<rate>\d+) tok/s, (?P<cost>\$\d+\.\d{6}|cost unknown), "
    r"(?P<cache>(?:not )?from the cache)"
)


def clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in PROVIDER_ENV_VARS}
    env.pop("LLM_DISPATCH_CONFIG", None)
    env["NO_COLOR"] = "1"
    # The package this test imported, whatever the subprocess's working directory.
    env["PYTHONPATH"] = str(Path(llm_dispatch.__file__).resolve().parents[1])
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
    assert (code, out) == (0, "Hello from the CLI.\n")
    [line] = err.splitlines()  # the summary, and nothing else
    assert SUMMARY.fullmatch(line) and "anthropic/claude-haiku-4-5" in line
    [recorded] = fake_server.requests
    assert recorded.prompt == "Say hello" and recorded.system == "Be nice."
    assert recorded.body["max_tokens"] == 20


async def test_stream_metadata_prints_json_chunk_dicts(
    fake_server: FakeProviderServer, tmp_path: Path
) -> None:
    fake_server.enqueue(Script(chunks=["a ", "b"], usage=(2, 2)))
    code, out, err = await run_cli(
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
    assert SUMMARY.fullmatch(err.strip()), err


async def test_stream_ends_with_one_summary_line_on_stderr(
    fake_server: FakeProviderServer, tmp_path: Path
) -> None:
    fake_server.enqueue(Script(status=503), provider="openai")
    fake_server.enqueue(Script(chunks=["one ", "two ", "three"], usage=(2, 3)), provider="openai")
    providers = fake_providers(fake_server)
    providers["openai"]["prices"] = {"gpt-4o-mini": {"input": 0.15, "output": 0.60}}
    path = tmp_path / "priced.yaml"
    path.write_text(json.dumps({"providers": providers, "defaults": {"retry": FAST_RETRY}}))
    code, out, err = await run_cli("stream", "count", "--provider", "openai", "--config", str(path))
    assert (code, out) == (0, "one two three\n")
    [line] = err.splitlines()
    found = SUMMARY.fullmatch(line)
    assert found is not None, line
    assert found["target"] == "openai/gpt-4o-mini"
    assert found["attempts"] == "2"  # the 503, then the answer
    assert found["tokens"] == "3"  # the provider's count, not an estimate
    assert found["cost"] == "$0.000002"  # 2 in at $0.15/M, 3 out at $0.60/M
    assert found["cache"] == "not from the cache"
    assert "summary" not in out


async def test_stream_json_asks_for_json_and_prints_it(
    fake_server: FakeProviderServer, tmp_path: Path
) -> None:
    # The fake server answers a JSON-mode request with one JSON object naming the request.
    for provider in ("openai", "google"):
        code, out, err = await run_cli(
            "stream",
            "user data",
            "--provider",
            provider,
            "--config",
            config_file(tmp_path, fake_server),
            "--json",
        )
        assert code == 0, err
        assert json.loads(out) == {
            "provider": provider,
            "model": {"openai": "gpt-4o-mini", "google": "gemini-2.5-flash"}[provider],
            "prompt": "user data",
        }
        assert fake_server.requests[-1].json_mode
        assert SUMMARY.fullmatch(err.strip()), err
    assert fake_server.requests[0].body["response_format"] == {"type": "json_object"}


async def test_stream_json_fails_on_an_answer_that_is_not_json(
    fake_server: FakeProviderServer, tmp_path: Path
) -> None:
    fake_server.enqueue(Script(chunks=["not ", "json"]), provider="openai")
    code, out, err = await run_cli(
        "stream", "hi", "--provider", "openai", "--config", config_file(tmp_path, fake_server),
        "--json",
    )  # fmt: skip
    assert (code, out) == (1, "not json")
    [line] = err.strip().splitlines()
    assert line.startswith("error: the streamed text is not valid JSON")


def test_summary_figures_read_as_one_line() -> None:
    figures = StreamFigures(
        provider="anthropic",
        model="claude-haiku-4-5",
        attempts=1,
        first_chunk_ms=41.6,
        tokens=12,
        tokens_estimated=True,
        tokens_per_second=None,
        cost_usd=None,
        cached=True,
    )
    assert figures.line() == (
        "summary: anthropic/claude-haiku-4-5, 1 attempt, first chunk 42 ms, "
        "~12 tokens at - tok/s, cost unknown, from the cache"
    )
    assert SUMMARY.fullmatch(figures.line().replace("at - tok/s", "at 0 tok/s"))


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


async def test_the_summary_on_a_terminal_says_the_same_in_rich(
    fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    fake_server.enqueue(Script(chunks=["a ", "b"], usage=(2, 2)), provider="google")
    client = Client(dispatcher=make_dispatcher())
    stream = await client.open("hi", provider="google").collect()
    plain, terminal = io.StringIO(), _Terminal()
    write_summary(stream, plain)
    write_summary(stream, terminal)
    assert SUMMARY.fullmatch(plain.getvalue().strip())
    styled = terminal.getvalue()
    assert "\x1b[" in styled or os.environ.get("NO_COLOR")  # rich styled it
    assert re.sub(r"\x1b\[[0-9;]*m", "", styled) == plain.getvalue()


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
