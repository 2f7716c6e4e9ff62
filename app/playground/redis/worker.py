"""`modelterms worker`: the Redis backend's training process, on any host, CPU or GPU.

It runs the embedded engine's own `Scheduler` (app.playground.core.scheduler: many runs, their steps
interleaved) and gives it, in place of the engine's Pipe, a `RedisConn` that speaks the same tuple
messages: dispatch and control stream entries become the Scheduler's incoming messages; its
outgoing messages become events (one script each, so numbering stays atomic) and hash updates,
queued once per poll for a sender thread (app.playground.redis.outbox), and a reader thread blocks
on the streams: the steps never wait on Redis. The blocking redis client lives here; the web uses
the asyncio one.

A thread beats the heartbeat (a key with a TTL) and watches for a step that never gives control
back: then it ends that run `timeout` and its neighbours `failed`, and the process exits for its
supervisor (compose, systemd) to restart. SIGTERM: stop taking runs, cancel ours with their `end`
events, deregister, exit.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import socket
import threading
import time
import uuid
import warnings
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import redis
from redis.exceptions import ResponseError

from app.demos import load_demos
from app.demos.artifacts import ArtifactStore
from app.demos.base import Demo
from app.playground.core.events import encode_data, encode_event, end_data
from app.playground.core.interface import DEAD_AFTER_BEATS, Budget
from app.playground.core.messages import Change, FromWorker, Ready, StartRun, StopRun, ToWorker
from app.playground.core.scheduler import Scheduler, warm_up
from app.playground.core.supervisor import supervise
from app.playground.core.watchdog import hung_step
from app.playground.redis.outbox import Command, Outbox
from app.playground.redis.schema import (
    DISPATCH_MAXLEN,
    GROUP,
    SCRIPTS,
    Keys,
    ScriptArgs,
    StreamReads,
    stream_batches,
)
from app.settings import Settings

BLOCK_SECONDS = 0.5  # the longest one read or wait blocks: a SIGTERM is noticed this soon
FULL_READ_SECONDS = 0.05  # a worker with no free slot looks this often whether one has freed
ACK_TTL_SECONDS = 30
DRAIN_SECONDS = 5  # on the way out, the last events get this long to reach Redis
HUNG_EXIT_CODE = 70
START_BACKOFF_SECONDS = (1, 2, 4, 8, 15)  # between tries to reach Redis at start; then every 15 s

log = logging.getLogger("modelterms.worker")


@dataclass
class Claimed:
    """A run this worker claimed, as far as Redis needs to hear of it."""

    id: str
    seq: int  # its number on this worker
    demo_name: str
    params: dict[str, Any]  # as shown (Demo.shown): the scheduler has the ones it trains on
    budget: Budget  # stamped by the replica that admitted it: applied here, whatever our settings say
    step: int = 0
    status: str = "running"  # or "paused"
    hidden: frozenset[str] = frozenset()  # event keys for the creator's eyes only (Demo.hidden_outputs)
    acks: deque[str] = field(default_factory=deque)  # PATCH nonces, in the order the changes went in


class RedisConn:
    """The Scheduler's `conn`: poll(timeout), recv(), send(message)."""

    def __init__(
        self, client: redis.Redis, settings: Settings, worker_id: str, device: str, demos: Mapping[str, Demo]
    ) -> None:
        self.redis = client
        self.demos = demos
        self.settings = settings
        self.id = worker_id
        self.device = device
        self.keys = Keys(settings.redis_prefix)
        self.scripts = {name: client.register_script(source) for name, source in SCRIPTS.items()}
        self.capacity = settings.runs_per_worker
        self.keep = (settings.keep_runs, settings.keep_runs_per_client)
        self.runs: dict[int, Claimed] = {}
        self.seqs: dict[str, int] = {}
        self.inbox: deque[ToWorker] = deque()  # the Scheduler's messages
        # Stream entries (id, fields) from the reader thread, not yet acted on; `arrived` is set
        # when some come. arrivals_lock makes taking a run and counting free slots one step.
        self.dispatched: deque[tuple[str, dict[str, str]]] = deque()
        self.controls: deque[tuple[str, dict[str, str]]] = deque()
        self.arrivals_lock = threading.Lock()
        self.arrived = threading.Event()
        self.outgoing: list[Command] = []  # this poll's commands, for the next flush
        self.outbox = Outbox(client, self._load_scripts)
        self.watchdog = [0.0, 0.0, 0.0]  # the Scheduler's: start of the current step, its run's seq, heartbeat
        self.exit_requested = False
        self._exit_sent = False
        self._seq = 0

    # --- presence ----------------------------------------------------------------------------
    def register(self) -> None:
        self._load_scripts()
        info = {"device": self.device, "capacity": self.capacity, "host": socket.gethostname(), "pid": os.getpid()}
        with contextlib.suppress(ResponseError):  # BUSYGROUP: it exists
            self.redis.xgroup_create(self.keys.dispatch, GROUP, id="0", mkstream=True)
        with contextlib.suppress(ResponseError):
            self.redis.xgroup_create(self.keys.control(self.id), GROUP, id="0", mkstream=True)
        pipe = self.redis.pipeline(transaction=True)
        pipe.hset(self.keys.workers, self.id, json.dumps(info))
        pipe.hset(self.keys.capacity, self.id, self.capacity)
        pipe.set(self.keys.alive(self.id), 1, px=self._alive_ms())
        pipe.execute()

    def register_when_reachable(self) -> bool:
        """register(), tried again with a growing wait while Redis cannot be reached (each time
        said in the log, not a traceback): a worker may start before its Redis does. False when
        it was asked to exit meanwhile."""
        waits = iter(START_BACKOFF_SECONDS)
        while True:
            try:
                self.register()
                return True
            except (redis.ConnectionError, redis.TimeoutError) as error:
                wait = next(waits, START_BACKOFF_SECONDS[-1])
                log.warning("cannot reach Redis (%s); trying again in %d s", error, wait)
            deadline = time.monotonic() + wait
            while time.monotonic() < deadline:
                if self.exit_requested:
                    return False
                time.sleep(0.1)

    def beat(self) -> None:
        pipe = self.redis.pipeline(transaction=False)
        pipe.set(self.keys.alive(self.id), 1, px=self._alive_ms())
        pipe.hexists(self.keys.workers, self.id)
        if not pipe.execute()[1]:
            # Taken for dead while Redis could not hear it (frozen, or cut off): its runs there have
            # ended, and their stops wait in its control stream. It takes new runs again.
            log.warning("this worker was taken for dead while it was silent; registering again")
            self.register()

    def deregister(self) -> None:
        pipe = self.redis.pipeline(transaction=True)
        pipe.hdel(self.keys.workers, self.id)
        pipe.hdel(self.keys.capacity, self.id)
        pipe.delete(self.keys.alive(self.id), self.keys.control(self.id), self.keys.worker_runs(self.id))
        pipe.xgroup_delconsumer(self.keys.dispatch, GROUP, self.id)
        pipe.execute()

    def _alive_ms(self) -> int:
        return int(DEAD_AFTER_BEATS * self.settings.heartbeat_seconds * 1000)

    # --- incoming ----------------------------------------------------------------------------
    # A reader thread blocks on XREADGROUP and hands what it reads to the main thread, which acts
    # on it between steps: runs never wait on a round trip to learn that nothing has arrived (a
    # look every 20 ms cost the fastest demo a tenth of its speed).
    def read_forever(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                self._read_streams()
            except (redis.ConnectionError, redis.TimeoutError) as error:
                log.warning("Redis unreachable (%s); the runs here go on meanwhile", error)
                stop.wait(BLOCK_SECONDS)  # what the read would have waited: no busy loop
            except ResponseError as error:  # NOGROUP: Redis restarted empty; make the groups again
                log.warning("reading from Redis failed (%s); registering again", error)
                with contextlib.suppress(redis.RedisError):
                    self.register()

    def _read_streams(self) -> None:
        with self.arrivals_lock:  # a run read but not yet claimed holds a slot: never read more than fit
            free = self.capacity - len(self.runs) - len(self.dispatched)
        streams: StreamReads = {self.keys.control(self.id): ">"}
        block = FULL_READ_SECONDS  # full: nothing wakes this read when a slot frees, so look again soon
        if free > 0 and not self.exit_requested:
            streams[self.keys.dispatch] = ">"
            block = BLOCK_SECONDS
        answer = self.redis.xreadgroup(GROUP, self.id, streams, count=max(free, 1), block=int(block * 1000))
        for stream, entries in stream_batches(answer):
            with self.arrivals_lock:
                (self.dispatched if stream == self.keys.dispatch else self.controls).extend(entries)
            self.arrived.set()

    def poll(self, timeout: float | None = 0) -> bool:
        self.flush()
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            if self.arrived.is_set():
                self.arrived.clear()  # before taking: whatever arrives after this sets it again
            self._take_arrivals()
            if self.exit_requested and not self._exit_sent:
                self._exit_sent = True
                self.inbox.append(None)
            left = BLOCK_SECONDS if deadline is None else deadline - time.monotonic()
            if self.inbox or left <= 0:
                return bool(self.inbox)
            self.arrived.wait(min(left, BLOCK_SECONDS))  # bounded: a SIGTERM is noticed this soon

    def recv(self) -> ToWorker:
        return self.inbox.popleft()

    def _take_arrivals(self) -> None:
        while self.controls:
            entry_id, fields = self.controls.popleft()
            self._on_control(fields)
            self.outgoing.append(("xack", (self.keys.control(self.id), GROUP, entry_id)))
        while self.dispatched and not self.exit_requested:  # on the way out, hand_back has them
            with self.arrivals_lock:
                entry_id, fields = self.dispatched.popleft()
                self._take(entry_id, fields["run"])

    def hand_back(self) -> None:
        """Runs read but not claimed go back to the queue, for another worker (on the way out)."""
        with self.arrivals_lock:
            entries, self.dispatched = list(self.dispatched), deque()
        for entry_id, fields in entries:
            args: ScriptArgs = [self.keys.prefix, entry_id, fields["run"], DISPATCH_MAXLEN, GROUP]
            self.scripts["requeue"](keys=[], args=args)

    def _take(self, entry_id: str, run_id: str) -> None:
        claimed = self.scripts["claim"](keys=[], args=[self.keys.prefix, run_id, self.id, time.time()])
        self.redis.xack(self.keys.dispatch, GROUP, entry_id)
        if not claimed:
            return  # cancelled while queued, or already taken after a reclaim
        demo, shown_raw, withheld_raw, budget_raw = claimed
        if demo not in self.demos:  # a web replica of another version: say so, never crash
            message = f"The worker that took this run has no demo '{demo}' (it runs another version)."
            _, end = encode_data(end_data("failed", message, 0, {}))
            self._queue_script("finish", self.keys.prefix, run_id, "failed", end, "{}", time.time(), *self.keep)
            return
        self._seq += 1
        shown = json.loads(shown_raw)  # what the run's hash, events and acks hold: never a withheld text
        withheld = json.loads(withheld_raw or "{}")
        params = self.demos[demo].trained(shown, withheld)
        hidden = self.demos[demo].hidden_outputs(withheld)
        # A run admitted by a replica older than budgets in the run record has none: ours, then.
        budget = Budget.from_json(budget_raw) if budget_raw else Budget.of(self.settings)
        self.runs[self._seq] = Claimed(run_id, self._seq, demo, shown, budget, hidden=hidden)
        self.seqs[run_id] = self._seq
        limits = (budget.max_steps, budget.cpu_seconds, budget.wall_seconds)  # the Scheduler applies them
        self.inbox.append(StartRun(self._seq, demo, params, *limits, hidden))

    def _on_control(self, fields: dict[str, str]) -> None:
        seq = self.seqs.get(fields["run"])
        if seq is None:
            return  # its run has ended here
        if "stop" in fields:
            self.inbox.append(StopRun(seq, fields["stop"]))
        else:
            self.runs[seq].acks.append(fields["ack"])
            self.inbox.append(Change(seq, json.loads(fields["changes"])))

    # --- outgoing ----------------------------------------------------------------------------
    # The Scheduler's messages go through core.supervisor, which calls the ledger methods below:
    # each queues its writes for the next flush, one script per event so numbering stays atomic.
    def send(self, message: FromWorker) -> None:
        if not isinstance(message, Ready):  # this process is the worker: it has nobody to tell it is ready
            supervise(message, self)

    def find(self, seq: int) -> Claimed | None:
        return self.runs.get(seq)

    def relay(self, run: Claimed, payload: bytes, creator_payload: bytes | None) -> None:
        self._queue_emit(run, "metrics", payload, creator_payload, "step", run.step)

    def append(self, run: Claimed, kind: str, data: dict[str, Any]) -> None:
        state = ("params", json.dumps(run.params), "status", run.status)  # the replicas read them from the hash
        self._queue_emit(run, kind, *encode_event(kind, data, run.hidden), *state)

    def answer(self, run: Claimed, acks: list[str], step: int) -> None:
        """Each PATCH's replica waits on a list of its own (by nonce) for the step and the run's state."""
        answer = json.dumps({"step": step, "status": run.status, "params": run.params})
        for nonce in acks:
            self.outgoing.append(("rpush", (self.keys.ack(nonce), answer)))
            self.outgoing.append(("expire", (self.keys.ack(nonce), ACK_TTL_SECONDS)))

    def _queue_emit(self, run: Claimed, kind: str, payload: bytes, creator: bytes | None, *fields: Any) -> None:
        """One event and the hash fields to set with it (EMIT in redis/schema.py)."""
        self._queue_script("emit", self.keys.prefix, run.id, kind, payload, creator or b"", *fields)

    def _queue_script(self, name: str, *args: Any) -> None:
        """By its hash: a pipeline given Script objects asks SCRIPT EXISTS on every execute."""
        self.outgoing.append(("evalsha", (self.scripts[name].sha, 0, *args)))

    def end(self, run: Claimed, status: str, message: str, summary: dict[str, Any], reason: str | None = None) -> None:
        del self.runs[run.seq]
        self.seqs.pop(run.id, None)
        _, end = encode_data(end_data(status, message, run.step, summary, reason))
        _, summary_raw = encode_data(summary)
        args = [self.keys.prefix, run.id, status, end, summary_raw, time.time(), *self.keep]
        self._queue_script("finish", *args)

    def flush(self) -> None:
        if self.outgoing:
            self.outbox.put(self.outgoing)
            self.outgoing = []

    def _load_scripts(self) -> None:
        for script in self.scripts.values():
            self.redis.script_load(script.script)

    def _check_hung(self) -> None:
        """From the heartbeat thread: a step past the limit will never give control back."""
        budgets = {seq: run.budget for seq, run in self.runs.items()}
        hung = hung_step(self.watchdog, time.monotonic(), budgets, Budget.of(self.settings))
        if hung is None:
            return
        self.outgoing = []  # what the stuck main thread had queued is dropped
        for run in list(self.runs.values()):
            self.end(run, *hung.ending(run.seq), {})
        self.flush()
        self.outbox.drain(DRAIN_SECONDS)
        self.hand_back()
        self.deregister()
        log.error("a hung step: %s exiting for a restart", hung.why)
        os._exit(HUNG_EXIT_CODE)

    def keep_alive(self, stop: threading.Event) -> None:
        while not stop.wait(self.settings.heartbeat_seconds):
            try:
                self.beat()
                self._check_hung()
            except redis.RedisError as error:
                log.warning("heartbeat failed: %s", error)


def run_worker(settings: Settings, worker_id: str | None = None) -> int:
    """Train runs from Redis until SIGTERM or Ctrl+C. Returns the exit status."""
    assert settings.redis_url, "a worker needs MODELTERMS_REDIS_URL (the CLI says so before it gets here)"
    warnings.filterwarnings("ignore", message="Failed to initialize NumPy")
    import torch

    torch.set_num_threads(1)
    device_setting = settings.device
    device = "cuda" if device_setting == "cuda" or (device_setting == "auto" and torch.cuda.is_available()) else "cpu"
    demos = load_demos(settings.extra_demo_modules)
    warm_up()
    worker_id = worker_id or f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:4]}"
    client = redis.Redis.from_url(settings.redis_url, decode_responses=True, socket_connect_timeout=5)
    conn = RedisConn(client, settings, worker_id, device, demos)

    def request_exit(_signum: int, _frame: Any) -> None:
        conn.exit_requested = True

    signal.signal(signal.SIGTERM, request_exit)
    signal.signal(signal.SIGINT, request_exit)
    if not conn.register_when_reachable():
        log.warning("worker %s stopped before Redis could be reached", worker_id)
        return 0
    stop = threading.Event()
    threading.Thread(target=conn.keep_alive, args=(stop,), name="modelterms-heartbeat", daemon=True).start()
    reader = threading.Thread(target=conn.read_forever, args=(stop,), name="modelterms-reader", daemon=True)
    reader.start()
    threading.Thread(target=conn.outbox.send_forever, name="modelterms-sender", daemon=True).start()
    log.warning("worker %s ready: %s, %d runs at a time", worker_id, device, conn.capacity)
    try:
        Scheduler(conn, demos, device, ArtifactStore(settings.artifacts_dir), conn.watchdog).serve()
    finally:
        stop.set()
        reader.join(2 * BLOCK_SECONDS)  # its read in flight could take a run after we hand back
        conn.flush()
        if not conn.outbox.drain(DRAIN_SECONDS):
            log.error("Redis did not take the last events in %d s; they are lost", DRAIN_SECONDS)
        conn.outbox.close()
        conn.hand_back()
        conn.deregister()
    log.warning("worker %s stopped", worker_id)
    return 0
