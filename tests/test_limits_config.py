"""Configuration of the rate and concurrency limits: what is accepted, and errors that name
the file, line and key path."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from llm_dispatch import Dispatcher, llm_stream
from llm_dispatch.errors import ConfigError
from llm_dispatch.policies.limits import Limiter, MemoryLimitStore, RedisLimitStore
from llm_dispatch.settings.loader import load_config


def error_of(tmp_path: Path, text: str) -> ConfigError:
    path = tmp_path / "dispatch.yaml"
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path, environ={})
    assert info.value.source == str(path)
    return info.value


def test_the_yaml_shape_builds_the_scopes() -> None:
    config = load_config(
        {
            "providers": {
                "openai": {
                    "kind": "openai",
                    "api_key": "k",
                    "models": ["gpt-4o-mini", "gpt-4o"],
                    "limits": {
                        "requests_per_minute": 600,
                        "tokens_per_minute": 90_000,
                        "on_limit": "fallback",
                        "models": {"gpt-4o": {"max_concurrent": 4, "on_limit": "wait"}},
                    },
                },
                "anthropic": {"kind": "anthropic", "api_key": "k"},
            },
            "defaults": {"limits": {"window": 6}},
        },
        environ={},
    )
    limiter = Limiter(config)
    assert isinstance(limiter.store, MemoryLimitStore)
    provider, model = limiter.scopes_for("openai", "gpt-4o")
    # The per-minute numbers are scaled to the 6-second window.
    assert (provider.key, provider.requests, provider.tokens) == ("openai", 60.0, 9000.0)
    assert (provider.concurrent, provider.on_limit) == (None, "fallback")
    assert (model.key, model.concurrent, model.on_limit) == ("openai/gpt-4o", 4, "wait")
    (other,) = limiter.scopes_for("anthropic", "claude-haiku-4-5")
    # No limits: only the target's scope, where a Retry-After hold would land.
    assert (other.key, other.requests, other.concurrent) == (
        "anthropic/claude-haiku-4-5",
        None,
        None,
    )
    # A model without its own entry inherits the provider's on_limit.
    assert limiter.scopes_for("openai", "gpt-4o-mini")[1].on_limit == "fallback"


def test_a_redis_url_makes_a_shared_store() -> None:
    config = load_config(
        {"defaults": {"limits": {"store": "redis://:pw@127.0.0.1:6379/3", "namespace": "a:b"}}},
        environ={},
    )
    limiter = Limiter(config)
    assert isinstance(limiter.store, RedisLimitStore)
    (scope,) = limiter.scopes_for("openai", "gpt-4o")
    assert limiter.store.keys_for(scope) == [
        "a:b:{openai}:openai/gpt-4o:sent",
        "a:b:{openai}:openai/gpt-4o:tokens",
        "a:b:{openai}:openai/gpt-4o:slots",
        "a:b:{openai}:openai/gpt-4o:hold",
    ]
    assert "pw" not in repr(config.defaults.limits)


@pytest.mark.parametrize(
    ("text", "line", "path", "message"),
    [
        (
            """
            providers:
              openai:
                kind: openai
                limits:
                  requests_per_minute: -5
            """,
            5,
            "providers.openai.limits.requests_per_minute",
            "greater than or equal to 1",
        ),
        (
            """
            providers:
              openai:
                kind: openai
                limits:
                  models:
                    gpt-4o:
                      max_concurrent: 0
            """,
            7,
            "providers.openai.limits.models.gpt-4o.max_concurrent",
            "greater than or equal to 1",
        ),
        (
            """
            providers:
              openai:
                kind: openai
                limits:
                  request_per_minute: 5
            """,
            5,
            "providers.openai.limits.request_per_minute",
            "unknown key 'request_per_minute' (did you mean 'requests_per_minute'?)",
        ),
        (
            """
            providers:
              openai:
                kind: openai
                limits: {on_limit: queue}
            """,
            4,
            "providers.openai.limits.on_limit",
            "'wait' or 'fallback'",
        ),
        (
            """
            defaults:
              limits:
                store: memcached://127.0.0.1:11211
            """,
            3,
            "defaults.limits.store",
            "unknown limits store scheme 'memcached://'",
        ),
        (
            """
            defaults:
              limits:
                window: -1
            """,
            3,
            "defaults.limits.window",
            "greater than 0",
        ),
        (
            """
            providers:
              openai:
                kind: openai
                models: [gpt-4o-mini]
                limits:
                  models:
                    gpt-4o: {max_concurrent: 2}
            """,
            7,
            "providers.openai.limits.models.gpt-4o",
            "limits for 'gpt-4o', which is not in models ['gpt-4o-mini']",
        ),
        (
            """
            providers:
              openai:
                kind: openai
                limits:
                  requests_per_minute: 30
            defaults:
              limits: {window: 1}
            """,
            5,
            "providers.openai.limits.requests_per_minute",
            "30 per minute is less than one per window of 1s",
        ),
        (
            """
            providers:
              mine:
                kind: function
                limits: {max_concurrent: 1}
            """,
            4,
            "providers.mine.limits",
            "a provider of kind 'function' takes no limits",
        ),
    ],
)
def test_bad_limits_name_file_line_and_key_path(
    tmp_path: Path, text: str, line: int, path: str, message: str
) -> None:
    err = error_of(tmp_path, text)
    assert (err.line, err.path) == (line, path), str(err)
    assert message in str(err)


def test_a_password_in_a_bad_store_url_is_not_shown(tmp_path: Path) -> None:
    err = error_of(
        tmp_path,
        """
        defaults:
          limits: {store: "redi://:hunter2-secret@cache"}
        """,
    )
    assert "hunter2" not in str(err) and "unknown limits store scheme 'redi://'" in str(err)


def test_limits_cannot_be_overridden_per_function() -> None:
    dispatcher = Dispatcher({}, fake=True)
    # Refused when decorating: one limiter counts every call of a dispatcher.
    with pytest.raises(ValueError, match="'limits' cannot be overridden per call"):

        @llm_stream(dispatcher=dispatcher, policy={"limits": {"window": 1}})
        async def ask(prompt: str):  # type: ignore[no-untyped-def]
            yield "x"


def test_the_store_password_shows_nowhere_but_in_the_redis_client() -> None:
    config = load_config(
        {"defaults": {"limits": {"store": "redis://app:CANARY-limits%40pw@127.0.0.1:6379/2"}}},
        environ={},
    )
    limits = config.defaults.limits
    shown = [
        str(limits),
        repr(limits),
        repr(config.model_dump()),
        config.model_dump_json(),
        repr(config.defaults.model_dump(mode="json")),
    ]
    assert not [text for text in shown if "CANARY" in text]
    store = Limiter(config).store
    assert isinstance(store, RedisLimitStore)
    assert store._client.connection_pool.connection_kwargs["password"] == "CANARY-limits@pw"
