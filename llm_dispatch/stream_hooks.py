"""What the application adds to every stream of the process: stages, and attempt observers.

Empty by default. A switch the application turns on for the whole process
(:func:`llm_dispatch.observability.instrument`) installs a :class:`StreamHooks`. The
dispatcher takes the hooks installed when a stream starts: their stages run after the
stream's own, and each of the stream's attempts calls every observer factory once, keeping
the observer it returns. A stream keeps the hooks it took, whatever is installed later.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .attempt import ObserverFactory
    from .stages.base import Stage

__all__ = ["NO_HOOKS", "StreamHooks", "install", "installed"]


@dataclass(frozen=True, slots=True)
class StreamHooks:
    """Stages every stream runs after its own, and observer factories for its attempts."""

    stages: tuple[Stage, ...] = ()
    observers: tuple[ObserverFactory, ...] = ()


NO_HOOKS = StreamHooks()
_installed = NO_HOOKS


def installed() -> StreamHooks:
    """The hooks a stream starting now takes."""
    return _installed


def install(hooks: StreamHooks) -> StreamHooks:
    """Install ``hooks`` for the streams that start from now on; returns the previous ones."""
    global _installed
    previous, _installed = _installed, hooks
    return previous
