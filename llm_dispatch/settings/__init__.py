"""The dispatch configuration: pydantic models, ``${VAR}`` interpolation and the loader.

- :mod:`.models`: :class:`DispatchConfig`, the whole configuration, and the lookups on it;
  the models of its sections are in :mod:`.providers` (``providers:``), :mod:`.routes`
  (``routes:``) and :mod:`.policies` (``defaults:``);
- :mod:`.loader`: :func:`load_config`, which finds a source, reads it with :mod:`.parsing`
  (YAML with line numbers, bounded expansion), substitutes ``${VAR}`` references
  (:mod:`.interpolation`) and validates it, every problem becoming one
  :class:`~llm_dispatch.errors.ConfigError` with its file, line and key path; and
  :func:`default_config_path`, the file it reads when given no source;
- :mod:`.problems` and :mod:`.paths`: what validators report, and how key paths and name
  suggestions are written in messages.
"""

from .loader import CONFIG_ENV_VAR, DEFAULT_CONFIG_PATH, default_config_path, load_config
from .models import (
    CircuitSettings,
    DispatchConfig,
    PolicySettings,
    ProviderConfig,
    RetrySettings,
    RouteConfig,
    RouteTarget,
    TimeoutOverride,
    TimeoutSettings,
)

__all__ = [
    "CONFIG_ENV_VAR",
    "DEFAULT_CONFIG_PATH",
    "CircuitSettings",
    "DispatchConfig",
    "PolicySettings",
    "ProviderConfig",
    "RetrySettings",
    "RouteConfig",
    "RouteTarget",
    "TimeoutOverride",
    "TimeoutSettings",
    "default_config_path",
    "load_config",
]
