"""The identity of one cached answer, computed once per call."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from ..request import Request
from .guard import decisive_tokens, signature
from .normalize import TOKEN_SEPARATOR, tokenize
from .partition import partition_key

__all__ = ["CacheKey", "make_key"]


@dataclass(frozen=True, slots=True)
class CacheKey:
    """Where a request's answer lives.

    - ``partition``: hash of everything that must match exactly (:mod:`.partition`);
    - ``normalized``: the prompt's normal form (:mod:`.normalize`), the exact-match part;
    - ``entry_id``: hash of both: the direct key of an exact hit, and the single-flight key;
    - ``decisive``: the prompt's content words in canonical form (:mod:`.canonical`);
    - ``signature``: hash of the sorted content words (:func:`.guard.signature`): the
      similarity bucket, which holds every prompt the guard could accept.
    """

    partition: str
    normalized: str
    decisive: tuple[str, ...]
    signature: str
    entry_id: str
    prompt: str
    route: str
    scope: str | None

    @property
    def bucket(self) -> str:
        """The similarity bucket: same partition, same content words."""
        return f"{self.partition}:{self.signature}"

    @property
    def member(self) -> str:
        """The entry's name in the LRU order: enough to find its entry and bucket row."""
        return f"{self.partition}:{self.signature}:{self.entry_id}"


def entry_id_of(partition: str, normalized: str) -> str:
    """The id of the entry answering ``normalized`` within ``partition``."""
    digest = hashlib.sha256(f"{partition}\x00{normalized}".encode())
    return digest.hexdigest()[:32]


def make_key(
    request: Request,
    *,
    route: str,
    scope: str | None = None,
    ignore_extra: Iterable[str] = (),
) -> CacheKey:
    """Compute the :class:`CacheKey` of a request (raises ``UncacheableRequest``)."""
    partition = partition_key(request, route=route, scope=scope, ignore_extra=ignore_extra)
    prompt = request.prompt
    tokens = [t for t, _ in tokenize(prompt)]
    normalized = TOKEN_SEPARATOR.join(tokens)
    decisive = decisive_tokens(tokens)
    return CacheKey(
        partition=partition,
        normalized=normalized,
        decisive=decisive,
        signature=signature(decisive),
        entry_id=entry_id_of(partition, normalized),
        prompt=prompt,
        route=route,
        scope=scope,
    )
