"""Alias module: ``from llm_dispatch.exceptions import StreamingError, ProviderError`` works
as well as ``llm_dispatch.errors``, for code written against that import path."""

from .errors import *  # noqa: F403
from .errors import __all__  # noqa: F401
