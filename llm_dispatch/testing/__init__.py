"""Test support: a fake provider server speaking the real streaming wire formats."""

from .logs import capture_events
from .script import RecordedRequest, Script, ScriptedToolCall, default_reply, split_words
from .server import FakeProviderServer

__all__ = [
    "FakeProviderServer",
    "RecordedRequest",
    "Script",
    "ScriptedToolCall",
    "capture_events",
    "default_reply",
    "split_words",
]
