"""Wrong class codes, counted per address: guessing codes from one address is slowed to a crawl,
while a whole class joining from one address (right codes) is never counted at all.

Each class store keeps its own counter where it keeps classes: in this process's memory beside
SQLite (one web process), in Redis beside the scale-out backend, so that a guesser who spreads
tries over several web replicas meets one count, not one per replica."""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from typing import Protocol

WRONG_CODES = 20
WINDOW_SECONDS = 300.0
ADDRESSES_KEPT = 10_000  # the oldest address is forgotten first: memory stays bounded under a flood


class WrongCodeCounter(Protocol):
    async def retry_after(self, address: str) -> int:
        """Seconds until this address may try a code again; 0: now."""
        ...

    async def wrong(self, address: str) -> None: ...


class WrongCodes:
    """In this process's memory: the embedded engine's one web process sees every try."""

    def __init__(self, most: int = WRONG_CODES, window: float = WINDOW_SECONDS) -> None:
        self.most, self.window = most, window
        self._seen: OrderedDict[str, deque[float]] = OrderedDict()

    def _recent(self, address: str, now: float) -> deque[float]:
        times = self._seen.setdefault(address, deque())
        self._seen.move_to_end(address)
        while times and now - times[0] > self.window:
            times.popleft()
        while len(self._seen) > ADDRESSES_KEPT:
            self._seen.popitem(last=False)
        return times

    async def retry_after(self, address: str) -> int:
        now = time.monotonic()
        times = self._recent(address, now)
        return int(self.window - (now - times[0])) + 1 if len(times) >= self.most else 0

    async def wrong(self, address: str) -> None:
        self._recent(address, time.monotonic()).append(time.monotonic())
