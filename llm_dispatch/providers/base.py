"""What every provider implements: one request in, normalised events out."""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import AsyncGenerator
from typing import Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationInfo,
    field_validator,
    model_validator,
)

from ..errors import ProviderError, ProviderTimeoutError, UpstreamError
from ..events import ProviderEvent
from ..redaction import redact, secret_values
from ..request import Request
from ..urls import base_url_problem
from .classify import is_connect_timeout
from .continuation import CONTINUE_INSTRUCTION, DEFAULT_CONTINUATION, ContinuationMode
from .credentials import has_credentials
from .kinds import base_kind, cloud_field_problems
from .openai_apis import OpenAIApi, openai_api_for

__all__ = [
    "FAST_PARSER_KINDS",
    "STREAM_PARSERS",
    "ModelPrice",
    "Provider",
    "ProviderSettings",
    "StreamParser",
]

#: How a provider's stream is read: by its SDK, or (kinds ``openai``, both APIs,
#: ``anthropic`` and ``google``) by the library's own SSE and JSON parsing.
StreamParser = Literal["sdk", "fast"]
STREAM_PARSERS: tuple[StreamParser, ...] = ("sdk", "fast")
#: The provider kinds whose streams the library can read itself (``parser: fast``): the
#: cloud kinds that stream server-sent events too (not ``anthropic_bedrock``, whose stream is
#: AWS's binary event stream).
FAST_PARSER_KINDS: frozenset[str] = frozenset(
    {"openai", "anthropic", "google", "azure_openai", "google_vertex", "anthropic_vertex"}
)


class ModelPrice(BaseModel):
    """USD per one million tokens: input, output, and input read from (``cached_input``)
    or written to (``cache_write``) the provider's prompt cache. Without their own price,
    cached and cache-written tokens cost ``input``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    input: float = Field(
        ge=0,
        description="USD per 1M input tokens neither read from nor written to the "
        "provider's prompt cache.",
    )
    output: float = Field(ge=0, description="USD per 1M output tokens, reasoning tokens included.")
    cached_input: float | None = Field(
        default=None,
        ge=0,
        description="USD per 1M input tokens read from the provider's prompt cache; unset: "
        "the input price.",
    )
    cache_write: float | None = Field(
        default=None,
        ge=0,
        description="USD per 1M input tokens written to the provider's prompt cache; unset: "
        "the input price.",
    )


class ProviderSettings(BaseModel):
    """How to reach one configured provider.

    ``name`` is what routes and decorators use (``openai``, ``vllm``, ``grok`` ...); ``kind``
    selects the implementation (``openai`` for any OpenAI-compatible server).
    ``api_key`` / ``base_url`` left unset mean: the SDK's usual environment variables.
    ``base_url`` follows the rules of :func:`~llm_dispatch.urls.base_url_problem`.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    name: str
    kind: str
    api_key: SecretStr | None = None
    base_url: str | None = None
    #: Let ``base_url`` name a link-local address or a cloud metadata endpoint.
    allow_link_local: bool = False
    models: tuple[str, ...] = ()
    default_model: str | None = None
    prices: dict[str, ModelPrice] = Field(default_factory=dict)
    # Seconds to establish the TCP/TLS connection; the SDK's own read timeout is disabled
    # because the dispatcher enforces first-token / idle / total deadlines itself.
    connect_timeout: float = Field(default=10.0, gt=0)
    #: Sent with every request; the values are secret (see :meth:`header_values`).
    extra_headers: dict[str, SecretStr] = Field(default_factory=dict)
    #: How this provider is asked to continue a partial answer (None: its kind's default;
    #: see :mod:`.continuation`), and the instruction ``instruction`` mode sends.
    continuation: ContinuationMode | None = None
    continuation_instruction: str | None = None
    #: Kind ``openai`` only: the API its models are sent to (None: chat completions), and
    #: per model; see :mod:`.openai_apis` and :meth:`api_for`.
    api: OpenAIApi | None = None
    model_api: dict[str, OpenAIApi] = Field(default_factory=dict)
    #: How a stream is read: by the SDK, or by the library's own parser (``fast``, for the
    #: kinds in :data:`FAST_PARSER_KINDS`; see :mod:`.openai_fast`,
    #: :mod:`.openai_responses_fast`, :mod:`.anthropic_fast` and :mod:`.google_fast`).
    #: Unset: ``fast`` for those kinds, ``sdk`` for the others.
    parser: StreamParser | None = Field(default=None, validate_default=True)
    #: The cloud kinds' fields (see :mod:`.kinds`): Azure's API version and deployment,
    #: Vertex AI's project, location and access token, Bedrock's AWS region.
    api_version: str | None = None
    deployment: str | None = None
    project: str | None = None
    location: str | None = None
    region: str | None = None
    access_token: SecretStr | None = None

    @property
    def continuation_mode(self) -> ContinuationMode:
        return self.continuation or DEFAULT_CONTINUATION.get(base_kind(self.kind), "prefill")

    @property
    def continue_instruction(self) -> str:
        return self.continuation_instruction or CONTINUE_INSTRUCTION

    @model_validator(mode="after")
    def _usable_base_url(self) -> ProviderSettings:
        if self.base_url is not None:
            problem = base_url_problem(self.base_url, allow_link_local=self.allow_link_local)
            if problem is not None:
                raise ValueError(problem)
        return self

    @model_validator(mode="after")
    def _cloud_fields(self) -> ProviderSettings:
        # The fields a kind needs are the configuration's to require (with file and line);
        # a provider built without them says so when it first builds its client.
        values = {key: getattr(self, key) for key in type(self).model_fields}
        problems = cloud_field_problems(self.kind, values, has_model=True, required=False)
        if problems:
            raise ValueError("; ".join(f"{key}: {message}" for key, message in problems))
        return self

    @model_validator(mode="after")
    def _api_for_openai_only(self) -> ProviderSettings:
        if self.kind != "openai" and (self.api is not None or self.model_api):
            raise ValueError(f"a provider of kind {self.kind!r} takes no api or model_api")
        return self

    @field_validator("parser")
    @classmethod
    def _parser_of_the_kind(cls, value: StreamParser | None, info: ValidationInfo) -> StreamParser:
        if value is not None:
            return value
        return "fast" if info.data.get("kind") in FAST_PARSER_KINDS else "sdk"

    @model_validator(mode="after")
    def _fast_parser_for_fast_kinds_only(self) -> ProviderSettings:
        if self.parser == "fast" and self.kind not in FAST_PARSER_KINDS:
            raise ValueError(f"a provider of kind {self.kind!r} takes no parser {self.parser!r}")
        return self

    def api_for(self, model: str) -> OpenAIApi:
        """The OpenAI API ``model`` is sent to (kind ``openai``): see :mod:`.openai_apis`."""
        return openai_api_for(model, api=self.api, model_api=self.model_api, base_url=self.base_url)

    @property
    def model(self) -> str | None:
        return self.default_model or (self.models[0] if self.models else None)

    def header_values(self) -> dict[str, str]:
        """``extra_headers`` with their real values: for the SDK client only."""
        return {name: value.get_secret_value() for name, value in self.extra_headers.items()}


