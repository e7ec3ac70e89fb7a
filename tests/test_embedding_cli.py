"""``verify`` / ``strip``: the command functions, the argparse wiring and ``python -m``."""

from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from llm_dispatch.cli.embedding import add_subcommands, main, strip_command, verify_command
from llm_dispatch.embedding import UnicodeMetadata

KEY = "cli-key"
TEXT = "Line one.\r\nLine two ❤️ with a selector.\n"


@pytest.fixture
def signed_file(tmp_path: Path) -> Path:
    path = tmp_path / "answer.txt"
    signed = UnicodeMetadata.embed_metadata(TEXT, {"model": "gpt-4o"}, hmac_secret_key=KEY)
    path.write_bytes(signed.encode("utf-8"))
    return path


@pytest.fixture(autouse=True)
def no_env_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LLM_DISPATCH_HMAC_KEY", raising=False)


def test_verify_valid_prints_metadata_and_status(
    signed_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert verify_command(str(signed_file), KEY) == 0
    out = capsys.readouterr().out
    assert "status: valid" in out and '"model": "gpt-4o"' in out
    assert KEY not in out


def test_verify_takes_the_key_from_the_environment(
    signed_file: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LLM_DISPATCH_HMAC_KEY", KEY)
    assert verify_command(str(signed_file), None) == 0


@pytest.mark.parametrize(
    ("mutate", "key", "status"),
    [
        (lambda s: s.replace("one", "1"), KEY, "tampered"),
        (lambda s: s, "other", "wrong_key"),
        (lambda s: s, None, "wrong_key"),
        (lambda s: s[:-30], KEY, "truncated"),
        (lambda s: TEXT, KEY, "no_metadata"),
    ],
)
def test_verify_exits_1_unless_valid(
    signed_file: Path,
    capsys: pytest.CaptureFixture[str],
    mutate: object,
    key: str | None,
    status: str,
) -> None:
    text = signed_file.read_bytes().decode()
    signed_file.write_bytes(mutate(text).encode())  # type: ignore[operator]
    assert verify_command(str(signed_file), key) == 1
    assert f"status: {status}" in capsys.readouterr().out


def test_verify_json_output(signed_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert verify_command(str(signed_file), KEY, as_json=True) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["status"] == "valid" and data["metadata"] == {"model": "gpt-4o"}


def test_verify_tolerates_one_line_break_added_after_the_signature(
    signed_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    signed_file.write_bytes(signed_file.read_bytes() + b"\n")
    assert verify_command(str(signed_file), KEY) == 0
    assert "line break after the signature was ignored" in capsys.readouterr().out
    signed_file.write_bytes(signed_file.read_bytes() + b"\n")  # two: that is an edit
    assert verify_command(str(signed_file), KEY) == 1
    assert "2 character(s) follow" in capsys.readouterr().out


@pytest.mark.parametrize("line_break", [b"\n", b"\r\n"])
def test_verify_names_the_edit_when_a_line_break_follows(
    signed_file: Path, capsys: pytest.CaptureFixture[str], line_break: bytes
) -> None:
    edited = signed_file.read_bytes().replace(b"Line two", b"Line 2") + line_break
    signed_file.write_bytes(edited)
    assert verify_command(str(signed_file), KEY) == 1
    out = capsys.readouterr().out
    message = out.split("message: ")[1].split("\n")[0]
    assert "status: tampered" in out and "signature does not match" in message
    for wrong in ("follow the signature", "truncated", "no trailer", "missing"):
        assert wrong not in message
    assert verify_command(str(signed_file), KEY, as_json=True) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["status"] == "tampered" and data["ignored_line_break"] is True


def test_verify_reads_stdin(
    signed_file: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    stdin = io.TextIOWrapper(io.BytesIO(signed_file.read_bytes()), encoding="utf-8")
    monkeypatch.setattr(sys, "stdin", stdin)
    assert verify_command("-", KEY) == 0


def test_unreadable_input_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert verify_command(str(tmp_path / "missing.txt"), KEY) == 2
    (tmp_path / "latin1.txt").write_bytes(b"caf\xe9")
    assert strip_command(str(tmp_path / "latin1.txt")) == 2
    assert "not UTF-8" in capsys.readouterr().err


def test_strip_prints_the_original_exactly(
    signed_file: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    assert strip_command(str(signed_file)) == 0
    assert capsysbinary.readouterr().out == TEXT.encode()


def test_strip_without_payload(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "plain.txt"
    path.write_text("plain", encoding="utf-8")
    assert strip_command(str(path)) == 0
    assert strip_command(str(path), check=True) == 1
    assert "no embedded metadata" in capsys.readouterr().err


def test_add_subcommands_wires_both(signed_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser(prog="llm-dispatch")
    add_subcommands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["verify", str(signed_file), "--key", KEY])
    assert args.func(args) == 0
    args = parser.parse_args(["strip", str(signed_file), "--all"])
    assert args.func(args) == 0
    assert main(["verify", str(signed_file), "--key", "wrong"]) == 1


def test_python_dash_m(signed_file: Path) -> None:
    env = {"LLM_DISPATCH_HMAC_KEY": KEY, "PATH": "", "PYTHONIOENCODING": "ascii"}
    done = subprocess.run(
        [sys.executable, "-m", "llm_dispatch.embedding.cli", "verify", str(signed_file)],
        capture_output=True,
        env=env,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    assert b"status: valid" in done.stdout
    done = subprocess.run(
        [sys.executable, "-m", "llm_dispatch.embedding.cli", "strip", "-"],
        input=signed_file.read_bytes(),
        capture_output=True,
        env=env,
        timeout=30,
    )
    assert done.returncode == 0 and done.stdout == TEXT.encode()


def test_strip_says_when_it_refused_a_crafted_text(
    tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    from llm_dispatch.embedding.codec import MAGIC, bytes_to_selectors, type_byte

    path = tmp_path / "crafted.txt"
    crafted = (bytes_to_selectors(MAGIC + bytes([type_byte(1), 5])) + "x") * 10_000
    path.write_bytes(crafted.encode())
    assert strip_command(str(path), check=True) == 1
    captured = capsysbinary.readouterr()
    assert captured.out == crafted.encode() and b"crafted or damaged" in captured.err
