"""The provider options each SDK provider kind applies, and the checks every provider runs
on ``Request.options`` before it sends anything.

:data:`PROVIDER_OPTIONS` maps a kind to the option names its provider applies to its SDK
call (the provider's own names, flat: ``top_p``, ``seed``, ``extra_body`` ...). No SDK is
imported here, so option validation can import it cheaply. A provider refuses any other
key with a :class:`~llm_dispatch.errors.BadRequestError`: an option is applied or refused,
never dropped. An option whose value is None is not set.

``extra_body`` adds fields to the request body. It may not change a field the request
already sets (the messages, ``temperature``, a continuation's flags ...): a key it shares
with one of them is refused unless it holds the same value.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from ..errors import BadRequestError
from .kinds import CLOUD_KINDS

if TYPE_CHECKING:
    from .base import ProviderSettings

__all__ = [
    "ANTHROPIC_OPTIONS",
    "GOOGLE_OPTIONS",
    "OPENAI_OPTIONS",
    "PROVIDER_OPTIONS",
    "RESPONSES_OPTIONS",
    "check_options",
    "clash_message",
    "extra_body",
    "mapping_option",
    "request_error",
]

#: ``chat.completions.create`` keyword arguments.
OPENAI_OPTIONS = frozenset(
    {
        "top_p",
        "seed",
        "presence_penalty",
        "frequency_penalty",
        "user",
        "service_tier",
        "logit_bias",
        "logprobs",
        "top_logprobs",
        "reasoning_effort",
        "metadata",
        "store",
        "extra_body",
        "extra_headers",
        "extra_query",
    }
)
#: ``messages.create`` keyword arguments (``metadata``, ``service_tier``, ``cache_control``,
#: ``extra_*``) and body fields this SDK has no argument for (``top_p``, ``top_k``, sent in
#: ``extra_body``).
ANTHROPIC_OPTIONS = frozenset(
    {
        "top_p",
        "top_k",
        "metadata",
        "service_tier",
        "cache_control",
        "extra_body",
        "extra_headers",
        "extra_query",
    }
)
#: ``GenerateContentConfig`` fields, and ``extra_headers`` / ``extra_body`` sent through the
#: config's ``http_options``.
GOOGLE_OPTIONS = frozenset(
    {
        "top_p",
        "top_k",
        "seed",
        "presence_penalty",
        "frequency_penalty",
        "safety_settings",
        "response_logprobs",
        "logprobs",
        "extra_headers",
        "extra_body",
    }
)

#: Provider kind → the option names its provider applies.
#: The OpenAI options the Responses API path applies (it has no field for the others).
RESPONSES_OPTIONS = frozenset(
    {"top_p", "user", "service_tier", "metadata", "store", "top_logprobs", "reasoning_effort",
     "extra_body", "extra_headers", "extra_query"}
)  # fmt: skip

_BASE_OPTIONS = {"openai": OPENAI_OPTIONS, "anthropic": ANTHROPIC_OPTIONS, "google": GOOGLE_OPTIONS}
#: A cloud kind applies its base kind's options (see :mod:`.kinds`).
PROVIDER_OPTIONS: Mapping[str, frozenset[str]] = MappingProxyType(
    {**_BASE_OPTIONS, **{kind: _BASE_OPTIONS[base] for kind, base in CLOUD_KINDS.items()}}
)


def request_error(settings: ProviderSettings, model: str, message: str) -> BadRequestError:
    """The error for a request this provider cannot send as it is (nothing was sent)."""
    return BadRequestError(message, provider=settings.name, model=model)


def check_options(
    settings: ProviderSettings, model: str, options: Mapping[str, Any]
) -> dict[str, Any]:
    """The ``options`` to apply: any key the provider's kind does not apply is refused, and
    one whose value is None is left out (it sets nothing)."""
    known = PROVIDER_OPTIONS.get(settings.kind, frozenset())
    unknown = sorted(set(options) - known)
    if unknown:
        names = ", ".join(repr(name) for name in unknown)
        applied = ", ".join(sorted(known)) or "none"
        raise request_error(
            settings,
            model,
            f"provider option {names} is not applied by {settings.kind} providers "
            f"(the options they apply: {applied})",
        )
    return {name: value for name, value in options.items() if value is not None}


def mapping_option(
    settings: ProviderSettings,
    model: str,
    options: Mapping[str, Any],
    name: str,
    *,
    text: bool = False,
) -> dict[str, Any] | None:
    """Option ``name`` as a dict with string keys (and string values when ``text``), or None
    when it is not set."""
    value = options.get(name)
    if value is None:
        return None
    if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
        raise request_error(settings, model, f"provider option {name!r} must be a mapping")
    if text and not all(isinstance(v, str) for v in value.values()):
        raise request_error(
            settings, model, f"provider option {name!r} must map names to string values"
        )
    return dict(value)


def extra_body(
    settings: ProviderSettings,
    model: str,
    options: Mapping[str, Any],
    own: Mapping[str, Any],
    fields: Iterable[tuple[str, Any]] = (),
) -> dict[str, Any] | None:
    """The ``extra_body`` to send: ``own`` (body fields the provider itself sends there) with
    the ``extra_body`` option merged in, or None when both are empty.

    ``fields`` are the other body fields of the call (key, value); a key of the option that
    ``own`` or ``fields`` also has is refused unless the values are equal.
    """
    given = mapping_option(settings, model, options, "extra_body") or {}
    sent = {**dict(fields), **own}
    clashes = sorted(k for k in given if k in sent and given[k] != sent[k])
    if clashes:
        raise request_error(settings, model, clash_message(clashes))
    merged = {**own, **given}
    return merged or None


def clash_message(keys: Iterable[str]) -> str:
    """Why an ``extra_body`` that changes the request's own fields ``keys`` is refused."""
    names = ", ".join(repr(key) for key in keys)
    return (
        f"provider option 'extra_body' sets {names}, which the request already sets to "
        "another value: extra_body may add body fields, not change them"
    )
