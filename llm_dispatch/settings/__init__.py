"""The dispatch configuration: pydantic models, ``${VAR}`` interpolation and the loader."""

from .loader import CONFIG_ENV_VAR, DEFAULT_CONFIG_PATH, load_config
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
    "load_config",
]
