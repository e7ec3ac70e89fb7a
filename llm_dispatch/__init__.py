"""llm_dispatch: stream from OpenAI, Anthropic, Gemini or any OpenAI-compatible server through
one decorator, under retry, fallback and timeout policies.

    from llm_dispatch import llm_stream, TaskType

    @llm_stream(task_type=TaskType.TEXT_GENERATION, providers=["openai"], model="gpt-4o-mini")
    async def stream_text(prompt: str):
        yield "offline stand-in"

    async for chunk in stream_text("Write a story"):
        print(chunk, end="")

Importing this package imports no provider SDK; each is imported when first used.
"""

from .batch import BatchChunk, TaskRequest
from .budget_errors import BudgetExceeded
from .callbacks.langchain import StreamHandler
from .callbacks.styles import EventCallbacks, StreamingCallbacks
from .chunk import ChunkMetadata
from .client import Client, SteerLLMClient
from .client_options import StreamingOptions
from .context import StreamContext
from .decorators import llm_stream, llm_stream_with_metadata
from .dispatcher import CallOptions, Dispatcher
from .errors import (
    AllProvidersFailed,
    ConfigError,
    InvalidJSONError,
    LLMDispatchError,
    NoProviderAvailable,
    ProviderError,
    RequestBindingError,
    StreamingError,
    StreamInterrupted,
    StreamTimeout,
)
from .events import Usage
from .global_dispatcher import configure, get_dispatcher
from .ledger import Ledger, LedgerEntry
from .limit_errors import LimitReached
from .output_errors import InvalidToolCallError, StructuredOutputError
from .progress.tracker import ProgressTracker
from .request import Message, Reasoning, Request
from .result import DispatchStream
from .stages.base import Stage
from .switch import Switch, get_global_switch
from .task_types import TaskType
from .tool_loop import ToolLoop, ToolLoopError, run_tools
from .tools import Tool, ToolCall, tool_from

__version__ = "0.1.0"

__all__ = [
    "AllProvidersFailed",
    "BatchChunk",
    "BudgetExceeded",
    "CallOptions",
    "ChunkMetadata",
    "Client",
    "ConfigError",
    "DispatchStream",
    "Dispatcher",
    "EventCallbacks",
    "InvalidJSONError",
    "InvalidToolCallError",
    "LLMDispatchError",
    "Ledger",
    "LedgerEntry",
    "LimitReached",
    "Message",
    "NoProviderAvailable",
    "ProgressTracker",
    "ProviderError",
    "Reasoning",
    "Request",
    "RequestBindingError",
    "Stage",
    "SteerLLMClient",
    "StreamContext",
    "StreamHandler",
    "StreamInterrupted",
    "StreamTimeout",
    "StreamingCallbacks",
    "StreamingError",
    "StreamingOptions",
    "StructuredOutputError",
    "Switch",
    "TaskRequest",
    "TaskType",
    "Tool",
    "ToolCall",
    "ToolLoop",
    "ToolLoopError",
    "Usage",
    "__version__",
    "configure",
    "get_dispatcher",
    "get_global_switch",
    "llm_stream",
    "llm_stream_with_metadata",
    "run_tools",
    "tool_from",
]
