"""One blocking XREAD per web replica for the event streams of all the runs its clients follow.

A follower that blocks on XREAD of its own holds a Redis connection for as long as it watches: a
class of hundreds watching their runs would hold hundreds of connections per replica. Here one
task reads every followed stream in a single XREAD and hands each stream's new entries to the
followers of that stream. What a stream stored before a follower came is read by the follower
itself with XRANGE (not blocking: any pooled connection serves it). A stream that joins is read
at once, not after the XREAD in flight ends: the XREAD also reads a wake-up stream of this
replica's own, and joining adds an entry to it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from app.playground.redis.schema import StreamReads, stream_batches

log = logging.getLogger("modelterms.redis")

BLOCK_MS = 5_000  # how long one XREAD waits for news: a joining stream wakes it sooner
RETRY_SECONDS = 0.5  # after a failed XREAD (Redis unreachable): the followers are told, and go


def entry_number(entry_id: str) -> int:
    """Event n is entry `n-0` (see app.playground.redis.schema)."""
    return int(entry_id.partition("-")[0])


class Tail:
    def __init__(self, redis: aioredis.Redis, wake_key: str, block_ms: int = BLOCK_MS) -> None:
        self.redis = redis
        self.wake_key = wake_key
        self.block_ms = block_ms
        self._followers: dict[str, set[asyncio.Queue]] = {}  # by stream key
        self._read_from: dict[str, str] = {}  # the entry id each stream's next XREAD reads after
        self._followed = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._closing = False

    @contextlib.asynccontextmanager
    async def follow(self, key: str, after: int) -> AsyncIterator[tuple[asyncio.Queue, int]]:
        """Hands the follower of stream `key`, who has everything up to entry `after`, a queue of
        the entries read from now on (lists of them; a RedisError when Redis is lost), and the
        last entry already read for others: entries after `after` up to it are the follower's
        to read (XRANGE). The queue may also repeat entries up to `after`: skip them."""
        queue: asyncio.Queue = asyncio.Queue()
        joins = key not in self._followers
        if joins:
            self._followers[key], self._read_from[key] = set(), f"{after}-0"
        self._followers[key].add(queue)
        self._followed.set()
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._read())
        try:
            if joins:  # after joining: the XREAD it wakes, or the next one, reads this stream too
                await self.redis.xadd(self.wake_key, {"joined": key}, maxlen=1)
            yield queue, entry_number(self._read_from[key])
        finally:
            followers = self._followers[key]
            followers.discard(queue)
            if not followers:
                del self._followers[key], self._read_from[key]

    async def close(self) -> None:
        self._closing = True  # as the engine's watch: a cancel lost inside XREAD still ends the loop
        self._followed.set()
        if self._task:
            self._task.cancel()
            await asyncio.wait([self._task])
        with contextlib.suppress(RedisError):
            await self.redis.delete(self.wake_key)

    async def _read(self) -> None:
        while not self._closing:
            if not self._followers:
                self._followed.clear()
                await self._followed.wait()
                continue
            asked = dict(self._read_from)
            # "$": wake-ups from the moment this XREAD starts; one just before it is moot, since the
            # stream that sent it is in `asked` already.
            streams: StreamReads = {key: entry_id for key, entry_id in asked.items()}  # typed for xread
            streams[self.wake_key] = "$"
            try:
                answer = await self.redis.xread(streams, count=1000, block=self.block_ms)
            except RedisError as error:
                log.warning("reading the followed event streams failed: Redis %s", error)
                for queues in self._followers.values():
                    for queue in queues:
                        queue.put_nowait(error)
                await asyncio.sleep(RETRY_SECONDS)
                continue
            for key, entries in stream_batches(answer):
                # A stream whose followers all left during the read, and were perhaps followed
                # again from another point, is read again from that point instead.
                if key in asked and self._read_from.get(key) == asked[key]:
                    self._read_from[key] = entries[-1][0]
                    for queue in self._followers[key]:
                        queue.put_nowait(entries)
