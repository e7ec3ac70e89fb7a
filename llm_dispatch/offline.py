"""The offline switch: ``LLM_DISPATCH_FAKE=1`` serves every SDK provider from the built-in
fake provider server.

With the switch on, a :class:`~llm_dispatch.dispatcher.Dispatcher` points every provider of
kind ``openai``, ``anthropic`` or ``google`` (compatible servers included) at one fake server
that runs in this process, on 127.0.0.1, started on the first stream and stopped at exit,
and sends a placeholder key. The official SDKs still do real HTTP, so decorated functions,
the client and the command line stream offline exactly as they would online. One warning on
stderr says so.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING

from pydantic import SecretStr

from .errors import ConfigError
from .log import get_logger
from .providers.kinds import CLOUD_FIELDS

if TYPE_CHECKING:
    from .providers.base import ProviderSettings

__all__ = [
    "FAKE_API_KEY",
    "FAKE_ENV_VAR",
    "OFFLINE_HINT",
    "fake_mode_requested",
    "faked_settings",
]

log = get_logger(__name__)

#: The variable that turns the offline switch on.
FAKE_ENV_VAR = "LLM_DISPATCH_FAKE"
#: The key sent to the fake server (it accepts any).
FAKE_API_KEY = "llm-dispatch-fake-key"
#: How errors that find no usable provider point at the switch.
OFFLINE_HINT = (
    f"To stream offline without API keys, set {FAKE_ENV_VAR}=1 "
    "(the built-in fake provider server on 127.0.0.1)."
)

_ON = frozenset({"1", "true", "yes", "on"})
_OFF = frozenset({"", "0", "false", "no", "off"})
_announced = threading.Event()


def fake_mode_requested(environ: Mapping[str, str] | None = None) -> bool:
    """Whether ``LLM_DISPATCH_FAKE`` asks for the fake server (``1``/``true``/``yes``/``on``).

    Any other value than those or ``0``/``false``/``no``/``off``/empty is a
    :class:`ConfigError`, so a typo cannot silently send requests to the real providers.
    """
    env = os.environ if environ is None else environ
    value = env.get(FAKE_ENV_VAR, "").strip().lower()
    if value in _ON:
        return True
    if value in _OFF:
        return False
    raise ConfigError(
        f"{FAKE_ENV_VAR}={env.get(FAKE_ENV_VAR)!r} is neither on (1, true, yes, on) "
        "nor off (0, false, no, off, empty)"
    )


def faked_settings(settings: ProviderSettings) -> ProviderSettings:
    """``settings`` pointed at this process's fake server (started now if needed)."""
    from .testing.background import shared_fake_server

    server = shared_fake_server()
    if not _announced.is_set():
        _announced.set()
        log.warning(
            "offline.fake_server",
            detail=f"{FAKE_ENV_VAR} is on: every provider is served by the built-in fake "
            "provider server, not the real API",
            url=server.url,
        )
    # The Vertex AI kinds take the fake key as their access token, so that no credential
    # chain is asked.
    fake_key = SecretStr(FAKE_API_KEY)
    update = {"base_url": server.base_url_for(settings.kind), "api_key": fake_key}
    if settings.kind in CLOUD_FIELDS["access_token"]:
        update = {**update, "api_key": None, "access_token": fake_key}
    return settings.model_copy(update=update)
