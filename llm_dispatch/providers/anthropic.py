"""Anthropic messages, streamed as raw events.

Streams ``messages.create(stream=True)`` of ``anthropic.AsyncAnthropic`` (the call's
arguments are :mod:`.anthropic_messages`'s, thinking is :mod:`.anthropic_thinking`'s) and
reads the raw events. The stream is complete only after ``message_stop``; a body that ends
before it raises ``IncompleteStreamError`` (the SDK itself ends silently). Events of other
types, and deltas of other types, are skipped; ``ping`` events are dropped before reading.

Reading: the provider's ``parser`` setting says who reads the stream (``fast`` unless set):
``sdk`` iterates the SDK's ``AsyncStream`` of raw event objects; ``fast`` lets the SDK send
the request and raise for an error status, then splits and parses the raw body itself
(:mod:`.anthropic_fast`), for the same events and errors at about half the CPU per event.
Either way :class:`~.anthropic_reader.MessageReader` reads the events by the rules below
(``read`` the SDK's objects, ``read_data`` their JSON objects).

Content blocks, by the type ``content_block_start`` gives them:

- ``text``: each ``text_delta`` is a text event;
- ``thinking``: each ``thinking_delta`` is a reasoning event (``reasoning``), and the
  block's ``signature_delta`` an event of its own (``reasoning_signature``);
- ``tool_use``: a tool call. ``content_block_start`` gives a :class:`ToolCallDelta` with the
  call's ``id`` and ``name``; each non-empty ``input_json_delta.partial_json`` is the next
  piece of its ``arguments``. A block that streams no arguments ends with the block's own
  ``input`` as JSON (``{}``). ``index`` counts the answer's tool calls, not its blocks;
- ``redacted_thinking``: thinking the API encrypted, an opaque ``data`` with no readable
  content. No event carries it (it is never text), so a later turn cannot send it back;
- others (server tools' blocks ...): skipped.

Usage: every count is optional. Prompt counts (``input_tokens`` plus the cache writes and
reads) come from ``message_start.message.usage`` and from ``message_delta.usage``, where
they are cumulative: each count the later event carries replaces the earlier one, and one
it leaves out keeps its value. Output tokens come from ``message_delta.usage`` only (the
count in ``message_start`` is a placeholder). ``cache_read_input_tokens`` is also
``cached_input_tokens`` and ``cache_creation_input_tokens`` ``cache_write_tokens``;
``reasoning_tokens`` stays 0: Anthropic counts thinking inside ``output_tokens`` and does
not report it apart. No count at all: ``usage`` is None.

``stop_reason: "tool_use"`` is the finish reason ``tool_calls``; ``stop_reason:
"refusal"`` raises ``ContentFilterError`` after the text delivered so far, with the
refusal's ``stop_details`` (category, explanation) in its message.

Credentials: with ``api_key`` / ``base_url`` unset the SDK resolves them itself
(``ANTHROPIC_API_KEY`` or ``ANTHROPIC_AUTH_TOKEN``, ``ANTHROPIC_BASE_URL``, profiles).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import aclosing
from typing import TYPE_CHECKING, Any, ClassVar

from ..errors import ProviderError
from ..events import ProviderEvent
from ..request import Request
from .anthropic_fast import fast_message_events
from .anthropic_messages import DEFAULT_MAX_TOKENS, JSON_INSTRUCTION, messages_call
from .anthropic_reader import MessageReader, refusal_detail
from .base import Provider, ProviderSettings
from .classify import incomplete_error, refusal_error
from .credentials import API_KEY_ENV_VARS
from .sdk_errors import SdkErrorMapper
from .stream_reading import close_quietly, normalise_finish_reason

if TYPE_CHECKING:
    from anthropic import AsyncAnthropic

__all__ = ["DEFAULT_MAX_TOKENS", "JSON_INSTRUCTION", "AnthropicProvider"]

_FINISH_REASONS = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
}


class AnthropicProvider(Provider):
    """Streams Anthropic messages as :class:`ProviderEvent`."""

    credential_env_vars: ClassVar[tuple[str, ...]] = API_KEY_ENV_VARS["anthropic"]

    def __init__(self, settings: ProviderSettings) -> None:
        super().__init__(settings)
        self._client: AsyncAnthropic | None = None

    async def stream(self, request: Request, model: str) -> AsyncGenerator[ProviderEvent, None]:
        reader: MessageReader | None = None
        sdk_stream = None
        failure: ProviderError | None = None
        try:
            call = messages_call(request, model, self.settings)
            reader = MessageReader(trim_leading_space=call.trims_leading_space)
            client = self._get_client()
            if self.settings.parser == "fast":
                # The raw body, split and parsed here (see providers/anthropic_fast.py).
                async with aclosing(fast_message_events(client, call.kwargs)) as events:
                    async for data in events:
                        out = reader.read_data(data)
                        if out is not None:
                            yield out
            else:
                sdk_stream = await client.messages.create(**call.kwargs)
                async for event in sdk_stream:
                    out = reader.read(event)
                    if out is not None:
                        yield out
        except Exception as exc:
            failure = self.failure(exc, model, request)
        finally:
            if sdk_stream is not None:
                await close_quietly(sdk_stream.close)
        if failure is not None:
            raise failure
        assert reader is not None
        if not reader.stopped:
            raise incomplete_error(self, model, "message_stop", reader.chars)
        finish = normalise_finish_reason(reader.stop_reason, _FINISH_REASONS)
        if finish == "content_filter":
            detail = refusal_detail(reader.stop_details)
            raise refusal_error(self, model, str(reader.stop_reason), reader.chars, detail)
        yield ProviderEvent(usage=reader.usage(), finish_reason=finish)

    def map_error(self, exc: BaseException, model: str) -> ProviderError:
        return _ERRORS.map_error(self, exc, model)

    async def _prepare(self) -> None:
        self._get_client()

    async def aclose(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.close()

    def _get_client(self) -> AsyncAnthropic:
        if self._client is None:
            self._client = self._make_client()
        return self._client

    def _make_client(self) -> AsyncAnthropic:
        import anthropic

        settings = self.settings
        return anthropic.AsyncAnthropic(
            api_key=settings.api_key.get_secret_value() if settings.api_key else None,
            base_url=settings.base_url,
            max_retries=0,
            timeout=anthropic.Timeout(None, connect=settings.connect_timeout),
            default_headers=settings.header_values() or None,
        )


def _api_message(exc: Any) -> str:
    """``error.message`` of the body when it has one, else the SDK's message."""
    return str(getattr(exc, "api_message", None) or exc)


def _labels(exc: Any) -> tuple[object, ...]:
    return (getattr(exc, "type", None), getattr(exc, "error_code", None))


def _is_credentials_error(exc: BaseException) -> bool:
    import anthropic

    # Without any credential the SDK raises a bare TypeError when it builds the headers.
    return isinstance(exc, anthropic.CredentialsError) or (
        isinstance(exc, TypeError) and "authentication method" in str(exc)
    )


_ERRORS = SdkErrorMapper(
    sdk="anthropic",
    message=_api_message,
    labels=_labels,
    is_credentials_error=_is_credentials_error,
)
