"""The Redis backend's transport on a web replica (core.transport.RunTransport); its decisions
are core.service.RunService's. A replica keeps no run in memory: it admits runs (one Lua script,
atomic across replicas), reads any run's state from its hash, follows any run's event stream
(stored entries by XRANGE, then one blocking XREAD for all followed streams, so `Last-Event-ID`
resumes on any replica), and sends live changes and cancels to the worker training the run
through that worker's control stream. `modelterms worker` processes
(app.playground.redis.worker) do the training; the layout is in app.playground.redis.schema.

Every replica also keeps watch, once a period: a worker whose heartbeat has expired is reaped
(its runs end `failed`, saying why; runs it had taken from the queue but not yet claimed go back
to the queue). Its RunService cancels the runs nobody follows (`unwatched`: a follower on any
replica renews the run's `watched` key). Two replicas doing the same at once is harmless: ending a
run is idempotent, and a run is claimed only once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import secrets
import time
import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from app.demos import load_demos
from app.demos.base import Demo
from app.playground.core import admission
from app.playground.core.events import KEEPALIVE_SECONDS, encode_data, end_data
from app.playground.core.interface import (
    ACTIVE,
    DEAD_AFTER_BEATS,
    Budget,
    StoredRun,
    Unavailable,
    idle_look_seconds,
    worker_stopped,
)
from app.playground.core.transport import Changed, NewRun, Progress, Refusal, Sent
from app.playground.redis.schema import (
    DISPATCH_MAXLEN,
    GROUP,
    SCRIPTS,
    Keys,
    ScriptArgs,
    hash_fields,
    members,
    stream_entries,
)
from app.playground.redis.tail import Tail, entry_number
from app.settings import Settings

ESTIMATE_SECONDS = 1.0
"""How long the active runs read for a Retry-After estimate are reused: refusals come in floods."""
REAP_LOCK_SECONDS = 10
STORED_PAGE = 1000  # entries per XRANGE when a follower catches up
RUN_ID = re.compile(r"[0-9a-f]{12}")  # as submit makes them; anything else would name other keys
WORKER_GONE = worker_stopped("it went silent (its host went away, or it was stopped or killed).")
WAKE_SECONDS = 1.0
"""A follower wakes at least this often (sooner for a run with a short idle budget): to keep its
run marked as watched, and to notice that this replica stops."""
LATE_WATCHES = 2
"""A watch that comes this many periods late (Redis frozen, the loop starved) starts contact anew."""

log = logging.getLogger("modelterms.redis")


@dataclass(frozen=True, slots=True)
class StreamEvent:
    """One entry of a run's event stream, as a follower hands it on (core.transport.Tailed)."""

    number: int
    type: str
    sse: bytes
    has_creator_frame: bool


@dataclass
class RedisRun:
    """An active run as one read of its hash saw it."""

    id: str
    demo: Demo
    params: dict[str, Any]
    params_raw: str  # the hash's own text, for the compare-and-set of a change to a queued run
    status: str
    step: int
    summary: dict[str, Any]
    control_token: str
    events: int
    queue_position: int | None
    budget: Budget  # stamped at admission (the hash's `budget`): its idle limit is what followers keep

    @property
    def finished(self) -> bool:
        return self.status not in ACTIVE

    @property
    def event_count(self) -> int:
        return self.events


