"""A run's numbered event log: append from the engine, follow from any number of clients."""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from typing import Any

KEEPALIVE_SECONDS = 15.0


@dataclass(frozen=True)
class Event:
    id: int
    type: str
    sse: bytes
    """The event as a Server-Sent Events frame, encoded once however many clients follow: what
    everyone but the run's creator reads, and what is stored."""
    creator_sse: bytes | None = None
    """The frame for the run's creator alone, when it holds more than `sse` (see `for_creator`)."""

    @classmethod
    def create(cls, id_: int, type_: str, data: dict[str, Any], hidden: frozenset[str] = frozenset()) -> Event:
        """`hidden`: the keys that go to the run's creator only (`Demo.creator_only`, on a run whose
        text is withheld)."""
        return cls.relayed(id_, type_, *encode_event(type_, data, hidden))

    @classmethod
    def relayed(cls, id_: int, type_: str, payload: bytes, creator_payload: bytes | None = None) -> Event:
        """An event whose data was encoded elsewhere (a worker's points: `encode_event` there): only
        framed here, never decoded."""
        creator_sse = frame(id_, type_, creator_payload) if creator_payload is not None else None
        return cls(id_, type_, frame(id_, type_, payload), creator_sse)

    @property
    def has_creator_frame(self) -> bool:
        return self.creator_sse is not None

    def forgotten(self) -> Event:
        """This event without its creator's frame: what outlives the run."""
        return replace(self, creator_sse=None) if self.creator_sse is not None else self


class EventLog:
    """Events numbered 1, 2, 3, ... Followers replay everything after an id, then wait live."""

    def __init__(self, events: list[Event] | None = None, closed: bool = False) -> None:
        self.events: list[Event] = events or []
        self.closed = closed
        self._changed = asyncio.Event()

    def append(self, type_: str, data: dict[str, Any], hidden: frozenset[str] = frozenset()) -> Event:
        return self.relay(type_, *encode_event(type_, data, hidden))

    def relay(self, type_: str, payload: bytes, creator_payload: bytes | None = None) -> Event:
        """Append an event whose data is encoded already (`Event.relayed`)."""
        if self.closed:
            raise RuntimeError("the event log of a finished run is closed")
        event = Event.relayed(len(self.events) + 1, type_, payload, creator_payload)
        self.events.append(event)
        if type_ == "end":
            self.closed = True
        self._wake()
        return event

    def _wake(self) -> None:
        # Waking every follower at once: each re-reads from its own position, so one
        # event set per append is enough however many clients follow.
        self._changed.set()
        self._changed = asyncio.Event()

    async def follow(self, after: int) -> AsyncIterator[Event | None]:
        """Yields each event after id `after`, in order; yields None as a keep-alive tick."""
        position = max(after, 0)
        while True:
            while position < len(self.events):
                position += 1
                yield self.events[position - 1]
            if self.closed:
                return
            changed = self._changed
            try:
                await asyncio.wait_for(changed.wait(), KEEPALIVE_SECONDS)
            except TimeoutError:
                yield None


def frame(id_: int, type_: str, payload: bytes) -> bytes:
    return b"id: %d\nevent: %s\ndata: %s\n\n" % (id_, type_.encode(), payload)


def encode_event(type_: str, data: dict[str, Any], hidden: frozenset[str] = frozenset()) -> tuple[bytes, bytes | None]:
    """An event's data as everyone reads it and, when it holds more, as its creator does: compact
    JSON, encoded once. A worker calls this for its points, so the web process only frames them."""
    public, full = for_creator(type_, data, hidden)
    return encode_data(public)[1].encode(), encode_data(full)[1].encode() if full is not None else None


def for_creator(type_: str, data: dict[str, Any], hidden: frozenset[str]) -> tuple[dict[str, Any], dict | None]:
    """(public, full) data of an event: public lacks the `hidden` keys of a `start` event's facts
    and of each point of a `metrics` event; full is None when nothing was hidden (the usual case:
    a run on our text, or a point with no sample)."""
    if type_ == "start" and hidden & data.keys():
        return {k: v for k, v in data.items() if k not in hidden}, data
    if type_ == "metrics" and hidden and any(hidden & p.keys() for p in data["points"]):
        return data | {"points": [{k: v for k, v in p.items() if k not in hidden} for p in data["points"]]}, data
    return data, None


def end_data(status: str, message: str, step: int, summary: dict, reason: str | None = None) -> dict:
    """An `end` event's data, on both backends; `reason` only where the status alone would mislead (SERVER_STOPPED)."""
    return {"status": status, "message": message, "step": step, "summary": summary} | (
        {"reason": reason} if reason else {}
    )


def encode_data(data: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """An event's data (non-finite numbers made null) and its compact JSON."""
    try:
        return data, json.dumps(data, separators=(",", ":"), allow_nan=False)
    except ValueError:  # JSON has no NaN or infinity; only this rare case pays for the walk
        data = finite_json(data)
        return data, json.dumps(data, separators=(",", ":"), allow_nan=False)


def finite_json(value: Any) -> Any:
    """A copy with every non-finite float replaced by null (a diverged loss, say)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite_json(v) for v in value]
    return value
