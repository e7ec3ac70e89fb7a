"""Calendar windows of a budget: which day or month an instant falls in, in a time zone.

A window has an id (``2026-12-07`` for a day, ``2026-12`` for a month) and the instant it
ends (epoch seconds), after which its counter may be forgotten. Boundaries are local
midnights of the budget's time zone, daylight-saving changes included.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

__all__ = ["Period", "Window", "window_at"]

Period = Literal["day", "month"]


@dataclass(frozen=True, slots=True)
class Window:
    """One day or month of one time zone."""

    period: Period
    id: str
    #: Epoch seconds at which the window ends (the next local midnight that starts a window).
    ends_at: float


@functools.lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def window_at(period: Period, now: float, timezone: str) -> Window:
    """The ``period`` window of ``timezone`` that epoch time ``now`` falls in."""
    zone = _zone(timezone)
    today = datetime.fromtimestamp(now, zone).date()
    if period == "day":
        window_id, end = today.isoformat(), today + timedelta(days=1)
    else:
        window_id = f"{today.year:04d}-{today.month:02d}"
        end = date(today.year + today.month // 12, today.month % 12 + 1, 1)
    ends_at = datetime.combine(end, time(0), tzinfo=zone).timestamp()
    return Window(period, window_id, ends_at)
