"""OpenAI chat completions, and every OpenAI-compatible server (vLLM, Ollama, xAI ...).

Streams ``chat.completions.create(stream=True, stream_options={"include_usage": True})`` of
``openai.AsyncOpenAI``. A compatible server is the same provider with ``base_url`` set.

Choices worth knowing:

- Reading: the provider's ``parser`` setting says who reads the stream: ``fast`` (the
  default) lets the SDK send the request and raise for an error status, then splits and
  parses the raw body itself (:mod:`.openai_fast`), for the same events and errors at a
  fraction of the CPU per chunk; ``sdk`` iterates the SDK's ``AsyncStream`` of
  ``ChatCompletionChunk`` s. Either way :class:`~.openai_chat_reader.ChatReader` turns the
  chunks into events. The setting applies to the Responses API alike
  (:mod:`.openai_responses`, its raw body read by :mod:`.openai_responses_fast`).

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
  ``BadRequestError`` naming its ``source``, before anything is sent (see
  :mod:`.openai_messages`, which also builds the tool and reasoning arguments).
- Tools: ``Request.tools`` as ``function`` tools, ``tool_choice`` auto / none / required
  as is and a tool's name as a named choice. An assistant turn's tool calls go in its
  ``tool_calls`` (arguments as JSON text); each result of a ``tool`` turn is a ``tool``
  message, a failed one's content prefixed with ``Error: `` (there is no error flag).
- Tool calls out: every ``delta.tool_calls`` piece is a ``ToolCallDelta`` (the call's id
  and name on its first delta); the legacy ``delta.function_call`` is call 0. The finish
  reasons ``tool_calls`` and ``function_call``, and ``stop`` after tool calls (some
  compatible servers send it), are ``"tool_calls"``.
- Reasoning: ``Request.reasoning`` is sent as ``reasoning_effort`` (a budget alone as the
  effort it stands for: ≤ 4096 tokens ``low``, ≤ 16384 ``medium``, else ``high``); a
  ``reasoning_effort`` option that says otherwise is refused. Reasoning parts are not sent
  back. Compatible servers stream reasoning in ``delta.reasoning_content`` or
  ``delta.reasoning``, fields the SDK keeps undeclared: they become reasoning events.
- Usage: ``prompt_tokens_details.cached_tokens`` and
  ``completion_tokens_details.reasoning_tokens`` (both already inside the prompt and
  completion counts).
- Options (:data:`~.options.OPENAI_OPTIONS`): each is the ``chat.completions.create``
  keyword argument of the same name; ``extra_body`` is merged with the body fields the
  continuation mode adds (see :mod:`.options`).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import aclosing
from typing import TYPE_CHECKING, Any, ClassVar

from ..errors import ProviderError
from ..events import ProviderEvent
from ..request import Request
from .base import Provider, ProviderSettings
from .credentials import API_KEY_ENV_VARS
from .openai_apis import OpenAIApi
from .openai_chat_reader import ChatReader
from .openai_fast import fast_chat_chunks
from .openai_messages import chat_messages, reasoning_effort, tool_arguments
from .openai_responses import stream_responses
from .options import OPENAI_OPTIONS, check_options, extra_body, mapping_option
from .sdk_errors import SdkErrorMapper
from .stream_reading import close_quietly

if TYPE_CHECKING:
    from openai import AsyncOpenAI

__all__ = ["OpenAIProvider"]

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
        if self._api_for(model) == "responses":
            # The Responses API (see providers/openai_responses.py and openai_apis.py).
            async with aclosing(stream_responses(self, self._get_client, request, model)) as events:
                async for event in events:
                    yield event
            return
        reader = ChatReader()
        sdk_stream = None
        failure: ProviderError | None = None
        try:
            client = self._get_client()
            official = self._takes_max_completion_tokens(client)
            kwargs = _create_kwargs(request, model, self.settings, official_api=official)
            if self.settings.parser == "fast":
                # The raw body, split and parsed here (see providers/openai_fast.py).
                async with aclosing(fast_chat_chunks(client, kwargs)) as chunks:
                    async for data in chunks:
                        for event in reader.read_data(data):
                            yield event
            else:
                sdk_stream = await client.chat.completions.create(**kwargs)
                async for chunk in sdk_stream:
                    for event in reader.read(chunk):
                        yield event
        except Exception as exc:
            failure = self.failure(exc, model, request)
        finally:
            if sdk_stream is not None:
                await close_quietly(sdk_stream.close)
        if failure is not None:
            raise failure
        yield reader.closing(self, model)

    def map_error(self, exc: BaseException, model: str) -> ProviderError:
        return _ERRORS.map_error(self, exc, model)

    def _api_for(self, model: str) -> OpenAIApi:
        """The OpenAI API ``model`` is sent to (see :mod:`.openai_apis`)."""
        return self.settings.api_for(model)

    def _takes_max_completion_tokens(self, client: AsyncOpenAI) -> bool:
        """Whether ``max_tokens`` goes as ``max_completion_tokens`` (OpenAI itself) or as
        ``max_tokens`` (compatible servers, which may not know the new name)."""
        return bool(client.base_url.host == _OFFICIAL_HOST)

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


# -- the request ------------------------------------------------------------------------------


def _create_kwargs(
    request: Request, model: str, settings: ProviderSettings, *, official_api: bool
) -> dict[str, Any]:
    """The arguments of ``chat.completions.create`` for ``request``."""
    options = check_options(settings, model, request.options)
    messages = chat_messages(request, settings, model)
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
    kwargs.update(tool_arguments(request, settings, model))
    kwargs.update((name, options[name]) for name in _ARGUMENT_OPTIONS if name in options)
    effort = reasoning_effort(request.reasoning, options, settings, model)
    if effort is not None:
        kwargs["reasoning_effort"] = effort
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
