"""Router: which targets a request may go to, in which order.

``Router.plan(request)`` takes the route of the request's task type (else ``default``),
applies the call's ``providers=`` / ``model=`` arguments, drops targets that cannot be used
now (provider disabled, a model that does not take what the request sends or a part over
its provider's size limit: :mod:`.capabilities`, circuit open), and orders the rest with
the route's strategy.
Everything dropped is listed in ``Plan.skipped`` with the reason, and a plan with no target
left raises :class:`~llm_dispatch.errors.NoProviderAvailable` carrying that list.

Call arguments:

- ``providers=["anthropic", "openai/gpt-4o"]`` narrows the route to those providers, in that
  order (the strategy is then ``priority``: the caller's order is the intent). A name keeps
  the route's targets of that provider, or, when the route has none, its default model; a
  ``provider/model`` entry names the target exactly. Route targets of other providers are
  skipped with ``not in providers=[...]``.
- ``model="..."`` replaces the model of one provider's targets: the first provider of
  ``providers=``, else the first route provider that serves the model, else another
  configured provider that does (:mod:`.model_owner`: a provider serves the models it names,
  and its kind's model names); without ``providers=``, that provider's targets come first
  and the strategy is ``priority``, as with ``providers=``. A model no configured provider
  serves raises :class:`~llm_dispatch.errors.NoProviderAvailable` before anything is sent.
  Other providers keep their models, because a model name belongs to one provider.

Circuit breaker: a target whose circuit is open, or half-open with its probe in flight, is
skipped (every circuit of a plan read in one round trip, bounded by ``timeout``). Planning
claims nothing: the attempt that opens a half-open target claims its probe then
(:func:`~llm_dispatch.policies.circuit.guarded_by_circuit`).
"""

from __future__ import annotations

import copy
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ..errors import ConfigError, NoProviderAvailable
from ..log import get_logger
from ..policies.circuit import CircuitBreaker, CircuitState, CircuitStatus
from ..providers.base import ProviderSettings
from ..request import Request
from ..settings.models import FUNCTION_PROVIDER, DispatchConfig
from ..settings.paths import did_you_mean
from .capabilities import RequestNeeds
from .model_owner import model_owner, unserved_model
from .strategies import RoutingState, get_strategy
from .target import Target

__all__ = ["LATENCY_EWMA_ALPHA", "IsEnabled", "Plan", "Router"]

log = get_logger(__name__)

#: Weight of the newest time-to-first-token observation in the latency average.
LATENCY_EWMA_ALPHA = 0.3

#: ``is_enabled(name, settings)``: None when the provider can be used, else why not.
IsEnabled = Callable[[str, ProviderSettings], str | None]


@dataclass
class Plan:
    """The targets to try, in order, and every target left out with the reason."""

    targets: list[Target]
    skipped: dict[str, str] = field(default_factory=dict)
    #: The route used (a task type value or ``default``).
    route: str = "default"
    strategy: str = "priority"


@dataclass
class _Draft:
    """A plan before the circuits are asked and the strategy orders it."""

    task: str
    route: str
    strategy: str
    enabled: list[Target]
    skipped: dict[str, str]
    any_disabled: bool


