"""OpenAI chat completions, and every OpenAI-compatible server (vLLM, Ollama, xAI ...).

Streams ``chat.completions.create(stream=True, stream_options={"include_usage": True})`` of
``openai.AsyncOpenAI``. A compatible server is the same provider with ``base_url`` set.

Choices worth knowing:

- Completion: the SDK stops at ``data: [DONE]`` but also ends silently when the body simply
  stops, and does not say which happened. A chunk carrying ``finish_reason`` is therefore the
  closing event: without one the stream raises ``IncompleteStreamError``. (A body cut after
  the finish chunk but before the usage chunk still counts as complete: the text is whole.)
- Optional fields: ``choices`` may be empty (the usage chunk, Azure's prompt-filter chunk),
  ``delta`` absent and ``content`` null; unknown fields and SSE comments are ignored, and so
  is any chunk without choices or usage (the SDK turns an event of any name into a chunk).
  Usage is read from the last chunk that has one; without one ``usage`` is None.
- ``finish_reason: "content_filter"`` raises ``ContentFilterError`` after the text
  delivered so far.
- Credentials: with ``api_key`` and ``base_url`` unset the SDK reads ``OPENAI_API_KEY`` and
  ``OPENAI_BASE_URL`` itself. With an explicit ``base_url`` but no ``api_key`` the provider
  sends a placeholder key instead of ``OPENAI_API_KEY``, so an OpenAI key is never handed
  to a third-party or local server (which often needs no key at all).
- ``max_tokens`` is sent as ``max_completion_tokens`` to api.openai.com (reasoning models
  reject the deprecated name) and as ``max_tokens`` to compatible servers (which may not
  know the new one).
- ``response_format`` (JSON mode, JSON schema) is passed through unchanged.
- Content: a message that holds only text is sent as a string. Otherwise its content is a
  list of parts, in order: text → ``text``; an image → ``image_url`` with its URL, or a
  ``data:<mime>;base64,...`` URI of its bytes; audio → ``input_audio`` (base64 bytes and
  the part's ``format``); a document → ``file`` with a data URI as ``file_data`` and its
  ``name`` (or ``document.pdf``) as ``filename``. Assistant messages take text only, and
  audio and documents are sent as bytes only: a part that cannot be sent raises
  ``BadRequestError`` naming its ``source``, before anything is sent.
- Options (:data:`~.options.OPENAI_OPTIONS`): each is the ``chat.completions.create``
  keyword argument of the same name; ``extra_body`` is merged with the body fields the
  continuation mode adds (see :mod:`.options`).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import aclosing
from typing import TYPE_CHECKING, Any, ClassVar

from ..content import AudioPart, ImagePart, Part, TextPart, text_of
from ..errors import ProviderError
from ..events import ProviderEvent, Usage
from ..request import Message, Request
from .base import Provider, ProviderSettings
from .classify import incomplete_error, refusal_error
from .credentials import API_KEY_ENV_VARS
from .openai_responses import stream_responses
from .options import OPENAI_OPTIONS, check_options, extra_body, mapping_option
from .parts import base64_text, data_uri, media_content, part_error, text_only
from .sdk_errors import SdkErrorMapper
from .stream_reading import close_quietly, normalise_finish_reason

if TYPE_CHECKING:
    from openai import AsyncOpenAI
    from openai.types.completion_usage import CompletionUsage

__all__ = ["OpenAIProvider"]

_FINISH_REASONS = {
    "stop": "stop",
    "length": "length",
    "content_filter": "content_filter",
    "tool_calls": "tool_calls",
    "function_call": "tool_calls",
}
# Sent as the key to a configured base_url when no api_key is configured (see module doc).
_PLACEHOLDER_KEY = "no-key-configured"
_OFFICIAL_HOST = "api.openai.com"


class OpenAIProvider(Provider):
    """Streams OpenAI chat completions (or a compatible server's) as :class:`ProviderEvent`."""

    credential_env_vars: ClassVar[tuple[str, ...]] = API_KEY_ENV_VARS["openai"]

    def __init__(self, settings: ProviderSettings) -> None:
        super().__init__(settings)
        self._client: AsyncOpenAI | None = None

    async def stream(self, request: Request, model: str) -> AsyncGenerator[ProviderEvent, None]:
        if self.settings.api_for(model) == "responses":
            # The Responses API (see providers/openai_responses.py and openai_apis.py).
            async with aclosing(stream_responses(self, self._get_client, request, model)) as events:
                async for event in events:
                    yield event
            return
        chars = 0
        finish_reason: str | None = None
        usage: CompletionUsage | None = None
        sdk_stream = None
        failure: ProviderError | None = None
        try:
            client = self._get_client()
            official = client.base_url.host == _OFFICIAL_HOST
            sdk_stream = await client.chat.completions.create(
                **_create_kwargs(request, model, self.settings, official_api=official)
            )
            async for chunk in sdk_stream:
                choices = chunk.choices
                if choices:
                    choice = choices[0]
                    delta = choice.delta
                    text = delta.content if delta is not None else None
                    if text:
                        chars += len(text)
                        yield ProviderEvent(text=text)
                    if choice.finish_reason:
                        finish_reason = choice.finish_reason
                if chunk.usage is not None:
                    usage = chunk.usage
        except Exception as exc:
            failure = self.failure(exc, model, request)
        finally:
            if sdk_stream is not None:
                await close_quietly(sdk_stream.close)
        if failure is not None:
            raise failure
        if finish_reason is None:
            raise incomplete_error(self, model, "a finish_reason", chars)
        finish = normalise_finish_reason(finish_reason, _FINISH_REASONS)
        if finish == "content_filter":
            raise refusal_error(self, model, finish_reason, chars)
        yield ProviderEvent(
            usage=_usage(usage) if usage is not None else None, finish_reason=finish
        )

    def map_error(self, exc: BaseException, model: str) -> ProviderError:
        return _ERRORS.map_error(self, exc, model)

    async def _prepare(self) -> None:
        self._get_client()

    async def aclose(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.close()

    def _get_client(self) -> AsyncOpenAI:
        if self._client is None:
            self._client = self._make_client()
        return self._client

    def _make_client(self) -> AsyncOpenAI:
        import openai

        settings = self.settings
        api_key = settings.api_key.get_secret_value() if settings.api_key else None
        if api_key is None and settings.base_url is not None:
            api_key = _PLACEHOLDER_KEY
        return openai.AsyncOpenAI(
            api_key=api_key,
            base_url=settings.base_url,
            max_retries=0,
            timeout=openai.Timeout(None, connect=settings.connect_timeout),
            default_headers=settings.header_values() or None,
        )


def _create_kwargs(
    request: Request, model: str, settings: ProviderSettings, *, official_api: bool
) -> dict[str, Any]:
    """The arguments of ``chat.completions.create`` for ``request``."""
    options = check_options(settings, model, request.options)
    messages: list[dict[str, Any]] = []
    if request.system:
        messages.append({"role": "system", "content": request.system})
    messages.extend(_message(m, settings, model) for m in request.messages)
    kwargs: dict[str, Any] = {
        "model": model,
        "messages": messages,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    own_body: dict[str, Any] = {}
    if request.is_continuation:
        # The partial answer is the last message; see providers/continuation.py.
        mode = settings.continuation_mode
        if mode == "instruction":
            messages.append({"role": "user", "content": settings.continue_instruction})
        elif mode == "continue_final_message":
            own_body = {"continue_final_message": True, "add_generation_prompt": False}
    if request.temperature is not None:
        kwargs["temperature"] = request.temperature
    if request.max_tokens is not None:
        kwargs["max_completion_tokens" if official_api else "max_tokens"] = request.max_tokens
    if request.stop:
        kwargs["stop"] = list(request.stop)
    if request.response_format is not None:
        kwargs["response_format"] = request.response_format
    kwargs.update((name, options[name]) for name in _ARGUMENT_OPTIONS if name in options)
    body = extra_body(settings, model, options, own_body, kwargs.items())
    if body is not None:
        kwargs["extra_body"] = body
    for name in ("extra_headers", "extra_query"):
        value = mapping_option(settings, model, options, name, text=name == "extra_headers")
        if value is not None:
            kwargs[name] = value
    return kwargs


# Options passed to chat.completions.create as the keyword argument of the same name.
_ARGUMENT_OPTIONS = OPENAI_OPTIONS - {"extra_body", "extra_headers", "extra_query"}


def _message(message: Message, settings: ProviderSettings, model: str) -> dict[str, Any]:
    """``message`` as a chat message: a string content when it holds only text, else a
    list of content parts in order (only user messages may hold media)."""
    content = message.content
    if isinstance(content, str) or text_only(content):
        return {"role": message.role, "content": text_of(content)}
    parts = [_part(p, settings, model, message.role) for p in content]
    return {"role": message.role, "content": parts}


def _part(part: Part, settings: ProviderSettings, model: str, role: str) -> dict[str, Any]:
    """One content part of a chat message."""
    if isinstance(part, TextPart):
        return {"type": "text", "text": part.text}
    if role != "user":
        raise part_error(settings, model, part, "chat completions take media in user messages only")
    content = media_content(settings, model, part)
    if isinstance(part, ImagePart):
        url = data_uri(part.mime_type, content) if isinstance(content, bytes) else content
        return {"type": "image_url", "image_url": {"url": url}}
    if not isinstance(content, bytes):
        raise part_error(
            settings, model, part, f"chat completions take {part.type} as bytes, not a URL"
        )
    if isinstance(part, AudioPart):
        return {
            "type": "input_audio",
            "input_audio": {"data": base64_text(content), "format": part.format},
        }
    return {
        "type": "file",
        "file": {
            "file_data": data_uri(part.mime_type, content),
            "filename": part.name or _DOCUMENT_NAME,
        },
    }


# The file name sent with a document that has none (the API asks for one).
_DOCUMENT_NAME = "document.pdf"


def _usage(usage: CompletionUsage) -> Usage:
    return Usage.of(usage.prompt_tokens or 0, usage.completion_tokens or 0)


def _api_message(exc: Any) -> str:
    """The API's own error message when the body has one, else the SDK's."""
    body = exc.body
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        return str(body["message"])
    return str(exc.message or exc)


def _labels(exc: Any) -> tuple[object, ...]:
    return (exc.code, exc.type)


def _is_credentials_error(exc: BaseException) -> bool:
    import openai

    # Without any credential the SDK refuses to build its client ("Missing credentials. ...").
    return isinstance(exc, openai.OpenAIError) and "credentials" in str(exc)


_ERRORS = SdkErrorMapper(
    sdk="openai",
    message=_api_message,
    labels=_labels,
    is_credentials_error=_is_credentials_error,
)
