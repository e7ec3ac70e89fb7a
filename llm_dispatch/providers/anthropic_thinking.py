"""Anthropic extended thinking, from ``Request.reasoning``.

``thinking={"type": "enabled", "budget_tokens": N}``: N is ``reasoning.budget_tokens`` when
it is set, else the budget of ``reasoning.effort`` (:data:`THINKING_BUDGETS`: low 2048,
medium 8192, high 24576). The API takes no budget under :data:`MIN_THINKING_BUDGET` (1024):
a smaller one is refused. The budget is part of ``max_tokens``, which must be larger; the
request's builder raises ``max_tokens`` when it is not (see :mod:`.anthropic_messages`).

Thinking does not combine with some sampling settings and with forced tool use; each of
these raises ``BadRequestError`` naming the conflict, before anything is sent:

- a ``temperature`` other than 1;
- the ``top_k`` option;
- a ``top_p`` option below :data:`MIN_THINKING_TOP_P` (0.95);
- ``tool_choice`` ``required`` or a tool's name (the API forces such a call by prefilling
  the answer, which thinking excludes).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..request import Reasoning, Request
from .options import request_error

if TYPE_CHECKING:
    from .base import ProviderSettings

__all__ = ["MIN_THINKING_BUDGET", "MIN_THINKING_TOP_P", "THINKING_BUDGETS", "thinking_config"]

#: The thinking budget (tokens) of each reasoning effort.
THINKING_BUDGETS = {"low": 2048, "medium": 8192, "high": 24576}
#: The smallest budget the API takes.
MIN_THINKING_BUDGET = 1024
#: The smallest ``top_p`` the API takes while thinking.
MIN_THINKING_TOP_P = 0.95


def thinking_config(
    request: Request, options: Mapping[str, Any], settings: ProviderSettings, model: str
) -> dict[str, Any] | None:
    """The ``thinking`` argument for ``request`` (None without ``reasoning``); a budget or
    a setting the API refuses with thinking raises ``BadRequestError``."""
    reasoning = request.reasoning
    if reasoning is None:
        return None
    budget = _budget(reasoning, settings, model)
    conflicts = _conflicts(request, options)
    if conflicts:
        raise request_error(
            settings,
            model,
            "Anthropic thinking (reasoning) cannot be combined with " + "; ".join(conflicts),
        )
    return {"type": "enabled", "budget_tokens": budget}


def _budget(reasoning: Reasoning, settings: ProviderSettings, model: str) -> int:
    if reasoning.budget_tokens is not None:
        budget = reasoning.budget_tokens
    elif reasoning.effort is not None:
        budget = THINKING_BUDGETS[reasoning.effort]
    else:  # Reasoning itself refuses this
        raise request_error(settings, model, "reasoning needs an effort or budget_tokens")
    if budget < MIN_THINKING_BUDGET:
        raise request_error(
            settings,
            model,
            f"reasoning budget_tokens={budget} is below the {MIN_THINKING_BUDGET} tokens "
            "Anthropic thinking takes at least",
        )
    return budget


def _conflicts(request: Request, options: Mapping[str, Any]) -> list[str]:
    """What in ``request`` the API refuses together with thinking, each saying why."""
    found = []
    if request.temperature is not None and request.temperature != 1:
        found.append(f"temperature={request.temperature:g} (thinking takes only temperature 1)")
    if options.get("top_k") is not None:
        found.append("the top_k option (thinking takes none)")
    top_p = options.get("top_p")
    if isinstance(top_p, int | float) and top_p < MIN_THINKING_TOP_P:
        found.append(f"top_p={top_p:g} (thinking takes {MIN_THINKING_TOP_P:g} to 1)")
    choice = request.tool_choice
    if choice is not None and choice not in ("auto", "none"):
        found.append(f"tool_choice={choice!r} (thinking takes no forced tool use)")
    return found
