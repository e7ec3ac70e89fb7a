"""Alias module: ``from llm_dispatch.exceptions import StreamingError, ProviderError`` (the
seed documents' import path) works as well as ``llm_dispatch.errors``."""

from .errors import *  # noqa: F403
from .errors import __all__  # noqa: F401
