"""How a route's targets are ordered for one request.

Each strategy has one method, ``order(targets, state, route=...)``, that returns the same
targets in the order they should be tried. They get only targets that are usable now
(enabled, circuit not open), so that rotation and weights share traffic among the
targets that can actually take it.

- ``priority``: as listed in the route.
- ``cost``: cheapest first by input + output USD per 1M tokens; targets with no known price
  last; ties keep route order.
- ``latency``: lowest observed time to first token first (EWMA, see :class:`RoutingState`).
  Targets never observed go *first*, in route order, so that each gets measured once
  instead of being starved by an early measurement of another.
- ``weighted``: a random order drawn without replacement, each pick proportional to weight;
  targets of weight 0 come last in route order (used only when the others fail).
- ``round_robin``: route order rotated by one more place on every call, per route.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import ClassVar, Protocol

from .target import Target

__all__ = [
    "STRATEGIES",
    "CostStrategy",
    "LatencyStrategy",
    "PriorityStrategy",
    "RoundRobinStrategy",
    "RoutingState",
    "Strategy",
    "WeightedStrategy",
    "get_strategy",
]


@dataclass
class RoutingState:
    """What strategies remember between requests (one per :class:`Router`)."""

    #: Time to first token per target key: an exponentially weighted moving average.
    ttft: dict[str, float] = field(default_factory=dict)
    #: Round-robin turn counter per route.
    turns: dict[str, int] = field(default_factory=dict)
    rng: random.Random = field(default_factory=random.Random)
    #: Weight of the newest observation in the average (higher: reacts faster).
    alpha: float = 0.3

    def observe_ttft(self, key: str, seconds: float) -> None:
        previous = self.ttft.get(key)
        self.ttft[key] = (
            seconds if previous is None else self.alpha * seconds + (1 - self.alpha) * previous
        )


class Strategy(Protocol):
    name: ClassVar[str]

    def order(
        self, targets: Sequence[Target], state: RoutingState, *, route: str = ""
    ) -> list[Target]: ...


class PriorityStrategy:
    name: ClassVar[str] = "priority"

    def order(
        self, targets: Sequence[Target], state: RoutingState, *, route: str = ""
    ) -> list[Target]:
        return list(targets)


class CostStrategy:
    name: ClassVar[str] = "cost"

    def order(
        self, targets: Sequence[Target], state: RoutingState, *, route: str = ""
    ) -> list[Target]:
        def cost(target: Target) -> float:
            price = target.price
            return math.inf if price is None else price.input + price.output

        return sorted(targets, key=cost)  # sorted() is stable: ties keep route order


class LatencyStrategy:
    name: ClassVar[str] = "latency"

    def order(
        self, targets: Sequence[Target], state: RoutingState, *, route: str = ""
    ) -> list[Target]:
        ttft = state.ttft
        return sorted(targets, key=lambda t: (t.key in ttft, ttft.get(t.key, 0.0)))


class WeightedStrategy:
    name: ClassVar[str] = "weighted"

    def order(
        self, targets: Sequence[Target], state: RoutingState, *, route: str = ""
    ) -> list[Target]:
        pool = [t for t in targets if t.weight > 0]
        ordered: list[Target] = []
        while pool:
            point = state.rng.random() * sum(t.weight for t in pool)
            index = len(pool) - 1  # float rounding can leave point == total: take the last
            for i, target in enumerate(pool):
                point -= target.weight
                if point < 0:
                    index = i
                    break
            ordered.append(pool.pop(index))
        return ordered + [t for t in targets if t.weight <= 0]


class RoundRobinStrategy:
    name: ClassVar[str] = "round_robin"

    def order(
        self, targets: Sequence[Target], state: RoutingState, *, route: str = ""
    ) -> list[Target]:
        if not targets:
            return []
        turn_key = route or "|".join(t.key for t in targets)
        turn = state.turns.get(turn_key, 0)
        state.turns[turn_key] = turn + 1
        start = turn % len(targets)
        return [*targets[start:], *targets[:start]]


STRATEGIES: dict[str, Strategy] = {
    s.name: s
    for s in (
        PriorityStrategy(),
        CostStrategy(),
        LatencyStrategy(),
        WeightedStrategy(),
        RoundRobinStrategy(),
    )
}


def get_strategy(name: str) -> Strategy:
    """The strategy called ``name`` (the configuration validates the name beforehand)."""
    return STRATEGIES[name]
