"""The cloud platforms' paths to the OpenAI, Anthropic and Gemini wires.

Each platform speaks its vendor's wire format over its own paths; these wires are the
vendor's, recorded under the cloud kind's name and reading the model where the platform
puts it:

- ``azure_openai``: ``POST /openai/deployments/{deployment}/chat/completions?api-version=...``
  (key in the ``api-key`` header); the model is the deployment;
- ``anthropic_vertex``: ``POST /v1/projects/{project}/locations/{location}`` +
  ``/publishers/anthropic/models/{model}:streamRawPredict`` (bearer token); the model is in
  the path, ``anthropic_version`` in the body;
- ``google_vertex``: ``POST /{version}/projects/{project}/locations/{location}`` +
  ``/publishers/google/models/{model}:streamGenerateContent?alt=sse`` (bearer token).
"""

from __future__ import annotations

from typing import Any

from .wire import ParsedRequest
from .wire_anthropic import AnthropicWire
from .wire_google import GoogleWire
from .wire_openai import OpenAIWire

__all__ = ["AzureOpenAIWire", "VertexAnthropicWire", "VertexGeminiWire", "path_model"]


def path_model(path: str, before: str, after: str) -> str:
    """The path segment between ``before`` and ``after`` (the model a path names)."""
    return path.rsplit(before, 1)[-1].split(after, 1)[0]


class AzureOpenAIWire(OpenAIWire):
    name = "azure_openai"

    def parse(self, path: str, body: dict[str, Any]) -> ParsedRequest:
        parsed = super().parse(path, body)
        parsed.model = path_model(path, "/deployments/", "/")
        return parsed


class VertexAnthropicWire(AnthropicWire):
    name = "anthropic_vertex"

    def parse(self, path: str, body: dict[str, Any]) -> ParsedRequest:
        parsed = super().parse(path, body)
        parsed.model = path_model(path, "/models/", ":")
        return parsed


class VertexGeminiWire(GoogleWire):
    name = "google_vertex"
