"""Routing: which provider/model targets a request goes to, and in which order."""

from .router import IsEnabled, Plan, Router
from .strategies import STRATEGIES, RoutingState, Strategy, get_strategy
from .target import Target

__all__ = [
    "STRATEGIES",
    "IsEnabled",
    "Plan",
    "Router",
    "RoutingState",
    "Strategy",
    "Target",
    "get_strategy",
]
