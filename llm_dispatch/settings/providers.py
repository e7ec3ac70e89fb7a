"""The provider entries of the configuration (``providers:``).

:class:`ProviderConfig` is one entry: its kind, key, endpoint, models, prices, model
capabilities (:mod:`.capabilities`) and continuation settings, checked against each other
when it is built. Unset ``api_key`` and
``base_url`` mean the SDK's environment variables (:data:`API_KEY_ENV_VARS`,
:data:`BASE_URL_ENV_VARS`). :func:`builtin_providers` gives the entries used when there is no
configuration file.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    field_validator,
    model_validator,
)

from ..errors import ConfigProblems
from ..providers.base import FAST_PARSER_KINDS, ModelPrice, ProviderSettings, StreamParser
from ..providers.continuation import CONTINUATION_MODES, ContinuationMode
from ..providers.credentials import API_KEY_ENV_VARS, BASE_URL_ENV_VARS, no_credentials_reason
from ..providers.function import FUNCTION_MODEL, FUNCTION_PROVIDER
from ..providers.kinds import CLOUD_FIELDS, base_kind
from ..providers.openai_apis import OpenAIApi
from ..urls import base_url_problem
from .capabilities import Capabilities, ModelCapabilities, resolve_capabilities
from .cloud import CLOUD_FIELD_DESCRIPTIONS as _CLOUD
from .cloud import cloud_problems
from .limits import ProviderLimits
from .paths import did_you_mean
from .policies import TimeoutOverride, TimeoutSettings
from .problems import ConfigProblem

__all__ = [
    "API_KEY_ENV_VARS",
    "BASE_URL_ENV_VARS",
    "FUNCTION_MODEL",
    "FUNCTION_PROVIDER",
    "ProviderConfig",
    "ProviderKind",
]

ProviderKind = Literal[
    "openai",
    "anthropic",
    "google",
    "function",
    "azure_openai",
    "google_vertex",
    "anthropic_vertex",
    "anthropic_bedrock",
]


class ProviderConfig(BaseModel):
    """One provider entry. ``api_key`` / ``base_url`` unset mean: the SDK's environment
    variables (:data:`API_KEY_ENV_VARS`, :data:`BASE_URL_ENV_VARS`, defined in
    :mod:`llm_dispatch.providers.credentials`)."""

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    kind: ProviderKind = Field(
        description="The implementation: openai (also any OpenAI-compatible server: vLLM, "
        "Ollama, LM Studio), anthropic, google, function (the decorated body), or a cloud "
        "kind: azure_openai, google_vertex, anthropic_vertex, anthropic_bedrock."
    )
    enabled: bool = Field(default=True, description="false keeps the entry but never routes to it.")
    api_key: SecretStr | None = Field(
        default=None,
        description="The provider's API key; unset: the SDK's key variable (OPENAI_API_KEY, "
        "ANTHROPIC_API_KEY or ANTHROPIC_AUTH_TOKEN, GEMINI_API_KEY or GOOGLE_API_KEY, "
        "AZURE_OPENAI_API_KEY, AWS_BEARER_TOKEN_BEDROCK; the Vertex AI kinds take none). An "
        "unset ${VAR} here disables the provider instead of failing the file. Secret: "
        "never in reprs, logs or errors.",
    )
    base_url: str | None = Field(
        default=None,
        description="The endpoint; unset: the SDK's default or its base-URL variable. Must "
        "be http(s) with a host, no credentials, no whitespace, and no link-local or cloud "
        "metadata address unless allow_link_local.",
    )
    allow_link_local: bool = Field(
        default=False,
        description="Let base_url name a link-local address or a cloud metadata endpoint.",
    )
    models: list[str] = Field(
        default_factory=list,
        description="The models this provider may be asked for; empty means any. When "
        "non-empty, route targets, default_model, prices, capabilities and model_api keys "
        "must be in it.",
    )
    default_model: str | None = Field(
        default=None,
        description="The model of a target that names only the provider; unset: the first "
        "of models (body for kind function).",
    )
    prices: dict[str, ModelPrice] = Field(
        default_factory=dict,
        description="Per model, USD per one million tokens; used for cost_usd and by the "
        "cost strategy.",
    )
    capabilities: dict[str, ModelCapabilities] = Field(
        default_factory=dict,
        description="Per model, what it takes (modalities, context window); a model or key "
        "left out follows the kind's built-in family table.",
    )
    timeouts: TimeoutOverride | None = Field(
        default=None,
        description="This provider's deadlines over defaults.timeouts; only the keys written "
        "count.",
    )
    weight: float = Field(
        default=1.0,
        ge=0,
        description="Share of traffic under the weighted strategy when the route target "
        "gives no weight of its own.",
    )
    extra_headers: dict[str, SecretStr] = Field(
        default_factory=dict,
        description="Headers sent with every request. The values are secrets (masked in "
        "reprs, dumps and errors, scrubbed from provider messages); the names are not.",
    )
    continuation: ContinuationMode | None = Field(
        default=None,
        description="How this provider continues a partial answer under `mid_stream: "
        "continue`: prefill, continue_final_message (vLLM) or instruction; unset: prefill "
        "for anthropic, instruction for openai and google.",
    )
    continuation_instruction: str | None = Field(
        default=None,
        min_length=1,
        description="The user message instruction continuations send after the partial "
        "answer; unset: the built-in text.",
    )
    api: OpenAIApi | None = Field(
        default=None,
        description="Kind openai only: the API its models are sent to, chat (completions) or "
        "responses; unset: chat, except, on OpenAI itself, the models served only through "
        "the Responses API.",
    )
    model_api: dict[str, OpenAIApi] = Field(
        default_factory=dict,
        description="Kind openai only: the API per model (chat or responses), over api and "
        "the built-in rule.",
    )
    parser: StreamParser | None = Field(
        default=None,
        description="How the provider's streams are read: fast (the raw body split and parsed "
        "by the library, the same events and errors at a fraction of the CPU per chunk) or "
        "sdk (the SDK's own stream). Kinds openai (chat completions and the Responses API), "
        "anthropic, google and the cloud kinds but anthropic_bedrock take fast; unset: fast "
        "for them, sdk for the others.",
    )
    api_version: str | None = Field(default=None, description=_CLOUD["api_version"])
    deployment: str | None = Field(default=None, description=_CLOUD["deployment"])
    project: str | None = Field(default=None, description=_CLOUD["project"])
    location: str | None = Field(default=None, description=_CLOUD["location"])
    region: str | None = Field(default=None, description=_CLOUD["region"])
    access_token: SecretStr | None = Field(default=None, description=_CLOUD["access_token"])

    limits: ProviderLimits | None = Field(
        default=None,
        description="Rate and concurrency limits of this provider's requests, and per model "
        "under models:; checked when each request is sent.",
    )

    # Set by the loader when ``api_key`` referenced an unset variable: the provider is then
    # disabled rather than the whole configuration rejected.
    _missing_key_variable: str | None = PrivateAttr(default=None)

    @field_validator("api_key", mode="before")
    @classmethod
    def _empty_key_is_unset(cls, value: Any) -> Any:
        # ``${KEY:-}`` yields "": treat it as "not configured", like an absent key.
        return None if value == "" else value

    @model_validator(mode="after")
    def _consistent(self) -> ProviderConfig:
        problems: list[ConfigProblem] = []
        if self.base_url is not None:
            problem = base_url_problem(self.base_url, allow_link_local=self.allow_link_local)
            if problem is not None:
                problems.append(ConfigProblem(("base_url",), problem))
        if self.continuation is not None and self.kind != FUNCTION_PROVIDER:
            modes = CONTINUATION_MODES[base_kind(self.kind)]
            if self.continuation not in modes:
                problems.append(
                    ConfigProblem(
                        ("continuation",),
                        f"a provider of kind {self.kind!r} cannot continue with "
                        f"{self.continuation!r} (it takes: {', '.join(modes)})",
                    )
                )
        if self.kind != "openai":
            for key in ("api", "model_api"):
                if getattr(self, key):
                    problems.append(
                        ConfigProblem(
                            (key,),
                            f"a provider of kind {self.kind!r} takes no {key} (only kind "
                            "'openai' chooses between chat completions and the Responses API)",
                        )
                    )
        values = {key: getattr(self, key) for key in (*CLOUD_FIELDS, "api_key")}
        problems += cloud_problems(self.kind, values, has_model=bool(self.resolved_model()))
        if self.parser == "fast" and self.kind not in FAST_PARSER_KINDS:
            problems.append(
                ConfigProblem(
                    ("parser",),
                    f"a provider of kind {self.kind!r} takes no parser {self.parser!r} (the "
                    f"kinds with a fast parser: {', '.join(sorted(FAST_PARSER_KINDS))})",
                )
            )
        if self.kind == FUNCTION_PROVIDER:
            for key in (
                "api_key",
                "base_url",
                "continuation",
                "continuation_instruction",
                "limits",
            ):
                if getattr(self, key) is not None:
                    problems.append(
                        ConfigProblem((key,), f"a provider of kind 'function' takes no {key}")
                    )
            if self.capabilities:
                problems.append(
                    ConfigProblem(
                        ("capabilities",),
                        "a provider of kind 'function' takes no capabilities "
                        "(the decorated body is given whatever the call sends)",
                    )
                )
        if self.models:
            if self.default_model is not None and self.default_model not in self.models:
                problems.append(
                    ConfigProblem(
                        ("default_model",),
                        f"default_model {self.default_model!r} is not in models "
                        f"{self.models}" + did_you_mean(self.default_model, self.models),
                    )
                )
            sections = (
                ("prices", "price"),
                ("capabilities", "capabilities"),
                ("model_api", "an api"),
            )
            for section, what in sections:
                for model in getattr(self, section):
                    if model not in self.models:
                        problems.append(
                            ConfigProblem(
                                (section, model),
                                f"{what} for {model!r}, which is not in models {self.models}"
                                + did_you_mean(model, self.models),
                            )
                        )
        if problems:
            raise ConfigProblems(problems)
        return self

    # -- derived values --

    def resolved_model(self) -> str | None:
        """The model a target naming only this provider uses."""
        if self.default_model:
            return self.default_model
        if self.models:
            return self.models[0]
        return FUNCTION_MODEL if self.kind == FUNCTION_PROVIDER else None

    def price_for(self, model: str) -> ModelPrice | None:
        return self.prices.get(model)

    def capabilities_for(self, model: str) -> Capabilities:
        """What ``model`` takes here: its ``capabilities`` entry, else its family's, else
        text only (see :func:`~llm_dispatch.settings.capabilities.resolve_capabilities`)."""
        return resolve_capabilities(base_kind(self.kind), model, self.capabilities.get(model))

    def mark_missing_key(self, variable: str) -> None:
        """Record that ``api_key`` named the unset variable ``variable`` (loader only)."""
        self._missing_key_variable = variable

    def config_disabled_reason(self, name: str) -> str | None:
        """Why the configuration itself disables this provider, or None."""
        if not self.enabled:
            return f"disabled in the configuration (providers.{name}.enabled: false)"
        return self.missing_key_reason(name)

    def missing_key_reason(self, name: str) -> str | None:
        """The reason to give when ``api_key`` named an unset variable, else None."""
        if self._missing_key_variable is not None:
            return (
                f"disabled: no API key (providers.{name}.api_key names "
                f"${{{self._missing_key_variable}}}, which is not set)"
            )
        return None

    def disabled_reason(self, name: str, environ: Mapping[str, str] | None = None) -> str | None:
        """Why this provider cannot be used now, or None when it can.

        The configuration's own reasons first (:meth:`config_disabled_reason`), then the
        credential rule of :mod:`llm_dispatch.providers.credentials`, with the key variables
        read from ``environ`` (default: the process environment). A ``function`` provider
        needs no key.
        """
        reason = self.config_disabled_reason(name)
        if reason is not None:
            return reason
        return no_credentials_reason(name, self, environ)

    def to_settings(self, name: str, timeouts: TimeoutSettings | None = None) -> ProviderSettings:
        """What a provider implementation needs, under the name routes use."""
        effective = (timeouts or TimeoutSettings()).merged(self.timeouts)
        return ProviderSettings(
            name=name,
            kind=self.kind,
            api_key=self.api_key,
            base_url=self.base_url,
            allow_link_local=self.allow_link_local,
            models=tuple(self.models),
            default_model=self.resolved_model(),
            prices=dict(self.prices),
            connect_timeout=effective.connect,
            extra_headers=dict(self.extra_headers),
            continuation=self.continuation,
            continuation_instruction=self.continuation_instruction,
            api=self.api,
            model_api=dict(self.model_api),
            parser=self.parser,
            **{key: getattr(self, key) for key in CLOUD_FIELDS},
        )
