"""The provider kinds that reach one vendor's API through a cloud platform.

Each cloud kind speaks the API of a base kind (the same requests, streams, options,
continuations and model families) through that vendor's client for the platform:

=====================  ==========  ==============================================
kind                   base kind   client
=====================  ==========  ==============================================
``azure_openai``       openai      ``openai.AsyncAzureOpenAI``
``google_vertex``      google      ``google.genai.Client(vertexai=True)``
``anthropic_vertex``   anthropic   ``anthropic.AsyncAnthropicVertex``
``anthropic_bedrock``  anthropic   ``anthropic.AsyncAnthropicBedrock``
=====================  ==========  ==============================================

:func:`base_kind` is what tables keyed by kind (options, continuation modes, model
families, model-name prefixes, whose reasoning a provider sends back) look a kind up by.
Nothing here imports an SDK.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = [
    "CLOUD_FIELDS",
    "CLOUD_KINDS",
    "NO_API_KEY",
    "REQUIRED_FIELDS",
    "base_kind",
    "cloud_field_problems",
    "missing_fields",
]

#: Cloud kind → the kind whose API it speaks.
CLOUD_KINDS: dict[str, str] = {
    "azure_openai": "openai",
    "google_vertex": "google",
    "anthropic_vertex": "anthropic",
    "anthropic_bedrock": "anthropic",
}


def base_kind(kind: str) -> str:
    """The kind whose API ``kind`` speaks: its base kind for a cloud kind, else itself."""
    return CLOUD_KINDS.get(kind, kind)


#: The cloud fields of a provider entry, and the kinds that take each one.
CLOUD_FIELDS: dict[str, frozenset[str]] = {
    "api_version": frozenset({"azure_openai"}),
    "deployment": frozenset({"azure_openai"}),
    "project": frozenset({"google_vertex", "anthropic_vertex"}),
    "location": frozenset({"google_vertex", "anthropic_vertex"}),
    "region": frozenset({"anthropic_bedrock"}),
    "access_token": frozenset({"google_vertex", "anthropic_vertex"}),
}
#: The cloud fields each kind needs.
REQUIRED_FIELDS: dict[str, tuple[str, ...]] = {
    "azure_openai": ("api_version",),
    "google_vertex": ("project", "location"),
    "anthropic_vertex": ("project", "location"),
    "anthropic_bedrock": ("region",),
}
#: Kinds that take no ``api_key`` (they authenticate with a token or their credential chain).
NO_API_KEY = frozenset({"google_vertex", "anthropic_vertex"})


def cloud_field_problems(
    kind: str,
    values: Mapping[str, object],
    *,
    has_model: bool,
    required: bool = True,
) -> list[tuple[str, str]]:
    """``(key, message)`` for each cloud field ``values`` set that ``kind`` does not take,
    an ``api_key`` given to a kind that takes none, and (with ``required``) each field the
    kind needs and left unset, and an Azure entry that names no deployment (neither
    ``deployment`` nor a model, whose name is then the deployment's)."""
    problems: list[tuple[str, str]] = []
    for key, kinds in CLOUD_FIELDS.items():
        if values.get(key) is not None and kind not in kinds:
            takers = ", ".join(sorted(kinds))
            problems.append((key, f"a provider of kind {kind!r} takes no {key} (only {takers})"))
    for key in REQUIRED_FIELDS.get(kind, ()) if required else ():
        if not values.get(key):
            problems.append((key, f"a provider of kind {kind!r} needs {key}"))
    if kind in NO_API_KEY and values.get("api_key") is not None:
        problems.append(
            (
                "api_key",
                f"a provider of kind {kind!r} takes no api_key: it authenticates with "
                "access_token, else Application Default Credentials",
            )
        )
    if required and kind == "azure_openai" and values.get("deployment") is None and not has_model:
        problems.append(
            (
                "deployment",
                "a provider of kind 'azure_openai' needs a deployment: set deployment, or "
                "name the deployments as models (a model's name is its deployment's)",
            )
        )
    return problems


def missing_fields(kind: str, values: Mapping[str, object]) -> str | None:
    """What a provider of ``kind`` built from ``values`` lacks to reach its platform (the
    fields :data:`REQUIRED_FIELDS` names), or None."""
    missing = [key for key in REQUIRED_FIELDS.get(kind, ()) if not values.get(key)]
    if not missing:
        return None
    return f"a provider of kind {kind!r} needs {' and '.join(missing)}"
