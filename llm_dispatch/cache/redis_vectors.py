"""The vector index shared through plain Redis: vectors in Redis, a mirror in each process.

No Redis module is needed. Keys, under the cache's ``{namespace}:``:

- ``vx`` — a hash, one field per indexed entry (its id), whose value is a JSON row:
  partition ``p``, bucket ``b``, normalised prompt ``n``, vectorizer ``z``, vector ``v``
  (base64 float32), expiry ``x`` (epoch ms);
- ``vlog`` — a stream of changes, each with a sequence number ``s`` (from ``vseq``): an
  added or replaced row (``a``: entry id, ``r``: row) and/or removed entry ids (``d``,
  space-separated). It is trimmed to about :data:`LOG_LENGTH` changes;
- ``vseq`` — the number of the last change.

The rows and the changes are written in the same Lua call as the entry's LRU position and
its evictions (:mod:`.redis_store`), so the log never misses a change. Each process keeps
a :class:`~.vector_index.VectorIndex` of the whole namespace (its *mirror*) and brings it
up to date before a search with one transaction (``GET vseq`` + ``XREAD`` of the changes
after the last one it applied). It loads ``vx`` whole only when it starts, when it falls
more than :data:`LOG_LENGTH` changes behind, or after the namespace was cleared (``vseq``
went back): replaying the changes made during that load over it converges, since adding
a row and removing an entry are idempotent.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import numpy as np

from .store import IndexRow
from .vector_index import Nearest, VectorIndex

__all__ = ["LOG_LENGTH", "RedisVectorMirror", "index_row_json"]

#: Changes kept in the stream (approximately: Redis trims whole nodes).
LOG_LENGTH = 10_000
_SCAN_BATCH = 1_000

# Remove entries from the vector rows and log the removal (KEYS: vx, vlog, vseq; ARGV:
# log length, entry ids...).
_DROP_SCRIPT = """
local removed = {}
for i = 2, #ARGV do
  if redis.call('HDEL', KEYS[1], ARGV[i]) == 1 then removed[#removed + 1] = ARGV[i] end
end
if #removed > 0 then
  local seq = redis.call('INCR', KEYS[3])
  redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[1], '*', 's', seq,
             'd', table.concat(removed, ' '))
end
return #removed
"""


def index_row_json(partition: str, row: IndexRow, encoded_vector: str) -> str:
    """The ``vx`` value of a row (the entry id is its field)."""
    doc: dict[str, Any] = {
        "p": partition,
        "b": row.bucket,
        "n": row.normalized,
        "z": row.vectorizer,
        "v": encoded_vector,
    }
    if row.expires_at_ms is not None:
        doc["x"] = row.expires_at_ms
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":"))


def _text(value: bytes | str) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else value


class RedisVectorMirror:
    """This process's copy of a namespace's vector rows, synchronised from the log."""

    def __init__(self, client: Any, namespace: str) -> None:
        self._client = client
        self.rows_key = f"{namespace}:vx"
        self.log_key = f"{namespace}:vlog"
        self.seq_key = f"{namespace}:vseq"
        self.index = VectorIndex()
        self._drop = client.register_script(_DROP_SCRIPT)
        self._loaded = False
        self._seq = 0
        self._last_id = "0-0"
        #: Full loads of ``vx`` so far (the first one included).
        self.loads = 0

    @property
    def keys(self) -> list[str]:
        """The keys a store script writes the index through: rows, log, sequence."""
        return [self.rows_key, self.log_key, self.seq_key]

    async def log_drop(self, pipe: Any, entry_ids: list[str]) -> None:
        """Queue, on ``pipe``, the removal of these entries' rows and its log record."""
        if entry_ids:
            await self._drop(keys=self.keys, args=[LOG_LENGTH, *entry_ids], client=pipe)

    # -- reading -------------------------------------------------------------------------

    def _apply_row(self, entry_id: str, text: str) -> None:
        try:
            doc = json.loads(text)
            vector = np.frombuffer(base64.b64decode(doc["v"]), dtype=np.float32)
            row = IndexRow(
                entry_id=entry_id,
                normalized=str(doc["n"]),
                vectorizer=str(doc["z"]),
                expires_at_ms=int(doc["x"]) if doc.get("x") else None,
                bucket=str(doc.get("b", "")),
            )
            partition = str(doc["p"])
        except (ValueError, KeyError, TypeError):
            self.index.remove(entry_id)  # written by an incompatible version: not indexed
            return
        self.index.add(partition, row, vector)

    def _apply(self, values: dict[str, str]) -> None:
        for entry_id in values.get("d", "").split():
            self.index.remove(entry_id)
        if "a" in values and "r" in values:
            self._apply_row(values["a"], values["r"])

    async def _load(self) -> None:
        """Read every row (``HSCAN``), then replay the changes made meanwhile."""
        pipe = self._client.pipeline(transaction=True)
        pipe.get(self.seq_key)
        pipe.xrevrange(self.log_key, count=1)
        seq, last = await pipe.execute()
        self.index.clear()
        async for field, value in self._client.hscan_iter(self.rows_key, count=_SCAN_BATCH):
            self._apply_row(_text(field), _text(value))
        self._seq = int(seq or 0)
        self._last_id = _text(last[0][0]) if last else "0-0"
        self._loaded = True
        self.loads += 1

    async def sync(self) -> None:
        """Apply the changes logged since the last sync (one round trip), or reload."""
        if not self._loaded:
            await self._load()
        for _ in range(3):
            if await self._catch_up():
                return
            await self._load()

    async def _catch_up(self) -> bool:
        """Apply the new changes; False when they cannot be applied in order (reload)."""
        pipe = self._client.pipeline(transaction=True)
        pipe.get(self.seq_key)
        pipe.xread({self.log_key: self._last_id})
        seq_raw, streams = await pipe.execute()
        seq = int(seq_raw or 0)
        if seq < self._seq:
            return False  # the namespace was cleared
        for _, entries in streams or []:
            for entry_id, fields in entries:
                values = {_text(k): _text(v) for k, v in fields.items()}
                if int(values.get("s", 0)) != self._seq + 1:
                    return False  # trimmed away, or a stream from before a clear
                self._apply(values)
                self._seq += 1
                self._last_id = _text(entry_id)
        # Both read in one transaction: every change up to ``seq`` must have been applied.
        return self._seq == seq

    async def search(
        self, partition: str, query: list[float], *, k: int, min_score: float, now_ms: int
    ) -> list[Nearest]:
        """:meth:`.VectorIndex.search` on the mirror, brought up to date first."""
        await self.sync()
        return self.index.search(partition, query, k=k, min_score=min_score, now_ms=now_ms)
