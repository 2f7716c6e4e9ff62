"""Classes in Redis, beside the scale-out backend's runs, so every web replica sees every class.

Keys, under the site's prefix `p`:
  p:class:<code>           hash: the ClassRecord's fields
  p:class:<code>:students  hash: token hash -> the Student as JSON
  p:class:<code>:runs      list: the ClassRuns as JSON, in the order they started
  p:class:<code>:steering  string: the teacher's preset and pinned reference (models.Steering)
Each expires KEEP_ENDED_SECONDS after the class ends.
  p:wrong-codes:<address>  sorted set: when this address tried a wrong code (the last window's)
It expires a window after the address's last wrong code.
"""

from __future__ import annotations

import functools
import inspect
import json
import logging
import math
import secrets
import time
from dataclasses import asdict

import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from app.classes.attempts import WINDOW_SECONDS, WRONG_CODES
from app.classes.records import ClassRecord, ClassRun, Student
from app.classes.store import KEEP_ENDED_SECONDS
from app.playground.core.interface import Unavailable

log = logging.getLogger("modelterms.classes")


def reachable(cls: type) -> type:
    """Every coroutine method of `cls` answers a lost Redis as Unavailable (a 503 that says so),
    as the run engine's calls do, never as a server error."""

    def wrapped(method):
        @functools.wraps(method)
        async def call(*args, **kwargs):
            try:
                return await method(*args, **kwargs)
            except (RedisConnectionError, RedisTimeoutError) as error:
                # The log has the error; a client is not told where Redis lives (its address is in the error).
                log.warning("a class request found Redis unreachable: %s", error)
                raise Unavailable("The class service cannot reach its Redis server. Try again in a moment.") from None

        return call

    for name, method in list(vars(cls).items()):
        if inspect.iscoroutinefunction(method):
            setattr(cls, name, wrapped(method))
    return cls


@reachable
class RedisWrongCodes:
    """Wrong codes per address in Redis, shared by every web replica: the tries of the last
    window, as a sorted set of times (wall clock: replicas on other hosts read the same)."""

    def __init__(self, redis: aioredis.Redis, prefix: str, most: int = WRONG_CODES, window: float = WINDOW_SECONDS):
        self.redis, self.prefix, self.most, self.window = redis, prefix, most, window

    def _key(self, address: str) -> str:
        return f"{self.prefix}:wrong-codes:{address}"

    async def retry_after(self, address: str) -> int:
        key, now = self._key(address), time.time()
        async with self.redis.pipeline() as pipe:
            pipe.zremrangebyscore(key, 0, now - self.window)
            pipe.zcard(key)
            pipe.zrange(key, 0, 0, withscores=True)
            _, count, oldest = await pipe.execute()
        return int(self.window - (now - oldest[0][1])) + 1 if count >= self.most and oldest else 0

    async def wrong(self, address: str) -> None:
        key, now = self._key(address), time.time()
        async with self.redis.pipeline() as pipe:
            pipe.zadd(key, {f"{now}:{secrets.token_hex(4)}": now})  # two tries in one instant are two
            pipe.expire(key, math.ceil(self.window))
            await pipe.execute()


@reachable
class RedisClassStore:
    def __init__(self, url: str, prefix: str) -> None:
        self.redis = aioredis.Redis.from_url(url, decode_responses=True, socket_connect_timeout=2)
        self.prefix = prefix
        self.wrong_codes = RedisWrongCodes(self.redis, prefix)

    def _key(self, code: str, part: str = "") -> str:
        return f"{self.prefix}:class:{code}" + (f":{part}" if part else "")

    async def open(self) -> None:
        pass  # the client connects on first use

    async def close(self) -> None:
        await self.redis.aclose()

    async def _keep_until_forgotten(self, key: str, code: str) -> None:
        expires = await self.redis.hget(self._key(code), "expires")
        if expires is not None:
            await self.redis.expireat(key, math.ceil(float(expires) + KEEP_ENDED_SECONDS))

    async def create(self, record: ClassRecord) -> bool:
        key = self._key(record.code)
        if not await self.redis.hsetnx(key, "code", record.code):
            return False
        await self.redis.hset(key, mapping={k: v for k, v in asdict(record).items() if k != "code"})
        await self._keep_until_forgotten(key, record.code)
        return True

    async def get(self, code: str) -> ClassRecord | None:
        fields = await self.redis.hgetall(self._key(code))
        if "expires" not in fields:
            return None  # unknown, or being created this instant
        created, expires = float(fields["created"]), float(fields["expires"])
        title, demo, teacher, viewer = (str(fields[name]) for name in ("title", "demo", "teacher_hash", "viewer_hash"))
        return ClassRecord(code, title, demo, teacher, viewer, created, expires)

    async def add_student(self, code: str, student: Student) -> None:
        key = self._key(code, "students")
        await self.redis.hset(key, student.token_hash, json.dumps(asdict(student)))
        await self._keep_until_forgotten(key, code)

    async def student(self, code: str, token_hash: str) -> Student | None:
        found = await self.redis.hget(self._key(code, "students"), token_hash)
        return Student(**json.loads(found)) if found else None

    async def students(self, code: str) -> list[Student]:
        found = await self.redis.hvals(self._key(code, "students"))
        return sorted((Student(**json.loads(s)) for s in found), key=lambda s: s.joined)

    async def add_run(self, code: str, run: ClassRun) -> None:
        key = self._key(code, "runs")
        await self.redis.rpush(key, json.dumps(asdict(run)))
        await self._keep_until_forgotten(key, code)

    async def runs(self, code: str) -> list[ClassRun]:
        return [ClassRun(**json.loads(r)) for r in await self.redis.lrange(self._key(code, "runs"), 0, -1)]

    async def steering(self, code: str) -> str | None:
        found = await self.redis.get(self._key(code, "steering"))
        return None if found is None else str(found)  # str already (decode_responses); typed as bytes | str

    async def set_steering(self, code: str, steering: str) -> None:
        key = self._key(code, "steering")
        await self.redis.set(key, steering)
        await self._keep_until_forgotten(key, code)
