"""Nearest stored prompts by cosine, within a partition: the cache's vector index.

Needs numpy (the ``semantic`` extra). Each partition holds its entries' unit vectors in a
float32 matrix grown by doubling; an entry is added in place and removed by moving the
last row into its slot, so both cost one row copy whatever the size.

A search of a small partition (up to :data:`EXACT_LIMIT` entries) scores every row: one
matrix-vector product. Beyond that the product would read the whole matrix (100 MB at
100,000 entries of 256 floats, about 20 ms), so a search first ranks rows by the Hamming
distance of 256-bit sign codes (random-hyperplane hashing: the fraction of differing bits
estimates the angle between two vectors), which reads 32 bytes a row, then scores the
:data:`SHORTLIST` closest rows exactly. That second stage makes it approximate: a row is
missed only if more than :data:`SHORTLIST` rows have codes closer to the query's than its
own, which for a row scoring 0.7 or more takes hundreds of near-duplicates of it.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from .store import IndexRow

if TYPE_CHECKING:
    from collections.abc import Sequence

    import numpy.typing as npt

    Matrix = npt.NDArray[np.float32]
    Codes = npt.NDArray[np.uint64]

__all__ = ["CODE_BITS", "EXACT_LIMIT", "SHORTLIST", "Nearest", "VectorIndex"]

#: Partitions up to this size are searched exactly (about 1 ms at 256 dimensions).
EXACT_LIMIT = 8_192
#: Rows scored exactly after the Hamming ranking of a larger partition.
SHORTLIST = 256
#: Bits of the sign codes of the Hamming ranking.
CODE_BITS = 256
_WORDS = CODE_BITS // 64
_FIRST_CAPACITY = 16
# Cosine of identical unit vectors can come out a hair below 1.0 in float32.
_SCORE_EPSILON = 1e-6


@dataclass(frozen=True, slots=True)
class Nearest:
    """One search result: the row (its ``vector`` set from the index) and its score."""

    score: float
    row: IndexRow


class _Partition:
    """One partition's rows: unit vectors, sign codes and the index rows, slot by slot."""

    __slots__ = ("codes", "count", "rows", "slots", "vectors")

    def __init__(self, dim: int) -> None:
        self.vectors: Matrix = np.zeros((_FIRST_CAPACITY, dim), dtype=np.float32)
        # One array per 64-bit word of the codes: a search XORs each against one word.
        self.codes: Codes = np.zeros((_WORDS, _FIRST_CAPACITY), dtype=np.uint64)
        self.rows: list[IndexRow] = []
        self.slots: dict[str, int] = {}
        self.count = 0

    def _grow(self) -> None:
        capacity = 2 * self.vectors.shape[0]
        vectors = np.zeros((capacity, self.vectors.shape[1]), dtype=np.float32)
        vectors[: self.count] = self.vectors[: self.count]
        codes = np.zeros((_WORDS, capacity), dtype=np.uint64)
        codes[:, : self.count] = self.codes[:, : self.count]
        self.vectors, self.codes = vectors, codes

    def put(self, row: IndexRow, vector: npt.NDArray[np.float32], code: Codes) -> None:
        slot = self.slots.get(row.entry_id)
        if slot is None:
            if self.count == self.vectors.shape[0]:
                self._grow()
            slot = self.count
            self.count += 1
            self.rows.append(row)
            self.slots[row.entry_id] = slot
        else:
            self.rows[slot] = row
        self.vectors[slot] = vector
        self.codes[:, slot] = code

    def remove(self, entry_id: str) -> bool:
        slot = self.slots.pop(entry_id, None)
        if slot is None:
            return False
        last = self.count - 1
        if slot != last:
            moved = self.rows[last]
            self.rows[slot] = moved
            self.slots[moved.entry_id] = slot
            self.vectors[slot] = self.vectors[last]
            self.codes[:, slot] = self.codes[:, last]
        self.rows.pop()
        self.count = last
        return True

    def shortlist(self, code: Codes) -> npt.NDArray[np.intp]:
        """Slots of the :data:`SHORTLIST` rows whose codes are closest to ``code``."""
        n = self.count
        distance = np.bitwise_count(self.codes[0, :n] ^ code[0]).astype(np.uint16)
        for word in range(1, _WORDS):
            distance += np.bitwise_count(self.codes[word, :n] ^ code[word])
        # The cut-off distance from a histogram of the distances (0 ... CODE_BITS): a pass
        # over them instead of a selection, which costs several times more at 100,000 rows.
        below_or_at = np.cumsum(np.bincount(distance, minlength=CODE_BITS + 1))
        cut = int(np.searchsorted(below_or_at, SHORTLIST))
        closer = np.flatnonzero(distance < cut)
        tied = np.flatnonzero(distance == cut)[: SHORTLIST - len(closer)]
        return np.concatenate((closer, tied))