class Router:
    """Plans targets from a :class:`DispatchConfig`.

    ``is_enabled`` replaces the credential check (default: the rule of
    :mod:`llm_dispatch.providers.credentials`; ``function`` providers always enabled).
    Reasons coming from the configuration itself (``enabled: false``, an unset ``${VAR}`` in
    ``api_key``) apply either way. ``rng`` makes the ``weighted`` strategy reproducible.
    """

    def __init__(
        self,
        config: DispatchConfig,
        *,
        circuit: CircuitBreaker | None = None,
        is_enabled: IsEnabled | None = None,
        rng: random.Random | None = None,
        hint: str = "",
    ) -> None:
        self.config = config
        #: Appended to :class:`NoProviderAvailable` messages.
        self.hint = hint
        self.circuit = circuit
        self.is_enabled = is_enabled
        self.state = RoutingState(rng=rng or random.Random(), alpha=LATENCY_EWMA_ALPHA)
        self._settings = {name: config.provider_settings(name) for name in config.providers}

    # -- public --------------------------------------------------------------------------

    async def plan(
        self,
        request: Request,
        *,
        providers: Sequence[str] | str | None = None,
        model: str | None = None,
        timeout: float | None = None,
    ) -> Plan:
        """The ordered targets for ``request`` (see the module docstring for the rules).

        ``timeout`` bounds the circuit store's answer (what is left of the request's
        ``total``); every target's circuit is asked in one round trip.

        Raises :class:`ConfigError` for a provider or model name the configuration does not
        know, and :class:`NoProviderAvailable` when no target is left.
        """
        draft = self._draft(request, providers, model)
        usable = await self._closed_circuits(draft.enabled, draft.skipped, timeout)
        return self._ordered(draft, usable, self.state)

    def preview(
        self,
        request: Request,
        *,
        providers: Sequence[str] | str | None = None,
        model: str | None = None,
    ) -> Plan:
        """The plan :meth:`plan` would make now, without asking the circuit breaker: a
        target whose circuit is open is still listed. Strategies that keep state
        (``round_robin``, ``weighted``) order a copy of it, so previewing never moves the
        next call's turn. Raises as :meth:`plan` does."""
        draft = self._draft(request, providers, model)
        return self._ordered(draft, draft.enabled, copy.deepcopy(self.state))

    def _draft(
        self, request: Request, providers: Sequence[str] | str | None, model: str | None
    ) -> _Draft:
        """The route's targets that can take ``request``, before circuits and ordering."""
        task = str(request.task_type)
        found = self.config.route_for(task)
        skipped: dict[str, str] = {}
        if found is not None:
            route_key, route = found
            candidates = [
                self.target(t.provider, t.model, t.weight, t.options) for t in route.targets
            ]
            strategy = route.strategy
        elif providers is not None:
            route_key, candidates, strategy = task, [], "priority"
        else:
            raise NoProviderAvailable(
                task,
                {f"routes.{task}": "no route for this task type and no 'default' route"},
                hint=self.hint,
            )

        if providers is not None:
            names = [providers] if isinstance(providers, str) else list(providers)
            candidates = self._narrow(candidates, names, skipped)
            strategy = "priority"
        if model is not None:
            first = self._model_owner(task, candidates, providers, model)
            if all(c.provider != first for c in candidates):
                # A configured provider outside the route serves the model: it comes first.
                candidates.insert(0, self.target(first, model))
            candidates = self._override_model(candidates, first, model, skipped)
            if providers is None:
                # The model names who should answer: its provider first, the others after
                # it as fallbacks, in the route's order (as with providers=).
                candidates.sort(key=lambda c: c.provider != first)
                strategy = "priority"

        enabled: list[Target] = []
        seen: set[str] = set()
        needs = RequestNeeds.of(request)
        any_disabled = False
        for target in candidates:
            if target.key in seen:
                continue
            seen.add(target.key)
            disabled = self._disabled_reason(target)
            any_disabled = any_disabled or disabled is not None
            reason = disabled or needs.unmet(target)
            if reason is not None:
                skipped[target.key] = reason
            else:
                enabled.append(target)
        return _Draft(task, route_key, strategy, enabled, skipped, any_disabled)

    def _ordered(self, draft: _Draft, usable: list[Target], state: RoutingState) -> Plan:
        task, route_key, skipped = draft.task, draft.route, draft.skipped
        if not usable:
            log.info("route.no_target", task_type=task, route=route_key, skipped=skipped)
            # The offline hint helps when providers lack keys, not when no model fits.
            raise NoProviderAvailable(task, skipped, hint=self.hint if draft.any_disabled else "")
        ordered = get_strategy(draft.strategy).order(usable, state, route=route_key)
        log.debug(
            "route.planned",
            task_type=task,
            route=route_key,
            strategy=draft.strategy,
            targets=[t.key for t in ordered],
            skipped=skipped or None,
        )
        return Plan(ordered, skipped, route_key, draft.strategy)

    def observe_ttft(self, target_key: str, seconds: float) -> None:
        """Feed one time-to-first-token measurement to the ``latency`` strategy."""
        self.state.observe_ttft(target_key, seconds)

    def target(
        self,
        provider: str,
        model: str | None = None,
        weight: float | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> Target:
        """The :class:`Target` for ``provider`` (and ``model``, default: its default model),
        with its model's capabilities and a route target's ``options``."""
        config = self.config.provider(provider)
        resolved = model or config.resolved_model()
        if resolved is None:
            raise ConfigError(
                f"provider {provider!r} has no default_model or models: "
                f"pass model=... or providers=['{provider}/<model>']"
            )
        if model is not None and config.models and model not in config.models:
            raise ConfigError(
                f"model {model!r} is not in providers.{provider}.models {config.models}"
                + did_you_mean(model, config.models)
            )
        return Target(
            provider=provider,
            model=resolved,
            settings=self._settings[provider],
            weight=config.weight if weight is None else weight,
            price=config.price_for(resolved),
            capabilities=config.capabilities_for(resolved),
            options=dict(options or {}),
        )

    # -- steps ---------------------------------------------------------------------------

    def _narrow(
        self, candidates: list[Target], entries: list[str], skipped: dict[str, str]
    ) -> list[Target]:
        parsed: list[tuple[str, str | None]] = []
        for entry in entries:
            name, slash, model = entry.partition("/")
            if name not in self.config.providers:
                raise ConfigError(
                    f"unknown provider {name!r}"
                    + (
                        did_you_mean(name, self.config.providers)
                        or f" (configured: {', '.join(self.config.providers)})"
                    ),
                    path=f"providers={entries!r}",
                )
            parsed.append((name, model if slash else None))

        narrowed: list[Target] = []
        for name, named_model in parsed:
            if named_model is not None:
                narrowed.append(self.target(name, named_model))
            else:
                own = [c for c in candidates if c.provider == name]
                narrowed.extend(own or [self.target(name)])
        kept = {t.key for t in narrowed}
        note = f"not in providers={entries!r}"
        for c in candidates:
            if c.key not in kept:
                skipped.setdefault(c.key, note)
        return narrowed

    def _model_owner(
        self,
        task: str,
        candidates: list[Target],
        providers: Sequence[str] | str | None,
        model: str,
    ) -> str:
        """Which provider ``model=`` applies to: the first of ``providers=``; else the
        route's, then any configured, provider that serves it (see :mod:`.model_owner`);
        :class:`NoProviderAvailable` when none does."""
        if providers:
            first = providers if isinstance(providers, str) else providers[0]
            name, slash, named_model = first.partition("/")
            if slash and named_model != model:
                raise ConfigError(
                    f"providers[0]={first!r} names a model and model={model!r} another: "
                    "give the model in one place"
                )
            return name
        route = list(dict.fromkeys(c.provider for c in candidates))
        order = route + [name for name in self.config.providers if name not in route]
        owner = model_owner(self.config, order, model)
        if owner is None:
            raise unserved_model(self.config, task, model)
        return owner

    def _override_model(
        self, candidates: list[Target], provider: str, model: str, skipped: dict[str, str]
    ) -> list[Target]:
        out: list[Target] = []
        placed = False
        for c in candidates:
            if c.provider != provider:
                out.append(c)
                continue
            if not placed:
                out.append(self.target(provider, model, c.weight, c.options))
                placed = True
            if c.model != model:
                skipped.setdefault(c.key, f"replaced by model={model!r}")
        return out

    def disabled_reason(self, provider: str) -> str | None:
        """Why ``provider`` cannot be used now (configuration, credentials), or None.

        ``enabled: false`` always disables; the credential question (a key configured, an
        unset ``${VAR}`` in ``api_key``, the SDK's variables) is ``is_enabled``'s when given.
        """
        config = self.config.providers[provider]
        if not config.enabled:
            return config.config_disabled_reason(provider)
        if config.kind == FUNCTION_PROVIDER:
            return None
        if self.is_enabled is not None:
            return self.is_enabled(provider, self._settings[provider])
        return config.disabled_reason(provider)

    def _disabled_reason(self, target: Target) -> str | None:
        return self.disabled_reason(target.provider)

    async def _closed_circuits(
        self, targets: list[Target], skipped: dict[str, str], timeout: float | None
    ) -> list[Target]:
        """``targets`` whose circuit would let them through now; the others go to
        ``skipped`` with the reason. Nothing is claimed: an attempt claims a half-open
        target's probe when it opens."""
        # The function body is the last resort: never taken out of rotation.
        guarded = [t for t in targets if self.circuit is not None and t.kind != FUNCTION_PROVIDER]
        if not guarded:
            return targets
        assert self.circuit is not None
        statuses = await self.circuit.status_many([t.key for t in guarded], timeout=timeout)
        refused = {
            target.key: _circuit_reason(status)
            for target, status in zip(guarded, statuses, strict=True)
            if not status.available
        }
        skipped.update(refused)
        return [t for t in targets if t.key not in refused]


def _circuit_reason(status: CircuitStatus) -> str:
    if status.state is CircuitState.HALF_OPEN:
        return "circuit half-open: a probe request is already in flight"
    retry_in = status.retry_in or 0.0
    until = datetime.fromtimestamp(time.time() + retry_in, tz=UTC)
    return f"circuit open until {until:%H:%M:%S} UTC ({retry_in:.1f}s from now)"
