"""A call's arguments matched to a function's parameters, as ``Signature.bind`` does.

:class:`ArgumentMatcher` is built once per decorated function. For a signature of plain
parameters (no ``*args``, ``**kwargs`` or positional-only ones) it matches a call itself,
which costs a fraction of ``Signature.bind`` on every call; any other signature, and every
call that does not fit (for the message of its ``TypeError``), goes to ``Signature.bind``.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["ArgumentMatcher"]

_EMPTY = inspect.Parameter.empty
_PLAIN = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)


class ArgumentMatcher:
    """Matches calls to ``signature``."""

    def __init__(self, signature: inspect.Signature) -> None:
        self.signature = signature
        params = signature.parameters
        # The parameters that take positions (None: the signature is not plain), and every
        # parameter's default in signature order (``empty``: required).
        self._positional: tuple[str, ...] | None = None
        if all(p.kind in _PLAIN for p in params.values()):
            self._positional = tuple(
                n for n, p in params.items() if p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
            )
        self._defaults = {n: p.default for n, p in params.items()}

    def values(self, args: Sequence[Any], kwargs: Mapping[str, Any]) -> dict[str, Any]:
        """Every parameter's value for this call, in signature order, defaults applied;
        ``TypeError`` (``Signature.bind``'s) for a call the signature does not take."""
        positional = self._positional
        if positional is not None and len(args) <= len(positional):
            values = dict(self._defaults)
            values.update(zip(positional, args, strict=False))
            given = positional[: len(args)]
            if all(k in values and k not in given for k in kwargs):
                values.update(kwargs)
                if not any(v is _EMPTY for v in values.values()):
                    return values
        bound = self.signature.bind(*args, **kwargs)
        bound.apply_defaults()
        return dict(bound.arguments)