class RedisTransport:
    """The Redis backend's storage and wire on a web replica (core.transport.RunTransport)."""

    def __init__(self, settings: Settings) -> None:
        assert settings.redis_url, "the Redis backend needs MODELTERMS_REDIS_URL"
        self.settings = settings
        self.keys = Keys(settings.redis_prefix)
        self.demos = load_demos(settings.extra_demo_modules)
        self.redis = aioredis.Redis.from_url(settings.redis_url, decode_responses=True, socket_connect_timeout=2)
        self.scripts = {name: self.redis.register_script(source) for name, source in SCRIPTS.items()}
        self.accepting = False
        self._stopping = asyncio.Event()
        self._followers = 0
        self._tail = Tail(self.redis, self.keys.wake(uuid.uuid4().hex[:12]))
        self._watch_task: asyncio.Task | None = None
        self._health: dict[str, Any] = {"redis": "not checked yet"}
        self._active_read: tuple[float, list] = (-ESTIMATE_SECONDS, [])  # for Retry-After: when, and what
        # Since when this replica has heard Redis without a break, and when it last did: a worker's
        # expired heartbeat means it died only if Redis could have heard it all that time.
        self._heard_since: float | None = None
        self._heard_at = 0.0

    # --- lifecycle -----------------------------------------------------------------------
    async def start(self) -> None:
        self.accepting = True
        await self._keep_watch()
        self._watch_task = asyncio.create_task(self._every(self._watch_period))

    async def stop(self) -> None:
        """Stop admitting and close every stream here; the runs go on training on their workers,
        and a client that reconnects to another replica resumes where it was."""
        if self._stopping.is_set():
            return
        self.accepting = False
        self._stopping.set()
        if self._watch_task:
            self._watch_task.cancel()
            await asyncio.wait([self._watch_task])  # not `await task`: a cancel of stop itself still counts
        deadline = time.monotonic() + WAKE_SECONDS + 1
        while self._followers and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        await self._tail.close()
        await self.redis.aclose()

    def health(self) -> dict[str, Any]:
        return dict(self._health)

    @property
    def _keep(self) -> tuple[int, int]:
        """The finish script's retention: runs kept in all, and of one client."""
        return self.settings.keep_runs, self.settings.keep_runs_per_client

    @property
    def _watch_period(self) -> float:
        return idle_look_seconds(self.settings.idle_cancel_seconds, self.settings.heartbeat_seconds)

    def _heard(self) -> bool:
        """Note that Redis answered now; True once it has answered without a break for as long as a
        silent worker takes to be dead. After an outage (Redis down, frozen or cut off) every
        heartbeat may have expired meanwhile, though the workers lived: they get that long to beat
        again before any is reaped."""
        now = time.monotonic()
        if self._heard_since is None or now - self._heard_at > LATE_WATCHES * self._watch_period:
            self._heard_since = now
        self._heard_at = now
        return now - self._heard_since >= DEAD_AFTER_BEATS * self.settings.heartbeat_seconds

    async def _every(self, seconds: float) -> None:
        # Not `while True`: `stop` cancels this task, but a cancel that lands inside a Redis call
        # can be lost there (seen once: the watch went on every second and shutdown waited for it
        # for ever), so the loop also ends on the flag that `stop` sets first.
        while not self._stopping.is_set():
            await asyncio.sleep(seconds)
            await self._keep_watch()

    async def _keep_watch(self) -> None:
        """Refresh /healthz, reap dead workers; never raises."""
        try:
            await self._ensure_group()
            workers = hash_fields(await self.redis.hgetall(self.keys.workers))
            async with self.redis.pipeline(transaction=False) as pipe:
                for worker in workers:
                    pipe.exists(self.keys.alive(worker))
                pipe.scard(self.keys.active)
                pipe.zcard(self.keys.queued)
                *alive, active, queued = await pipe.execute()
            may_reap = self._heard()
            live = [json.loads(info) for (worker, info), up in zip(workers.items(), alive, strict=True) if up]
            capacity = sum(w["capacity"] for w in live)
            self._health = {
                "backend": "redis",
                "redis": "ok",
                "workers": len(live),
                "workers_ready": len(live),
                "device": next((w["device"] for w in live), None),
                "devices": sorted({w["device"] for w in live}),
                "capacity": capacity,
                "running": active - queued,
                "queued": queued,
                "preparing": [],
                "store": "ok",
            }
            for worker, up in zip(workers, alive, strict=True):
                if not up and may_reap:
                    await self._reap(worker)
        except RedisError as error:
            self._heard_since = None
            reason = f"unreachable ({type(error).__name__}; the server's log says more)"
            self._health = {
                "backend": "redis",
                "redis": reason,
                "workers": 0,
                "workers_ready": 0,
                "device": None,
                "capacity": 0,
                "store": f"Redis {reason}",
            }
            log.warning("Redis unreachable: %s", error)
        except Exception:
            log.exception("keeping watch over the Redis backend failed")

    async def _ensure_group(self) -> None:
        """The dispatch stream's consumer group, created by whoever comes first (from entry 0, so
        runs admitted before any worker existed are read too); again after a Redis restart."""
        with contextlib.suppress(ResponseError):  # BUSYGROUP: it exists
            await self.redis.xgroup_create(self.keys.dispatch, GROUP, id="0", mkstream=True)

    # --- dead workers and unwatched runs -------------------------------------------------
    async def _reap(self, worker: str) -> None:
        """A worker whose heartbeat expired: its claimed runs end `failed`; the dispatch entries it
        had read but not claimed go back to the queue (a claim is the only way a run starts, and it
        succeeds once, so a run re-queued twice still trains once). Its control stream is told to
        stop those runs: a worker that was only frozen drops them when it wakes, and joins again."""
        if not await self.redis.set(f"{self.keys.prefix}:reaping:{worker}", 1, nx=True, ex=REAP_LOCK_SECONDS):
            return  # another replica is at it
        runs = members(await self.redis.smembers(self.keys.worker_runs(worker)))
        for run_id in runs:
            step = await self.redis.hget(self.keys.run(run_id), "step")
            await self._finish(run_id, "failed", WORKER_GONE, int(step or 0))
            await self.redis.xadd(self.keys.control(worker), {"run": run_id, "stop": "cancelled"})
        pending = await self.redis.xpending_range(self.keys.dispatch, GROUP, "-", "+", 1000, consumername=worker)
        for entry in pending:
            entry_id = entry["message_id"]
            found = stream_entries(await self.redis.xrange(self.keys.dispatch, entry_id, entry_id))
            run_id = found[0][1]["run"] if found else ""  # trimmed away: the entry is only acknowledged
            await self.scripts["requeue"](keys=[], args=[self.keys.prefix, entry_id, run_id, DISPATCH_MAXLEN, GROUP])
        await self.redis.xgroup_delconsumer(self.keys.dispatch, GROUP, worker)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.delete(self.keys.worker_runs(worker))
            pipe.expire(self.keys.control(worker), int(self.settings.max_run_wall_seconds))  # then it cannot matter
            pipe.hdel(self.keys.workers, worker)
            pipe.hdel(self.keys.capacity, worker)
            await pipe.execute()
        log.warning("worker %s stopped sending heartbeats: %d of its runs ended as failed", worker, len(runs))

    async def unwatched(self) -> list[str]:
        """Its followers, on any replica, renew its `watched` key, which lapses after its idle limit."""
        with _reachable():
            active = list(members(await self.redis.smembers(self.keys.active)))
            async with self.redis.pipeline(transaction=False) as pipe:
                for run_id in active:
                    pipe.exists(self.keys.watched(run_id))
                watched = await pipe.execute()
        return [run_id for run_id, seen in zip(active, watched, strict=True) if not seen]

    async def _finish(self, run_id: str, status: str, message: str, step: int) -> None:
        _, end = encode_data(end_data(status, message, step, {}))
        args: ScriptArgs = [self.keys.prefix, run_id, status, end, "{}", time.time(), *self._keep]
        await self.scripts["finish"](keys=[], args=args)

    # --- admission -----------------------------------------------------------------------
    async def admit(self, new: NewRun) -> RedisRun | Refusal:
        params_raw = json.dumps(new.shown)
        fields: dict[str, str | float] = {
            "demo": new.demo.name,
            "params": params_raw,
            "client": new.holder,
            "token": new.control_token,
            "created": time.time(),
        }
        if new.withheld:
            fields["withheld"] = json.dumps(new.withheld)  # deleted when a worker claims the run
        fields["budget"] = new.budget.to_json()
        args: ScriptArgs = [self.keys.prefix, new.id, _milliseconds(new.budget.idle_seconds), DISPATCH_MAXLEN]
        args += [admission.quotas_json(new.quotas), *(x for pair in fields.items() for x in pair)]
        with _reachable():
            outcome, number, capacity = await self.scripts["admit"](keys=[], args=args)
        if outcome == "refused":
            return Refusal(new.quotas[number - 1], capacity)
        return RedisRun(
            new.id, new.demo, new.shown, params_raw, "queued", 0, {}, new.control_token, 0, number, new.budget
        )

    async def progress(self, counter: str | None) -> list[Progress]:
        read_at, rows = self._active_read
        if time.monotonic() - read_at >= ESTIMATE_SECONDS:
            with _reachable():
                active = list(members(await self.redis.smembers(self.keys.active)))
                async with self.redis.pipeline(transaction=False) as pipe:
                    fields = ("params", "status", "step", "started", "counted", "budget")
                    for run_id in active:
                        pipe.hmget(self.keys.run(run_id), *fields)
                    rows = await pipe.execute()
            self._active_read = (time.monotonic(), rows)
        now = time.time()
        return [
            Progress(
                json.loads(params),
                status,
                int(step or 0),
                float(started) if started else None,
                now,
                self._budget(budget),
            )
            for params, status, step, started, counted, budget in rows
            if status in ACTIVE and (counter is None or counter in json.loads(counted or "[]"))
        ]

    def _budget(self, stamped: str | None) -> Budget:
        """A run's budget from its hash; a run admitted by a replica older than budgets in the run
        record has none: this replica's, then."""
        return Budget.from_json(stamped) if stamped else Budget.of(self.settings)

    def position(self, run: RedisRun) -> int | None:
        return run.queue_position

    # --- reading -------------------------------------------------------------------------
    async def load(self, run_id: str) -> RedisRun | StoredRun | None:
        if not RUN_ID.fullmatch(run_id):
            return None
        with _reachable():
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.hgetall(self.keys.run(run_id))
                pipe.zrank(self.keys.queued, run_id)
                fields, rank = await pipe.execute()
        if not fields:
            return None
        demo = self.demos.get(fields["demo"])
        params, summary = json.loads(fields["params"]), json.loads(fields.get("summary", "{}"))
        step, events = int(fields["step"]), int(fields["events"])
        if fields["status"] not in ACTIVE or demo is None:
            finished = float(fields["finished"]) if "finished" in fields else None
            created = float(fields["created"])
            return StoredRun(run_id, fields["demo"], fields["status"], params, summary, created, finished, step, events)
        position = rank + 1 if rank is not None else None
        budget = self._budget(fields.get("budget"))
        return RedisRun(
            run_id,
            demo,
            params,
            fields["params"],
            fields["status"],
            step,
            summary,
            fields["token"],
            events,
            position,
            budget,
        )

    async def replay(self, run: StoredRun, after: int) -> AsyncGenerator[bytes, None]:
        """Event n is stream entry n-0: everything stored after `after` (XRANGE)."""
        with _reachable():
            async for _, fields in self._stored(self.keys.events(run.id), after):
                yield fields["sse"].encode()

    async def tail(self, run: RedisRun, after: int) -> AsyncGenerator[StreamEvent | None, None]:
        """Everything stored after `after` (XRANGE), then the live tail through this replica's one
        XREAD for all followed streams (app.playground.redis.tail), the run marked as watched.
        Ends without the run's end when this replica stops or Redis is lost."""
        self._followers += 1
        try:
            async for entry in self._live(run.id, self.keys.events(run.id), after, run.budget.idle_seconds):
                if entry is None:
                    yield None
                    continue
                number, fields = entry
                yield StreamEvent(number, fields["type"], fields["sse"].encode(), "creator" in fields)
        except RedisError as error:
            log.warning("following run %s stopped: Redis %s", run.id, error)
        finally:
            self._followers -= 1

    async def creator_frame(self, run: RedisRun, event: StreamEvent) -> bytes:
        """From the run's creator stream, while the run lasts (the stream goes when it ends)."""
        number = event.number
        found = stream_entries(await self.redis.xrange(self.keys.creator(run.id), f"{number}-0", f"{number}-0"))
        return found[0][1]["sse"].encode() if found else event.sse

    async def _live(
        self, run_id: str, key: str, after: int, idle_seconds: float
    ) -> AsyncIterator[tuple[int, dict[str, str]] | None]:
        """A running run's entries (n, fields) after `after`, each once and in order, and None when
        a keep-alive is due. Marks the run as watched while it is followed, for `idle_seconds` (its
        budget's) at a time."""
        idle_ms, wake_seconds = _milliseconds(idle_seconds), idle_look_seconds(idle_seconds, WAKE_SECONDS)
        last = after
        async for number, fields in self._stored(key, after):
            last = number
            yield number, fields
        async with self._tail.follow(key, last) as (news, read_for_others):
            if read_for_others > last:  # entries the shared XREAD handed out before this follower came
                async for number, fields in self._stored(key, last, until=read_for_others):
                    last = number
                    yield number, fields
            quiet_since, watched_at = time.monotonic(), 0.0
            while not self._stopping.is_set():
                if time.monotonic() - watched_at >= wake_seconds:
                    await self.redis.set(self.keys.watched(run_id), 1, px=idle_ms)
                    watched_at = time.monotonic()
                try:
                    entries = await asyncio.wait_for(news.get(), wake_seconds)
                except TimeoutError:
                    entries = []
                if isinstance(entries, RedisError):
                    raise entries
                for entry_id, fields in entries:
                    if (number := entry_number(entry_id)) > last:
                        last, quiet_since = number, time.monotonic()
                        yield number, fields
                if time.monotonic() - quiet_since >= KEEPALIVE_SECONDS:
                    quiet_since = time.monotonic()
                    yield None
                elif not entries and not await self.redis.exists(self.keys.run(run_id)):
                    return  # dropped by retention

    async def _stored(self, key: str, after: int, until: int | None = None) -> AsyncIterator[tuple[int, dict]]:
        """(n, fields) of the stored entries after `after` (up to `until`), a page at a time."""
        while True:
            page = stream_entries(
                await self.redis.xrange(key, f"{after + 1}-0", f"{until}-0" if until else "+", count=STORED_PAGE)
            )
            for entry_id, fields in page:
                after = entry_number(entry_id)
                yield after, fields
            if len(page) < STORED_PAGE:
                return

    # --- control -------------------------------------------------------------------------
    async def change(
        self, run: RedisRun, changes: dict[str, Any], queued_params: dict[str, Any], queued_event: dict[str, Any]
    ) -> Changed | Sent:
        nonce = secrets.token_hex(8)  # names the list its worker answers on
        params_raw = json.dumps(queued_params)
        _, event = encode_data(queued_event)
        args = [self.keys.prefix, run.id, json.dumps(changes), run.params_raw, params_raw, event, nonce]
        with _reachable():
            outcome = await self.scripts["change"](keys=[], args=args)
        if outcome == "queued":
            run.params, run.params_raw = queued_params, params_raw
            return Changed.QUEUED
        if outcome == "sent":
            return Sent(nonce)
        return Changed.STALE if outcome == "retry" else Changed.ENDED

    async def await_ack(self, run: RedisRun, ticket: str, seconds: float) -> int | None:
        with _reachable():
            answer = await self.redis.blpop([self.keys.ack(ticket)], timeout=seconds)
        if answer is None:
            return None
        ack = json.loads(answer[1])
        run.status, run.params = ack["status"], ack["params"]
        return ack["step"]

    async def reread(self, run: RedisRun) -> bool:
        with _reachable():
            fields = hash_fields(await self.redis.hgetall(self.keys.run(run.id)))
        if fields.get("status") not in ACTIVE:
            return False  # ended, or dropped by retention
        run.status, run.params, run.params_raw = fields["status"], json.loads(fields["params"]), fields["params"]
        return True

    async def cancel(self, run_id: str, queued_message: str) -> None:
        _, end = encode_data(end_data("cancelled", queued_message, 0, {}))
        args: ScriptArgs = [self.keys.prefix, run_id, end, time.time(), *self._keep]
        with _reachable():
            await self.scripts["cancel"](keys=[], args=args)


def _milliseconds(seconds: float) -> int:
    """A TTL for Redis: whole milliseconds, at least one."""
    return max(1, int(seconds * 1000))


@contextlib.contextmanager
def _reachable() -> Iterator[None]:
    try:
        yield
    except (RedisConnectionError, RedisTimeoutError) as error:
        # The log has the error; a client is not told where Redis lives (its address is in the error).
        log.warning("a request found Redis unreachable: %s", error)
        raise Unavailable("The run service cannot reach its Redis server. Try again in a moment.") from None
