"""A worker's writes to Redis, sent by a thread of their own so steps never wait on a round trip.

The main thread queues a batch of commands (one poll's events and hash updates) and goes back to
training; the sender thread sends what is queued as one pipeline, in order. While Redis is
unreachable the batches wait and go, still in order, once it is back; when Redis lost its
scripts (a restart), they are loaded again and the batch goes again. Waiting for an answer cost
the fastest demo about a twentieth of its speed when the main thread did it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable

import redis
from redis.exceptions import NoScriptError

Command = tuple[str, tuple]  # a pipeline method's name and its arguments

RETRY_SECONDS = 0.5  # while Redis is unreachable, try again this often

log = logging.getLogger("modelterms.worker")


class Outbox:
    def __init__(self, client: redis.Redis, load_scripts: Callable[[], None]) -> None:
        self.redis = client
        self.load_scripts = load_scripts
        self.batches: deque[list[Command]] = deque()  # queued and in flight, oldest first
        self.changed = threading.Condition()
        self.closed = False

    def put(self, batch: list[Command]) -> None:
        with self.changed:
            self.batches.append(batch)
            self.changed.notify_all()

    def drain(self, timeout: float) -> bool:
        """Wait until every queued batch has gone; False if some are still waiting at `timeout`."""
        with self.changed:
            return self.changed.wait_for(lambda: not self.batches, timeout)

    def close(self) -> None:
        """The sender thread ends once nothing is left to send (or at once, with Redis away)."""
        with self.changed:
            self.closed = True
            self.changed.notify_all()

    def send_forever(self) -> None:
        """The sender thread."""
        while True:
            with self.changed:
                self.changed.wait_for(lambda: self.batches or self.closed)
                if not self.batches:
                    return  # closed, all sent
                taken = list(self.batches)  # what queued while the last pipeline was out goes as one
            if not self._send([command for batch in taken for command in batch]):
                if self.closed:
                    return  # shutting down with Redis away: what is left is lost, and was logged
                time.sleep(RETRY_SECONDS)  # no busy loop while Redis is away
                continue
            with self.changed:
                for _ in taken:
                    self.batches.popleft()
                self.changed.notify_all()

    def _send(self, commands: list[Command]) -> bool:
        pipe = self.redis.pipeline(transaction=False)
        for method, args in commands:
            getattr(pipe, method)(*args)
        try:
            pipe.execute()
        except NoScriptError:  # Redis restarted: load them, and the batch goes again
            log.warning("Redis lost its scripts (a restart?); loading them again")
            try:
                self.load_scripts()
            except redis.RedisError as error:
                log.warning("loading the scripts failed: %s", error)
            return False
        except (redis.ConnectionError, redis.TimeoutError) as error:
            log.warning("Redis unreachable (%s); %d commands wait for it", error, len(commands))
            return False
        return True