class VectorIndex:
    """Unit vectors of stored prompts, by partition; :meth:`search` finds the nearest.

    Rows are kept by reference (the index never reads their ``vector``); results carry a
    copy of the row with ``vector`` set from the index, ready for scoring.
    """

    def __init__(self, dim: int | None = None) -> None:
        self.dim = dim
        self._planes: Matrix | None = None
        self._partitions: dict[str, _Partition] = {}
        self._where: dict[str, str] = {}

    def __len__(self) -> int:
        return len(self._where)

    def __contains__(self, entry_id: object) -> bool:
        return entry_id in self._where

    @property
    def partitions(self) -> int:
        """Partitions holding at least one row."""
        return len(self._partitions)

    def nbytes(self) -> int:
        """Bytes held by the matrices and codes (rows and dicts not counted)."""
        return sum(p.vectors.nbytes + p.codes.nbytes for p in self._partitions.values())

    def _unit(self, vector: Sequence[float] | npt.NDArray[np.float32]) -> Matrix | None:
        unit = np.asarray(vector, dtype=np.float32).reshape(-1)
        if self.dim is None:
            self.dim = int(unit.shape[0])
        if unit.shape[0] != self.dim:
            return None
        norm = float(np.linalg.norm(unit))
        return unit / norm if norm > 0.0 else None

    def _code(self, unit: Matrix) -> Codes:
        if self._planes is None:
            assert self.dim is not None
            # Fixed planes: codes stay comparable for the life of the index.
            rng = np.random.default_rng(CODE_BITS)
            self._planes = rng.standard_normal((self.dim, CODE_BITS)).astype(np.float32)
        bits = np.packbits(unit @ self._planes > 0.0)
        return bits.view(np.uint64)

    def add(
        self, partition: str, row: IndexRow, vector: Sequence[float] | npt.NDArray[np.float32]
    ) -> bool:
        """Add or replace ``row`` under ``partition``; False (nothing added) for a null
        vector or one of another size than the index's."""
        unit = self._unit(vector)
        if unit is None:
            self.remove(row.entry_id)
            return False
        previous = self._where.get(row.entry_id)
        if previous is not None and previous != partition:
            self.remove(row.entry_id)
        block = self._partitions.get(partition)
        if block is None:
            assert self.dim is not None
            block = self._partitions[partition] = _Partition(self.dim)
        block.put(row, unit, self._code(unit))
        self._where[row.entry_id] = partition
        return True

    def remove(self, entry_id: str) -> bool:
        """Forget an entry; False if it was not indexed."""
        partition = self._where.pop(entry_id, None)
        if partition is None:
            return False
        block = self._partitions[partition]
        block.remove(entry_id)
        if not block.count:
            del self._partitions[partition]
        return True

    def clear(self) -> None:
        self._partitions.clear()
        self._where.clear()

    def search(
        self,
        partition: str,
        query: Sequence[float] | npt.NDArray[np.float32],
        *,
        k: int,
        min_score: float,
        now_ms: int,
    ) -> list[Nearest]:
        """Up to ``k`` unexpired rows of ``partition`` scoring at least ``min_score``
        against ``query``, best first."""
        block = self._partitions.get(partition)
        if block is None or k < 1:
            return []
        unit = self._unit(query)
        if unit is None:
            return []
        if block.count <= EXACT_LIMIT:
            slots = np.arange(block.count)
            scores = block.vectors[: block.count] @ unit
        else:
            slots = block.shortlist(self._code(unit))
            scores = block.vectors[slots] @ unit
        keep = scores >= min_score - _SCORE_EPSILON
        slots, scores = slots[keep], scores[keep]
        order = np.argsort(-scores, kind="stable")
        found: list[Nearest] = []
        for i in order:
            slot = int(slots[i])
            row = block.rows[slot]
            if row.expired(now_ms):
                continue
            vector = array("f")
            vector.frombytes(block.vectors[slot].tobytes())
            found.append(Nearest(min(float(scores[i]), 1.0), replace(row, vector=vector)))
            if len(found) == k:
                break
        return found
