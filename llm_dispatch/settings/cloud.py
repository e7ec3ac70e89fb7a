"""The fields of a provider entry that only the cloud kinds take (see
:mod:`llm_dispatch.providers.kinds`): what each one means, as the configuration reference
shows it, and the problems :func:`cloud_problems` finds with them."""

from __future__ import annotations

from collections.abc import Mapping

from ..providers.kinds import CLOUD_FIELDS, cloud_field_problems
from .problems import ConfigProblem

__all__ = ["CLOUD_FIELD_DESCRIPTIONS", "cloud_problems"]

CLOUD_FIELD_DESCRIPTIONS: dict[str, str] = {
    "api_version": "Kind azure_openai only, required: the Azure OpenAI API version sent as "
    "the api-version query parameter (e.g. 2024-10-21).",
    "deployment": "Kind azure_openai only: the deployment every request goes to, whatever "
    "its model; unset: a model's name is its deployment's.",
    "project": "Kinds google_vertex and anthropic_vertex, required: the Google Cloud project.",
    "location": "Kinds google_vertex and anthropic_vertex, required: the Vertex AI location "
    "(region), e.g. us-central1, us-east5, europe-west1 or global.",
    "region": "Kind anthropic_bedrock only, required: the AWS region, e.g. us-east-1.",
    "access_token": "Kinds google_vertex and anthropic_vertex: an OAuth 2 access token sent "
    "as the bearer token; unset: Application Default Credentials. Secret: never in reprs, "
    "logs or errors.",
}
assert CLOUD_FIELD_DESCRIPTIONS.keys() == CLOUD_FIELDS.keys()


def cloud_problems(
    kind: str, values: Mapping[str, object], *, has_model: bool
) -> list[ConfigProblem]:
    """:func:`~llm_dispatch.providers.kinds.cloud_field_problems` as configuration problems,
    each at its key."""
    return [
        ConfigProblem((key,), message)
        for key, message in cloud_field_problems(kind, values, has_model=has_model)
    ]
