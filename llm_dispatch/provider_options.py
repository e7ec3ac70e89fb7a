"""Provider options: what one target is sent besides the request's own fields.

Options (``top_p``, ``seed``, ``top_k`` ...) come from three places; for one target
(:func:`effective_options`) each later one wins key by key:

1. the route target in the configuration
   (``routes: {code_generation: [{provider: openai, options: {seed: 7}}]}``);
2. the call's flat keys (``Request.options``: ``{"top_p": 0.9}``);
3. the call's sub-dict for the target's provider, keyed by the provider's configured name
   (``{"anthropic": {"top_k": 40}}``).

A key of ``Request.options`` is a provider's sub-dict when it is the name of a configured
provider and its value is a mapping; any other key is a flat option, so mapping-valued
options (``metadata``, ``extra_body``, ``logit_bias``) stay flat.

Each provider kind applies the option names of :data:`KNOWN_OPTIONS`. A name the target's
kind does not apply is an error before anything is sent: :func:`planned_options` checks
the effective options of every planned target, and every sub-dict of a configured provider
(planned or not), and raises :class:`UnknownProviderOption` (a
:class:`~llm_dispatch.errors.RequestBindingError`, hence a ``TypeError``, like an
unexpected keyword argument) naming the option, the provider and the names it takes. A
route target's options are checked when the configuration loads
(:func:`unknown_option_problem`, a :class:`~llm_dispatch.errors.ConfigError` with file and
line).

The ``function`` provider (the decorated body) takes no options: a ``function`` target's
effective options are empty (the call's flat options are meant for the model targets and
are not passed to the body), a route target of the function provider that writes
``options`` is a configuration error, and a non-empty sub-dict for it is an
:class:`UnknownProviderOption`. A target of no known kind (a cache replay, which sends
nothing) gets the merged options unchecked.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .errors import RequestBindingError
from .providers.function import FUNCTION_PROVIDER
from .providers.options import PROVIDER_OPTIONS, RESPONSES_OPTIONS

if TYPE_CHECKING:
    from .request import Request
    from .routing.target import Target

__all__ = [
    "KNOWN_OPTIONS",
    "UnknownProviderOption",
    "effective_options",
    "planned_options",
    "split_call_options",
    "unknown_option_problem",
]

#: The option names each provider kind applies (the ``function`` provider takes none).
KNOWN_OPTIONS: dict[str, frozenset[str]] = {
    **PROVIDER_OPTIONS,
    "openai-responses": RESPONSES_OPTIONS,
    FUNCTION_PROVIDER: frozenset(),
}

# Request.extra keys that name a part of the request, and where that part goes instead.
_EXTRA_MISPLACED: dict[str, str] = {
    **{name: "it is a request field, set Request." + name for name in (
        "system", "temperature", "max_tokens", "stop", "response_format")},
    **{name: "media are parts of a message's content (llm_dispatch.content)" for name in (
        "image", "images", "audio", "document", "documents")},
    "history": "earlier turns are Request.messages",
    "tools": "tool calling is not supported yet",
    "tool_choice": "tool calling is not supported yet",
}  # fmt: skip

# Request fields callers sometimes pass as options by mistake.
_REQUEST_FIELDS = frozenset({"temperature", "max_tokens", "stop", "system", "response_format"})


class UnknownProviderOption(RequestBindingError):
    """An option the target's provider kind does not apply (see the module docstring).

    ``key`` is the option, ``provider`` and ``kind`` the provider it was meant for,
    ``known`` the names that kind takes (sorted).
    """

    def __init__(self, key: str, *, provider: str, kind: str, where: str) -> None:
        self.key = key
        self.provider = provider
        self.kind = kind
        self.known = tuple(sorted(KNOWN_OPTIONS.get(kind, ())))
        super().__init__(f"{where}: {unknown_option_problem(key, provider, kind)}")


def unknown_option_problem(key: str, provider: str, kind: str) -> str:
    """The sentence that says ``provider`` (of ``kind``) does not apply option ``key``."""
    known = sorted(KNOWN_OPTIONS.get(kind, ()))
    if not known:
        return f"unknown option {key!r}: provider {provider!r} (kind {kind}) takes no options"
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    if key in _REQUEST_FIELDS:
        hint = f" ({key} is a request field: pass {key}=..., not an option)"
    return (
        f"unknown option {key!r} for provider {provider!r} (kind {kind}){hint}; "
        f"it takes: {', '.join(known)}"
    )


def split_call_options(
    options: Mapping[str, Any], providers: Iterable[str]
) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """``Request.options`` as its flat options and its per-provider sub-dicts."""
    names = set(providers)
    flat: dict[str, Any] = {}
    per_provider: dict[str, dict[str, Any]] = {}
    for key, value in options.items():
        if key in names and isinstance(value, Mapping):
            per_provider[key] = dict(value)
        else:
            flat[key] = value
    return flat, per_provider


def effective_options(
    target: Target, options: Mapping[str, Any], providers: Iterable[str]
) -> dict[str, Any]:
    """The options ``target`` is sent: its route target's, then the call's flat
    ``options``, then the call's sub-dict for its provider (later wins), unchecked;
    ``providers`` are the configured provider names."""
    if target.kind == FUNCTION_PROVIDER:
        return {}
    flat, per_provider = split_call_options(options, providers)
    return {**target.options, **flat, **per_provider.get(target.provider, {})}


def planned_options(
    targets: Sequence[Target], request: Request, kinds: Mapping[str, str]
) -> dict[str, dict[str, Any]]:
    """The effective options of every target of a plan, by ``target.key``, checked.

    ``kinds`` maps every configured provider name to its kind. Raises
    :class:`UnknownProviderOption` for the first name a planned target's kind (or a
    configured provider's, for its sub-dict) does not apply.
    """
    _check_extra(request.extra)
    flat, per_provider = split_call_options(request.options, kinds)
    for provider, sub in per_provider.items():
        _check(sub, provider, kinds[provider], f"options[{provider!r}]")
    planned: dict[str, dict[str, Any]] = {}
    for target in targets:
        # The names the target's request form takes (OpenAI's Responses API takes fewer).
        kind = target.form_kind if target.kind is not None else None
        if kind in KNOWN_OPTIONS and kind != FUNCTION_PROVIDER:
            _check(target.options, target.provider, kind, f"route target {target.key}")
            _check(flat, target.provider, kind, "options")
            sub = per_provider.get(target.provider, {})
            _check(sub, target.provider, kind, f"options[{target.provider!r}]")
        planned[target.key] = effective_options(target, request.options, kinds)
    return planned


def _check_extra(extra: Mapping[str, Any]) -> None:
    """Refuse a ``Request.extra`` key that names something sent to a provider: extra holds
    values for the stages only, so such a key would be silently left out of the request."""
    for key in extra:
        if key in _EXTRA_MISPLACED:
            raise RequestBindingError(
                f"Request.extra[{key!r}] is never sent to a provider: {_EXTRA_MISPLACED[key]}"
            )
        if any(key in names for names in KNOWN_OPTIONS.values()):
            raise RequestBindingError(
                f"Request.extra[{key!r}] is never sent to a provider: it is a provider "
                f"option, pass it in options={{{key!r}: ...}}"
            )


def _check(options: Mapping[str, Any], provider: str, kind: str, where: str) -> None:
    known = KNOWN_OPTIONS.get(kind)
    if known is None:
        return
    for key in options:
        if key not in known:
            raise UnknownProviderOption(key, provider=provider, kind=kind, where=where)
