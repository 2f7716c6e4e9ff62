"""Wrong class codes, counted per address: guessing codes from one address is slowed to a crawl,
while a whole class joining from one address (right codes) is never counted at all."""

from __future__ import annotations

import time
from collections import OrderedDict, deque

WRONG_CODES = 20
WINDOW_SECONDS = 300.0
ADDRESSES_KEPT = 10_000  # the oldest address is forgotten first: memory stays bounded under a flood


class WrongCodes:
    """In this process's memory: with several web replicas each counts its own share, which still
    leaves a guesser `WRONG_CODES` tries per replica in five minutes against about 148 million codes."""

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

    def retry_after(self, address: str) -> int:
        """Seconds until this address may try a code again; 0: now."""
        now = time.monotonic()
        times = self._recent(address, now)
        return int(self.window - (now - times[0])) + 1 if len(times) >= self.most else 0

    def wrong(self, address: str) -> None:
        self._recent(address, time.monotonic()).append(time.monotonic())