class Provider(ABC):
    """One configured provider.

    :meth:`stream` is an async generator of :class:`ProviderEvent`. It must

    - end normally only after the provider's closing event (finish reason / ``[DONE]`` /
      ``message_stop``); a body that ends without it raises ``IncompleteStreamError``;
    - raise only :class:`ProviderError` subclasses (mapped from whatever the SDK raised,
      through :meth:`failure`, so no SDK exception is chained);
    - close the HTTP response when the generator is closed early (``aclose()``).

    SDK clients are created lazily, by :meth:`prepare`, and reused; the SDK's own retries
    are off.
    """

    def __init__(self, settings: ProviderSettings) -> None:
        self.settings = settings
        self.name = settings.name

    @abstractmethod
    def stream(self, request: Request, model: str) -> AsyncGenerator[ProviderEvent, None]:
        """Open the provider stream for ``request`` on ``model``."""

    @abstractmethod
    def map_error(self, exc: BaseException, model: str) -> ProviderError:
        """Turn anything the SDK raised into the matching :class:`ProviderError`."""

    def failure(
        self, exc: BaseException, model: str, request: Request | None = None
    ) -> ProviderError:
        """:meth:`map_error` for ``exc``, chained to an :class:`UpstreamError` stand-in.

        The SDK exception itself is dropped: its text and its attributes (the request, the
        response body) can hold a key or a header value. Raise the result outside the
        ``except`` block that caught ``exc``, so that it is not the implicit context either.
        With ``request``, the values of its secret-named options (``extra_headers``) are
        scrubbed from the message too.
        """
        error = self.map_error(exc, model)
        call_secrets = secret_values(request.options) if request is not None else ()
        if call_secrets:
            error.message = redact(error.message, call_secrets)
            error.args = (error.message,)
        if error is not exc:
            if (
                isinstance(error, ProviderTimeoutError)
                and error.limit is None
                and is_connect_timeout(exc)
            ):
                error.limit, error.seconds = "connect", self.settings.connect_timeout
            cause = UpstreamError.of(exc)
            error.request_id = error.request_id or cause.request_id
            error.__cause__ = cause
        return error

    async def prepare(self) -> None:
        """Import the SDK and build its client, if not done yet.

        The dispatcher calls this before it starts the connect and first-token clocks, so
        those deadlines time the provider, not this set-up (about a second on a cold
        process). Raises :class:`ProviderError`, e.g. when the SDK refuses its credentials.
        """
        failure: ProviderError | None = None
        try:
            await self._prepare()
        except ProviderError:
            raise
        except Exception as exc:
            failure = self.failure(exc, self.settings.model or "")
        if failure is not None:
            raise failure

    async def _prepare(self) -> None:
        """Build what :meth:`stream` needs (the SDK client); nothing by default."""
        return None

    async def aclose(self) -> None:
        """Release the SDK client's connections."""
        return None

    #: Environment variables the SDK reads its key from when none is configured (its
    #: kind's :data:`~.credentials.API_KEY_ENV_VARS`); their values are scrubbed from errors.
    credential_env_vars: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def has_credentials(cls, settings: ProviderSettings) -> bool:
        """Whether ``settings`` give the provider a key, or need none: the rule of
        :func:`.credentials.has_credentials`, with the process environment."""
        return has_credentials(settings)

    def secrets(self) -> tuple[str, ...]:
        """Every key this provider may send, configured or from the environment, and every
        configured header value: what error messages are scrubbed of."""
        keys = (self.settings.api_key, self.settings.access_token)
        configured = tuple(key.get_secret_value() for key in keys if key is not None)
        headers = self.settings.header_values().values()
        from_env = (os.environ.get(v, "") for v in self.credential_env_vars)
        return (*configured, *(h for h in headers if h), *(s for s in from_env if s))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, base_url={self.settings.base_url!r})"

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.settings.kind, "base_url": self.settings.base_url}
