"""The record of one attempt: where it went, how it ended, what it was charged.

The same record serves the ledger (:mod:`.ledger`), ``stream.attempts`` and the errors that
list what was tried (``AllProvidersFailed.attempts`` ...).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, computed_field

from .events import Usage

__all__ = ["AttemptRecord"]


class AttemptRecord(BaseModel):
    """One attempt: where it went, how it ended, the tokens charged and their cost."""

    model_config = ConfigDict(frozen=True)

    provider: str
    model: str
    attempt: int = Field(description="1-based try number on this target (0: never tried).")
    kind: str | None = Field(
        default=None,
        description="None when it succeeded; else an error kind (rate_limit, timeout ...), "
        "'skipped', 'circuit_open', 'limit_reached', 'budget_exceeded', 'cancelled' (the "
        "consumer left), 'hedged' (another target won the race: see hedge_after) or "
        "'aborted' (a stage raised).",
    )
    status_code: int | None = None
    message: str = ""
    chars: int = Field(default=0, description="Characters this attempt delivered.")
    charged: bool = Field(default=False, description="False when the provider never got it.")
    usage: Usage = Field(default_factory=Usage)
    cost_usd: float | None = Field(default=0.0, description="None when the price is unknown.")

    @computed_field  # type: ignore[prop-decorator]
    @property
    def outcome(self) -> str:
        """``ok`` or the kind it failed with."""
        return self.kind or "ok"

    def describe(self) -> str:
        status = f" HTTP {self.status_code}" if self.status_code is not None else ""
        return (
            f"{self.provider}/{self.model} attempt {self.attempt}:{status} "
            f"{self.outcome}: {self.message}"
        )
