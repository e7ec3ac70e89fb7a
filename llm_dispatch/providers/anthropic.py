"""Anthropic messages, streamed as raw events.

Streams ``messages.create(stream=True)`` of ``anthropic.AsyncAnthropic`` and reads the raw
events: text from ``content_block_delta`` / ``text_delta`` (of any content block), the stop
reason from ``message_delta``. The stream is complete only after ``message_stop``; a body
that ends before it raises ``IncompleteStreamError`` (the SDK itself ends silently). Events
of other types, and deltas of other types, are skipped; the SDK drops ``ping`` itself.

Usage: every count is optional. Prompt counts (``input_tokens`` plus the cache writes and
reads) come from ``message_start.message.usage`` and from ``message_delta.usage``, where
they are cumulative: each count the later event carries replaces the earlier one, and one
it leaves out keeps its value. Output tokens come from ``message_delta.usage`` only (the
count in ``message_start`` is a placeholder). No count at all: ``usage`` is None.

``stop_reason: "refusal"`` raises ``ContentFilterError`` after the text delivered so far,
with the refusal's ``stop_details`` (category, explanation) in its message.

Choices worth knowing:

- ``max_tokens`` is required by the API: ``request.max_tokens`` or 4096.
- ``temperature`` is no longer a parameter of ``messages.create`` in this SDK generation; the
  API still accepts it, so it travels in ``extra_body`` (only when the request sets one).
- A trailing assistant message is sent as is: Anthropic continues it (prefill).
- Content: a message that holds only text is sent as a string. Otherwise its content is a
  list of blocks, in order: text → ``text``; an image → ``image`` and a document →
  ``document``, each with a ``base64`` source (``media_type`` and base64 ``data``) for
  bytes or a ``url`` source for a URL. Anthropic takes no audio: an audio part raises
  ``BadRequestError`` naming its ``source``, before anything is sent.
- Options (:data:`~.options.ANTHROPIC_OPTIONS`): ``metadata``, ``service_tier`` and
  ``extra_headers`` / ``extra_query`` are ``messages.create`` keyword arguments;
  ``top_p`` and ``top_k``, like ``temperature``, travel in ``extra_body``, with which the
  ``extra_body`` option is merged (see :mod:`.options`).
- JSON mode: a ``json_schema`` response format uses the SDK's native structured output,
  ``output_config={"format": {"type": "json_schema", "schema": ...}}``. Native structured
  output needs a schema, so plain ``json_object`` mode adds a system instruction asking for
  a single JSON object and nothing else.
- Credentials: with ``api_key`` / ``base_url`` unset the SDK resolves them itself
  (``ANTHROPIC_API_KEY`` or ``ANTHROPIC_AUTH_TOKEN``, ``ANTHROPIC_BASE_URL``, profiles).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import TYPE_CHECKING, Any, ClassVar

from ..content import AudioPart, Content, ImagePart, Part, TextPart, text_of
from ..errors import ProviderError
from ..events import ProviderEvent, Usage
from ..request import Message, Request
from .base import Provider, ProviderSettings
from .classify import incomplete_error, refusal_error
from .credentials import API_KEY_ENV_VARS
from .options import ANTHROPIC_OPTIONS, check_options, extra_body, mapping_option
from .parts import base64_text, media_content, part_error, text_only
from .sdk_errors import SdkErrorMapper
from .stream_reading import close_quietly, normalise_finish_reason, update_counts

if TYPE_CHECKING:
    from anthropic import AsyncAnthropic

__all__ = ["DEFAULT_MAX_TOKENS", "JSON_INSTRUCTION", "AnthropicProvider"]

DEFAULT_MAX_TOKENS = 4096
JSON_INSTRUCTION = (
    "Respond with a single valid JSON object and nothing else: no prose, no code fences."
)

_FINISH_REASONS = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
}
# Every prompt token billed: fresh input plus cache writes and cache reads.
_PROMPT_COUNTS = ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")
_DELTA_COUNTS = (*_PROMPT_COUNTS, "output_tokens")


class AnthropicProvider(Provider):
    """Streams Anthropic messages as :class:`ProviderEvent`."""

    credential_env_vars: ClassVar[tuple[str, ...]] = API_KEY_ENV_VARS["anthropic"]

    def __init__(self, settings: ProviderSettings) -> None:
        super().__init__(settings)
        self._client: AsyncAnthropic | None = None

    async def stream(self, request: Request, model: str) -> AsyncGenerator[ProviderEvent, None]:
        chars = 0
        counts: dict[str, int] = {}
        stop_reason: str | None = None
        stop_details: object = None
        stopped = False
        sdk_stream = None
        failure: ProviderError | None = None
        # A continuation whose prefill lost its trailing whitespace: the consumer already has
        # that whitespace, so leading whitespace of the continuation is dropped, not repeated.
        trim_leading_space = _prefill_ends_in_space(request, self.settings)
        try:
            client = self._get_client()
            sdk_stream = await client.messages.create(
                **_create_kwargs(request, model, self.settings)
            )
            async for event in sdk_stream:
                kind = event.type
                # Text deltas are nearly every event: test for them first.
                if kind == "content_block_delta":
                    delta = event.delta
                    if delta.type == "text_delta" and delta.text:
                        text = delta.text
                        if trim_leading_space:
                            text = text.lstrip()
                            if not text:
                                continue
                            trim_leading_space = False
                        chars += len(text)
                        yield ProviderEvent(text=text)
                elif kind == "message_start":
                    update_counts(counts, getattr(event.message, "usage", None), _PROMPT_COUNTS)
                elif kind == "message_delta":
                    delta = event.delta
                    if getattr(delta, "stop_reason", None) is not None:
                        stop_reason = delta.stop_reason
                        stop_details = getattr(delta, "stop_details", None)
                    update_counts(counts, event.usage, _DELTA_COUNTS)
                elif kind == "message_stop":
                    stopped = True
        except Exception as exc:
            failure = self.failure(exc, model, request)
        finally:
            if sdk_stream is not None:
                await close_quietly(sdk_stream.close)
        if failure is not None:
            raise failure
        if not stopped:
            raise incomplete_error(self, model, "message_stop", chars)
        finish = normalise_finish_reason(stop_reason, _FINISH_REASONS)
        if finish == "content_filter":
            raise refusal_error(self, model, str(stop_reason), chars, _refusal_detail(stop_details))
        usage = None
        if counts:
            prompt = sum(counts.get(name, 0) for name in _PROMPT_COUNTS)
            usage = Usage.of(prompt, counts.get("output_tokens", 0))
        yield ProviderEvent(usage=usage, finish_reason=finish)

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


def _create_kwargs(request: Request, model: str, settings: ProviderSettings) -> dict[str, Any]:
    """The arguments of ``messages.create`` for ``request``."""
    options = check_options(settings, model, request.options)
    messages = [_message(m, settings, model) for m in request.messages]
    kwargs: dict[str, Any] = {
        "model": model,
        "max_tokens": request.max_tokens or DEFAULT_MAX_TOKENS,
        "messages": messages,
        "stream": True,
    }
    if request.is_continuation:
        if settings.continuation_mode == "instruction":
            messages.append({"role": "user", "content": settings.continue_instruction})
        else:
            # Prefill. The API rejects one that ends in whitespace; the stream then drops
            # the whitespace the continuation starts with (see _prefill_ends_in_space).
            _trim_prefill(messages[-1])
    schema, json_only = _json_format(request.response_format)
    system = request.system
    if json_only:
        system = f"{system}\n\n{JSON_INSTRUCTION}" if system else JSON_INSTRUCTION
    if system:
        kwargs["system"] = system
    if schema is not None:
        kwargs["output_config"] = {"format": {"type": "json_schema", "schema": schema}}
    if request.stop:
        kwargs["stop_sequences"] = list(request.stop)
    kwargs.update((name, options[name]) for name in _ARGUMENT_OPTIONS if name in options)
    # Body fields this SDK generation has no argument for.
    own_body: dict[str, Any] = {}
    if request.temperature is not None:
        own_body["temperature"] = request.temperature
    own_body.update((name, options[name]) for name in _BODY_OPTIONS if name in options)
    body = extra_body(settings, model, options, own_body, kwargs.items())
    if body is not None:
        kwargs["extra_body"] = body
    for name in ("extra_headers", "extra_query"):
        value = mapping_option(settings, model, options, name, text=name == "extra_headers")
        if value is not None:
            kwargs[name] = value
    return kwargs


# Options sent as body fields of the same name in extra_body (no messages.create argument
# takes them), and the ones passed as the keyword argument of the same name.
_BODY_OPTIONS = frozenset({"top_p", "top_k"})
_ARGUMENT_OPTIONS = (
    ANTHROPIC_OPTIONS - _BODY_OPTIONS - {"extra_body", "extra_headers", "extra_query"}
)


def _message(message: Message, settings: ProviderSettings, model: str) -> dict[str, Any]:
    """``message`` as a message param: a string content when it holds only text, else a
    list of content blocks in order."""
    content = message.content
    if isinstance(content, str) or text_only(content):
        return {"role": message.role, "content": text_of(content)}
    return {"role": message.role, "content": [_block(p, settings, model) for p in content]}


def _block(part: Part, settings: ProviderSettings, model: str) -> dict[str, Any]:
    """One content block."""
    if isinstance(part, TextPart):
        return {"type": "text", "text": part.text}
    if isinstance(part, AudioPart):
        raise part_error(settings, model, part, "Anthropic messages take no audio")
    content = media_content(settings, model, part)
    if isinstance(content, bytes):
        source = {"type": "base64", "media_type": part.mime_type, "data": base64_text(content)}
    else:
        source = {"type": "url", "url": content}
    return {"type": "image" if isinstance(part, ImagePart) else "document", "source": source}


def _trim_prefill(message: dict[str, Any]) -> None:
    """Strip the trailing whitespace of a prefill message (its last block, when a list)."""
    content = message["content"]
    if isinstance(content, str):
        message["content"] = content.rstrip()
    elif content and content[-1]["type"] == "text":
        content[-1] = {**content[-1], "text": content[-1]["text"].rstrip()}


def _prefill_ends_in_space(request: Request, settings: ProviderSettings) -> bool:
    if not request.is_continuation or settings.continuation_mode != "prefill":
        return False
    tail = _trailing_text(request.messages[-1].content)
    return tail != tail.rstrip()


def _trailing_text(content: Content) -> str:
    """The text a message ends with: all of it, or its last part when that is text (what
    :func:`_trim_prefill` strips)."""
    if isinstance(content, str) or text_only(content):
        return text_of(content)
    last = content[-1]
    return last.text if isinstance(last, TextPart) else ""


def _json_format(response_format: dict[str, Any] | None) -> tuple[dict[str, Any] | None, bool]:
    """(JSON schema for native structured output, whether plain JSON mode was asked for)."""
    if not response_format:
        return None, False
    kind = response_format.get("type")
    if kind == "json_schema":
        spec = response_format.get("json_schema") or {}
        schema = spec.get("schema") if isinstance(spec, dict) else None
        schema = schema or response_format.get("schema")
        if isinstance(schema, dict):
            return schema, False
        return None, True
    return None, kind == "json_object"


def _refusal_detail(stop_details: object) -> str:
    """``category: explanation`` of a refusal's ``stop_details``, as far as it has them."""
    parts = (getattr(stop_details, "category", None), getattr(stop_details, "explanation", None))
    return ": ".join(str(part) for part in parts if part)


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
