"""The records of a shared flight's Redis stream: provider events, then one end record.

Each record is two fields, ``k`` (its kind) and ``v`` (its value):

- ``t``: a text chunk, ``v`` the text exactly as the provider sent it;
- ``e``: any other provider event, ``v`` a JSON object holding what a cache entry stores of
  it: its reasoning or tool-call delta (a :class:`~.entry.StoredExtra` without its place),
  its usage and its finish reason;
- ``end``: the leader's provider stream completed;
- ``err``: the leader's provider stream failed (``v`` says how, without details).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

from ..events import ProviderEvent, Usage
from .entry import StoredExtra

__all__ = ["FlightRecord", "decode_record", "encode_event"]

TEXT, EVENT, END, FAILED = "t", "e", "end", "err"


@dataclass(frozen=True, slots=True)
class FlightRecord:
    """One record read back: an event, or the end of the flight (complete or failed)."""

    event: ProviderEvent | None = None
    end: Literal["complete", "failed"] | None = None
    reason: str = ""


def encode_event(event: ProviderEvent) -> tuple[str, str]:
    """``(kind, value)`` of a provider event."""
    if event.text:
        return TEXT, event.text
    doc: dict[str, Any] = {}
    extra = StoredExtra.of(event, 0)
    if extra is not None:
        doc["x"] = extra.model_dump(exclude={"at"}, exclude_defaults=True)
    if event.usage is not None:
        doc["u"] = event.usage.model_dump()
    if event.finish_reason is not None:
        doc["f"] = event.finish_reason
    return EVENT, json.dumps(doc, separators=(",", ":"))


def _text(value: bytes | str | None) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8")
    return value or ""


def decode_record(fields: dict[Any, Any]) -> FlightRecord:
    """The record of a stream entry's fields (keys and values as bytes or text).

    Raises ``ValueError`` for a record this version does not know.
    """
    values = {_text(k): _text(v) for k, v in fields.items()}
    kind, value = values.get("k"), values.get("v", "")
    if kind == TEXT:
        return FlightRecord(ProviderEvent(text=value))
    if kind == END:
        return FlightRecord(end="complete")
    if kind == FAILED:
        return FlightRecord(end="failed", reason=value)
    if kind != EVENT:
        raise ValueError(f"unknown shared-flight record kind {kind!r}")
    doc = json.loads(value)
    extra = doc.get("x")
    event = StoredExtra.model_validate({"at": 0, **extra}).event() if extra else ProviderEvent()
    if doc.get("u") is not None:
        event.usage = Usage.model_validate(doc["u"])
    if doc.get("f") is not None:
        event.finish_reason = str(doc["f"])
    return FlightRecord(event)
