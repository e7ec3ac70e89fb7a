"""The offline switch (``LLM_DISPATCH_FAKE=1`` / ``--fake``) and the command line's edges."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import textwrap
from typing import Any

import pytest
from conftest import PROVIDER_ENV_VARS

from llm_dispatch import Client, ConfigError, Dispatcher, NoProviderAvailable, llm_stream
from llm_dispatch.offline import FAKE_API_KEY, OFFLINE_HINT, fake_mode_requested

PROVIDERS = ["openai", "anthropic", "google"]


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in PROVIDER_ENV_VARS}
    env.pop("LLM_DISPATCH_CONFIG", None)
    env.pop("LLM_DISPATCH_FAKE", None)
    env.update(extra)
    return env


def run(args: list[str], **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, capture_output=True, text=True, timeout=60, env=clean_env(**extra), cwd="/"
    )


def cli(*args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    return run([sys.executable, "-m", "llm_dispatch.cli", *args], **extra)


OFFLINE_SCRIPT = textwrap.dedent(
    """
    import asyncio
    from llm_dispatch import Client, llm_stream

    @llm_stream()
    async def answer(prompt: str):
        yield "the body is not what streams here"

    async def main(prompt: str) -> None:
        async for chunk in answer(prompt):
            print(chunk, end="", flush=True)
        print()

    # Two event loops in one process: the fake server outlives the first.
    asyncio.run(main("first question"))
    asyncio.run(main("second question"))

    async def with_client() -> None:
        stream = Client().open("third question", provider="anthropic")
        print(await stream.collect() and stream.get_text())

    asyncio.run(with_client())
    """
)


def test_the_switch_makes_any_decorated_function_and_the_client_stream_offline() -> None:
    result = run([sys.executable, "-c", OFFLINE_SCRIPT], LLM_DISPATCH_FAKE="1")

    assert result.returncode == 0, result.stderr
    first, second, third = result.stdout.splitlines()
    assert first.startswith("This is the fake openai server") and '"first question"' in first
    assert '"second question"' in second
    assert third.startswith("This is the fake anthropic server")
    [line] = result.stderr.splitlines()  # one warning, nothing else
    assert line.startswith("offline.fake_server ") and "url=http://127.0.0.1:" in line


def test_without_the_switch_no_provider_available_names_it(clean_provider_env: None) -> None:
    dispatcher = Dispatcher(fake=False)

    @llm_stream(dispatcher=dispatcher)
    async def answer(prompt: str) -> Any:
        yield "unused"

    async def go() -> None:
        await answer("hi").collect()

    with pytest.raises(NoProviderAvailable) as caught:
        asyncio.run(go())
    assert str(caught.value).endswith(OFFLINE_HINT)
    assert "LLM_DISPATCH_FAKE=1" in OFFLINE_HINT


async def test_in_process_every_sdk_provider_is_served_by_the_fake_server(
    clean_provider_env: None,
) -> None:
    dispatcher = Dispatcher(
        {
            "providers": {
                "openai": {"kind": "openai", "default_model": "gpt-4o-mini"},
                "anthropic": {"kind": "anthropic", "default_model": "claude-haiku-4-5"},
                "google": {"kind": "google", "default_model": "gemini-2.5-flash"},
                # A compatible server that is not running here, and a key variable unset.
                "vllm": {
                    "kind": "openai",
                    "base_url": "http://127.0.0.1:9/v1",
                    "api_key": "${VLLM_KEY_THAT_IS_NOT_SET}",
                    "default_model": "qwen",
                },
                "off": {"kind": "openai", "enabled": False, "default_model": "m"},
            }
        },
        fake=True,
    )
    client = Client(dispatcher=dispatcher)
    try:
        for name in [*PROVIDERS, "vllm"]:
            async with asyncio.timeout(30):
                stream = await client.open("hi", provider=name).collect()
            assert stream.done and stream.provider == name
            settings = dispatcher.provider(name).settings
            assert settings.base_url is not None
            assert settings.base_url.startswith("http://127.0.0.1:")
            assert settings.api_key is not None
            assert settings.api_key.get_secret_value() == FAKE_API_KEY
        with pytest.raises(NoProviderAvailable, match="enabled: false"):
            await client.open("hi", provider="off").collect()
    finally:
        await dispatcher.aclose()


@pytest.mark.parametrize(("value", "on"), [("1", True), ("TRUE", True), ("on", True), ("", False)])
def test_switch_values(value: str, on: bool) -> None:
    assert fake_mode_requested({"LLM_DISPATCH_FAKE": value}) is on
    assert fake_mode_requested({}) is False


def test_a_misspelt_switch_is_an_error_not_a_silent_real_call() -> None:
    with pytest.raises(ConfigError, match="LLM_DISPATCH_FAKE='yse'"):
        fake_mode_requested({"LLM_DISPATCH_FAKE": "yse"})


# -- the command line ------------------------------------------------------------------------


def test_stream_fake_streams_and_v_shows_info_lines_on_stderr() -> None:
    result = cli("stream", "--fake", "-v", "Write a haiku")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("This is the fake openai server")
    assert '"Write a haiku"' in result.stdout
    assert "INFO" in result.stderr and "stream.start" in result.stderr
    assert "stream.start" not in result.stdout


def test_stream_without_keys_fails_in_one_line_naming_the_switch() -> None:
    result = cli("stream", "hi")
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.startswith("error: no provider available")
    assert result.stderr.rstrip().endswith(OFFLINE_HINT)
    assert "Traceback" not in result.stderr


def test_a_closed_stdout_ends_the_stream_quietly() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "llm_dispatch.cli", "stream", "--fake", "Write a long story"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=clean_env(),
        cwd="/",
    )
    assert proc.stdout is not None and proc.stderr is not None
    # The reader hangs up before the first chunk is written (the process is still starting
    # its fake server), so every write meets a closed pipe. Reading a little first would
    # race: the whole short answer often fits in the pipe before the reader closes it.
    proc.stdout.close()
    stderr = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 141
    assert "Traceback" not in stderr and "Error" not in stderr, stderr


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["stream", "hi", "--max-tokens", "0"], "--max-tokens: must be at least 1, not 0"),
        (["stream", "hi", "--max-tokens", "many"], "'many' is not a whole number"),
        (["fake-server", "--port", "70000"], "70000 is not a port number"),
        (["stream", "hi", "--config", "/nonexistent/dispatch.yaml"], "not found"),
        (["stream", "   ", "--fake"], "the prompt is empty"),
    ],
)
def test_bad_input_is_one_line_and_a_non_zero_exit(args: list[str], expected: str) -> None:
    result = cli(*args)
    assert result.returncode != 0
    [line] = result.stderr.splitlines()
    assert expected in line


def test_fake_server_prints_the_variables_and_refuses_a_busy_port() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = cli("fake-server", "--port", str(port))
    assert result.returncode == 1
    assert result.stderr == f"error: cannot listen on 127.0.0.1:{port}: Address already in use\n"

    proc = subprocess.Popen(
        [sys.executable, "-m", "llm_dispatch.cli", "fake-server"],
        stdout=subprocess.PIPE,
        text=True,
        env=clean_env(),
    )
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(7)]
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    exports = dict(line.removeprefix("export ").strip().split("=", 1) for line in lines[1:])
    assert set(exports) == {
        "OPENAI_BASE_URL",
        "OPENAI_API_KEY",
        "ANTHROPIC_BASE_URL",
        "ANTHROPIC_API_KEY",
        "GOOGLE_GEMINI_BASE_URL",
        "GEMINI_API_KEY",
    }
    assert exports["OPENAI_BASE_URL"].startswith("http://127.0.0.1:")
    assert exports["OPENAI_API_KEY"] == FAKE_API_KEY
