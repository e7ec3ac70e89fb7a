"""``llm-dispatch config check``, run as a real process, and its agreement with routing."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import PROVIDER_ENV_VARS

import llm_dispatch
from llm_dispatch import Dispatcher
from llm_dispatch.cli.config_check import check_command, routing_rows
from llm_dispatch.request import Message, Request
from llm_dispatch.task_types import TaskType

#: Secrets the configurations and environments below carry; none may be printed.
CANARIES = {
    "key": "sk-canary-key-7f3a9c",
    "header": "hdr-canary-51e2",
    "literal": "AIza-canary-literal-88d0",
    "hmac": "hmac-canary-0123456789abcdef0123456789abcdef",
    "sdk": "sk-canary-sdk-var-4b6d",
}

CONFIG = """
providers:
  openai:
    kind: openai
    api_key: ${{TEST_OPENAI_KEY}}
    models: [gpt-4o-mini, gpt-4o]
    default_model: gpt-4o-mini
    extra_headers:
      X-Proxy-Auth: {header}
  anthropic:
    kind: anthropic
    default_model: claude-haiku-4-5
  google:
    kind: google
    enabled: false
    api_key: {literal}
    default_model: gemini-2.5-flash
  backup:
    kind: anthropic
    api_key: ${{UNSET_BACKUP_KEY}}
    default_model: claude-sonnet-4-5
routes:
  code_generation:
    strategy: cost
    targets: [anthropic, openai/gpt-4o, google, backup]
  default: [openai, google]
embedding:
  enabled: true
  hmac_key: {hmac}
""".format(**CANARIES)


def cli_env(**extra: str) -> dict[str, str]:
    """No provider variables, no configuration variable, and this checkout's package."""
    env = {k: v for k, v in os.environ.items() if k not in PROVIDER_ENV_VARS}
    for name in ("LLM_DISPATCH_CONFIG", "LLM_DISPATCH_FAKE", "TEST_OPENAI_KEY"):
        env.pop(name, None)
    env["NO_COLOR"] = "1"
    env["PYTHONPATH"] = str(Path(llm_dispatch.__file__).resolve().parents[1])
    env.update(extra)
    return env


def check(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "llm_dispatch.cli", "config", "check", *args],
        capture_output=True,
        text=True,
        env=cli_env(**env),
        cwd=cwd,
        timeout=60,
    )


def rows_of(stdout: str) -> dict[tuple[str, str], str]:
    """The plain table as {(task type, provider): line}."""
    table: dict[tuple[str, str], str] = {}
    for line in stdout.splitlines():
        fields = line.split()
        if len(fields) >= 7 and fields[0] in {t.value for t in TaskType}:
            table[(fields[0], fields[4])] = line
    return table


def assert_no_secret(result: subprocess.CompletedProcess[str]) -> None:
    for name, canary in CANARIES.items():
        assert canary not in result.stdout + result.stderr, name


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    path = tmp_path / "dispatch.yaml"
    path.write_text(CONFIG, encoding="utf-8")
    return path


def test_every_task_type_with_its_targets_and_why_each_is_off(
    tmp_path: Path, config_path: Path
) -> None:
    result = check(tmp_path, str(config_path), TEST_OPENAI_KEY=CANARIES["key"])
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout.startswith(f"configuration: {config_path}\n")
    table = rows_of(result.stdout)
    for task in TaskType:
        if task is TaskType.CODE_GENERATION:
            continue
        openai, google = table[(task.value, "openai")], table[(task.value, "google")]
        assert openai.split()[1:8] == ["default", "priority", "1", "openai", "gpt-4o-mini", "yes"]
        assert google.split()[1:7] == [
            "default",
            "priority",
            "2",
            "google",
            "gemini-2.5-flash",
            "no",
        ]
        assert "disabled in the configuration (providers.google.enabled: false)" in google

    code = {p: table[("code_generation", p)].split() for p in ("anthropic", "openai", "backup")}
    assert code["anthropic"][1:8] == [
        "code_generation", "cost", "1", "anthropic", "claude-haiku-4-5", "no", "disabled:",
    ]  # fmt: skip
    assert (
        "set ANTHROPIC_API_KEY or ANTHROPIC_AUTH_TOKEN or providers.anthropic.api_key"
        in (table[("code_generation", "anthropic")])
    )
    assert code["openai"][3:7] == ["2", "openai", "gpt-4o", "yes"]
    assert table[("code_generation", "google")].split()[3] == "3"
    assert code["backup"][3:7] == ["4", "backup", "claude-sonnet-4-5", "no"]
    assert (
        "providers.backup.api_key names ${UNSET_BACKUP_KEY}, which is not set"
        in (table[("code_generation", "backup")])
    )
    assert_no_secret(result)


def test_the_default_configuration_and_an_sdk_key_variable(tmp_path: Path) -> None:
    # No file, no $LLM_DISPATCH_CONFIG, no ./config/dispatch.yaml: the built-in defaults.
    result = check(tmp_path, OPENAI_API_KEY=CANARIES["sdk"])
    assert result.returncode == 0, result.stderr
    assert "configuration: built-in defaults" in result.stdout
    table = rows_of(result.stdout)
    assert table[("math", "openai")].split()[5:7] == ["gpt-4o-mini", "yes"]
    assert "set GEMINI_API_KEY or GOOGLE_API_KEY" in table[("math", "google")]
    assert_no_secret(result)


def test_the_file_named_by_the_environment_variable(tmp_path: Path, config_path: Path) -> None:
    result = check(tmp_path, LLM_DISPATCH_CONFIG=str(config_path), TEST_OPENAI_KEY=CANARIES["key"])
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"configuration: {config_path} ($LLM_DISPATCH_CONFIG)\n")
    assert ("code_generation", "backup") in rows_of(result.stdout)


