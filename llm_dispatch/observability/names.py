"""The names spans and metrics carry: OpenTelemetry's GenAI conventions, and the library's own.

The ``gen_ai.*`` and ``error.type`` names are those of the OpenTelemetry semantic
conventions (the ``opentelemetry-semantic-conventions`` package lists them; a test checks
each name here against it). They are spelled out here so that the library needs only the
OpenTelemetry API, not the conventions package, whose GenAI names are marked as moving to
a repository of their own. Names under ``llm_dispatch.`` are the library's: what the
conventions have no name for (retries, fallbacks, the cache, cost).
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "DURATION_BUCKETS",
    "OPERATION",
    "TOKEN_BUCKETS",
    "provider_system",
]

#: ``gen_ai.operation.name`` of every span and metric: a streamed chat completion.
OPERATION: Final = "chat"

# -- span and metric attributes (OpenTelemetry semantic conventions) ------------------------
GEN_AI_OPERATION_NAME: Final = "gen_ai.operation.name"
GEN_AI_PROVIDER_NAME: Final = "gen_ai.provider.name"
GEN_AI_REQUEST_MODEL: Final = "gen_ai.request.model"
GEN_AI_REQUEST_STREAM: Final = "gen_ai.request.stream"
GEN_AI_RESPONSE_MODEL: Final = "gen_ai.response.model"
GEN_AI_RESPONSE_FINISH_REASONS: Final = "gen_ai.response.finish_reasons"
GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK: Final = "gen_ai.response.time_to_first_chunk"
GEN_AI_USAGE_INPUT_TOKENS: Final = "gen_ai.usage.input_tokens"
GEN_AI_USAGE_OUTPUT_TOKENS: Final = "gen_ai.usage.output_tokens"
GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS: Final = "gen_ai.usage.cache_read.input_tokens"
GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS: Final = "gen_ai.usage.cache_creation.input_tokens"
GEN_AI_USAGE_REASONING_OUTPUT_TOKENS: Final = "gen_ai.usage.reasoning.output_tokens"
GEN_AI_TOKEN_TYPE: Final = "gen_ai.token.type"
ERROR_TYPE: Final = "error.type"

#: ``gen_ai.token.type`` values.
TOKEN_INPUT: Final = "input"
TOKEN_OUTPUT: Final = "output"

# -- metrics (OpenTelemetry semantic conventions) -------------------------------------------
GEN_AI_CLIENT_TOKEN_USAGE: Final = "gen_ai.client.token.usage"
GEN_AI_CLIENT_OPERATION_DURATION: Final = "gen_ai.client.operation.duration"
GEN_AI_CLIENT_OPERATION_TIME_TO_FIRST_CHUNK: Final = "gen_ai.client.operation.time_to_first_chunk"

#: Histogram bounds the conventions advise: seconds for durations, counts for tokens.
DURATION_BUCKETS: Final = (
    0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
)  # fmt: skip
TOKEN_BUCKETS: Final = (
    1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864,
)  # fmt: skip

# -- the library's own attributes -----------------------------------------------------------
PROVIDER: Final = "llm_dispatch.provider"
REQUEST_ID: Final = "llm_dispatch.request_id"
TASK_TYPE: Final = "llm_dispatch.task_type"
ROUTE: Final = "llm_dispatch.route"
ATTEMPT: Final = "llm_dispatch.attempt"
ATTEMPTS: Final = "llm_dispatch.attempts"
RETRIES: Final = "llm_dispatch.retries"
FALLBACKS: Final = "llm_dispatch.fallbacks"
INTERRUPTIONS: Final = "llm_dispatch.interruptions"
CACHE_HIT: Final = "llm_dispatch.cache.hit"
CACHE_MATCH: Final = "llm_dispatch.cache.match"
CACHE_SIMILARITY: Final = "llm_dispatch.cache.similarity"
COST_USD: Final = "llm_dispatch.cost_usd"
USAGE_ESTIMATED: Final = "llm_dispatch.usage.estimated"
OUTCOME: Final = "llm_dispatch.outcome"

# ``gen_ai.provider.name`` of the provider kinds the conventions name (the cloud kinds by
# the platform that serves them); another kind is named by itself.
_SYSTEMS: Final = {
    "openai": "openai",
    "anthropic": "anthropic",
    "google": "gcp.gemini",
    "azure_openai": "azure.ai.openai",
    "google_vertex": "gcp.vertex_ai",
    "anthropic_vertex": "gcp.vertex_ai",
    "anthropic_bedrock": "aws.bedrock",
}


def provider_system(kind: str | None, provider: str) -> str:
    """``gen_ai.provider.name`` for a provider of ``kind`` configured as ``provider`` (a
    cache replay, which has no kind, is named by its provider)."""
    name = kind or provider
    return _SYSTEMS.get(name, name)
