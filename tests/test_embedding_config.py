"""The key rule where the dispatcher's stage is configured: the config file's ``embedding``
section and the decorators' ``embed_metadata=``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from llm_dispatch import Dispatcher, llm_stream
from llm_dispatch.embedding import process_key
from llm_dispatch.errors import ConfigError
from llm_dispatch.settings import load_config

ENV = "LLM_DISPATCH_HMAC_KEY"
KEY = "config-key-0123456789"


@pytest.fixture(autouse=True)
def no_env_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV, raising=False)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "dispatch.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_section_without_a_key_is_a_validation_error_of_the_section(tmp_path: Path) -> None:
    path = write(tmp_path, "defaults:\n  mid_stream: raise\nembedding:\n  target: whitespace\n")
    with pytest.raises(ConfigError) as info:
        load_config(path, environ={})
    error = info.value
    assert (error.source, error.line, error.path) == (str(path), 3, "embedding")
    assert str(error).startswith(f"{path}:3 embedding: no HMAC key to sign with")
    assert ENV in str(error) and "hmac_key: random" in str(error)


def test_a_short_key_is_reported_at_its_line_and_never_shown(tmp_path: Path) -> None:
    path = write(tmp_path, "embedding:\n  target: whitespace\n  key: tiny-key\n")
    with pytest.raises(ConfigError) as info:
        load_config(path, environ={})
    assert info.value.line == 3 and info.value.path == "embedding.key"
    assert "shorter than 16 characters" in str(info.value)
    assert "tiny-key" not in str(info.value)


def test_the_key_from_the_file_from_the_environment_or_random(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = load_config(write(tmp_path, f"embedding:\n  hmac_key: {KEY}\n"), environ={})
    assert config.embedding is not None and config.embedding.key_source == "explicit"
    # The usual spelling: the variable, with the explicit random request as its fallback.
    fallback = "embedding:\n  hmac_key: ${LLM_DISPATCH_HMAC_KEY:-random}\n"
    config = load_config(write(tmp_path, fallback), environ={})
    assert config.embedding is not None and config.embedding.key_source == "random"
    assert config.embedding.hmac_key is not None
    assert config.embedding.hmac_key.get_secret_value() == process_key()
    config = load_config(write(tmp_path, fallback), environ={ENV: KEY})
    assert config.embedding is not None and config.embedding.key_source == "explicit"
    monkeypatch.setenv(ENV, KEY)
    config = load_config(write(tmp_path, "embedding:\n  target: end\n"), environ={})
    assert config.embedding is not None and config.embedding.key_source == "env"
    # A disabled section needs no key.
    monkeypatch.delenv(ENV)
    config = load_config(write(tmp_path, "embedding:\n  enabled: false\n"), environ={})
    assert config.embedding is not None and not config.embedding.enabled


def test_a_dispatcher_with_a_keyless_section_is_refused_when_built() -> None:
    with pytest.raises(ConfigError, match="embedding: no HMAC key"):
        Dispatcher({"embedding": {"target": "end"}})


def test_decorating_without_a_key_fails_at_decoration_time() -> None:
    async def body(prompt: str) -> Any:
        yield "unused"

    with pytest.raises(ConfigError, match="embed_metadata: no HMAC key"):
        llm_stream(embed_metadata=True)(body)
    with pytest.raises(ConfigError, match="embed_metadata: no HMAC key"):
        llm_stream(embed_metadata={"target": "punctuation"})(body)
    with pytest.raises(ConfigError, match=r"embed_metadata\.hmac_key: the key is shorter"):
        llm_stream(embed_metadata={"hmac_key": "short-key"})(body)
    signed = llm_stream(embed_metadata={"hmac_key": "random"})(body)
    assert signed.embedding is not None
    assert signed.embedding.hmac_key.get_secret_value() == process_key()
    assert llm_stream(embed_metadata={"hmac_key": KEY})(body).embedding is not None
    assert llm_stream(embed_metadata=False)(body).embedding is None