def test_a_task_type_without_an_enabled_target_fails(tmp_path: Path, config_path: Path) -> None:
    # Without TEST_OPENAI_KEY, openai is off too: every route is left without a target.
    result = check(tmp_path, str(config_path))
    assert result.returncode == 1
    assert "providers.openai.api_key names ${TEST_OPENAI_KEY}" in result.stdout
    [line] = result.stderr.splitlines()
    assert line.startswith("error: no enabled target for any task type")
    assert_no_secret(result)


def test_a_task_type_without_a_route_fails(tmp_path: Path) -> None:
    # No provider has a default model, so there is no implicit 'default' route either.
    path = tmp_path / "one-route.yaml"
    path.write_text(
        "providers:\n  openai: {kind: openai, base_url: 'http://127.0.0.1:9/v1'}\n"
        "routes:\n  code_generation: [openai/gpt-4o]\n",
        encoding="utf-8",
    )
    result = check(tmp_path, str(path))
    assert result.returncode == 1
    table = rows_of(result.stdout)
    assert table[("code_generation", "openai")].split()[5:7] == ["gpt-4o", "yes"]
    math = table[("math", "-")]
    assert math.split()[1:8] == ["-", "-", "-", "-", "-", "no", "no"]
    assert math.endswith(" no route for this task type and no 'default' route")
    [line] = result.stderr.splitlines()
    assert line.startswith("error: no enabled target for task type(s) text_generation, ")
    assert "code_generation" not in line


@pytest.mark.parametrize("how", ["flag", "variable"])
def test_fake_mode_needs_no_key_but_keeps_enabled_false(
    tmp_path: Path, config_path: Path, how: str
) -> None:
    args, env = ([str(config_path), "--fake"], {}) if how == "flag" else ([str(config_path)], {})
    if how == "variable":
        env["LLM_DISPATCH_FAKE"] = "1"
    result = check(tmp_path, *args, **env)
    assert result.returncode == 0, result.stderr
    assert "offline: every SDK provider is served by the fake provider server" in result.stdout
    table = rows_of(result.stdout)
    for provider in ("openai", "anthropic", "backup"):
        assert table[("code_generation", provider)].split()[6] == "yes"
    assert "enabled: false" in table[("code_generation", "google")]


def test_invalid_yaml_is_one_message_with_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(
        f"providers:\n  openai:\n    kind: openai\n    api_key: {CANARIES['key']}\n  bad: [\n",
        encoding="utf-8",
    )
    result = check(tmp_path, str(path))
    assert result.returncode == 1
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith(f"error: {path}:6: invalid YAML")
    assert_no_secret(result)


def test_an_invalid_value_names_file_line_and_key_path(tmp_path: Path) -> None:
    path = tmp_path / "typo.yaml"
    path.write_text(
        textwrap.dedent(
            f"""\
            providers:
              openai: {{kind: openai, api_key: {CANARIES["key"]}, default_model: gpt-4o}}
              anthropic: {{kind: anthropic, default_model: claude-haiku-4-5}}
            routes:
              code_generation: [openai, antropic]
            """
        ),
        encoding="utf-8",
    )
    result = check(tmp_path, str(path))
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr.startswith(f"error: {path}:5 routes.code_generation[1]: unknown provider")
    assert "did you mean 'anthropic'?" in result.stderr
    assert "Traceback" not in result.stderr
    assert_no_secret(result)


def test_a_missing_file(tmp_path: Path) -> None:
    result = check(tmp_path, str(tmp_path / "nope.yaml"))
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == f"error: {tmp_path / 'nope.yaml'}: configuration file not found\n"


def test_a_closed_stdout_ends_it_quietly(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "llm_dispatch.cli", "config", "check", "--fake"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=cli_env(),
        cwd=tmp_path,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # the reader is gone before the table is written
    assert proc.wait(timeout=60) == 141
    assert proc.stderr.read() == b""
    proc.stderr.close()


async def test_the_table_says_what_the_router_plans(
    config_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in PROVIDER_ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TEST_OPENAI_KEY", CANARIES["key"])
    dispatcher = Dispatcher(str(config_path), fake=False)
    try:
        rows = routing_rows(dispatcher)
        for task in TaskType:
            plan = await dispatcher.router.plan(
                Request(messages=(Message(role="user", content="hi"),), task_type=task)
            )
            mine = [r for r in rows if r.task_type == task.value]
            assert {r.route for r in mine} == {plan.route}
            assert {r.strategy for r in mine} == {plan.strategy}
            enabled = {f"{r.provider}/{r.model}" for r in mine if r.enabled}
            assert enabled == {t.key for t in plan.targets}
            skipped = {f"{r.provider}/{r.model}": r.reason for r in mine if not r.enabled}
            assert skipped == plan.skipped
    finally:
        await dispatcher.aclose()


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_on_a_terminal_it_is_a_rich_table_per_route(
    config_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in PROVIDER_ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TEST_OPENAI_KEY", CANARIES["key"])
    monkeypatch.setenv("COLUMNS", "120")
    out = _Terminal()
    monkeypatch.setattr(sys, "stdout", out)
    assert check_command(str(config_path), fake=False) == 0
    text = re.sub(r"\x1b\[[0-9;]*m", "", out.getvalue())  # styles, not words
    assert "route code_generation (cost), task type: code_generation" in text
    assert "route default (priority), task types: text_generation, translation" in text
    assert "│" not in text and "─" in text  # rich's rule under the headings
    assert "disabled in the configuration (providers.google.enabled: false)" in text
    assert all(canary not in text for canary in CANARIES.values())
