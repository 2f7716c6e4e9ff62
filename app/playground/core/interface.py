"""What the HTTP layer needs from a run engine. One class implements it, core.service.RunService,
over either backend's transport (core.transport): the embedded one (app.playground.embedded:
worker processes on this machine, SQLite) or Redis (app.playground.redis: stateless web replicas,
`modelterms worker` processes on any host).
"""

from __future__ import annotations

import json
import math
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any, Protocol, TypeVar

from app.demos.base import Demo
from app.settings import Settings

ACTIVE = ("queued", "running", "paused")
"""The statuses of a run that may still change; every other status is final."""
CONTROL_FIELDS = ("paused", "step_once")
"""Live changes that steer a run rather than change its params."""
DEAD_AFTER_BEATS = 3
"""A worker silent for this many heartbeat periods (MODELTERMS_HEARTBEAT_SECONDS) is dead, on both
backends: its runs end `failed` and it is replaced (embedded) or reaped (Redis)."""


def collapse(batches: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Live changes to one run that wait together, as one batch, on both backends (the worker
    applies what it finds waiting at once, and answers it with one `control` event): the latest
    value of each field wins, and the single steps asked for add up (`step_once`: how many)."""
    collapsed: dict[str, Any] = {}
    single_steps = 0
    for changes in batches:
        single_steps += int(changes.get("step_once") or 0)  # a PATCH's True is one step
        collapsed |= {k: v for k, v in changes.items() if k != "step_once"}
    if single_steps:
        collapsed["step_once"] = single_steps
    return collapsed


def shown_changes(changes: Mapping[str, Any]) -> dict[str, Any]:
    """A batch as its `control` event tells it: `step_once` as a PATCH says it (true), however
    many single steps the batch asked for."""
    return {**changes, "step_once": True} if changes.get("step_once") else dict(changes)


class Refused(Exception):
    """A run that cannot be admitted now; `retry_after` in seconds; `limit`: which limit, as the
    429's machine-readable field names it."""

    limit = ""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after


class QueueFull(Refused):
    limit = "queue"

    @classmethod
    def of(cls, capacity: int, queue_size: int, retry_after: int) -> QueueFull:
        return cls(
            f"The server is busy: all {capacity} training slots are taken and {queue_size} runs are already "
            f"waiting. Please try again in about {retry_after} s.",
            retry_after,
        )


class ClientLimit(Refused):
    limit = "client"

    @classmethod
    def of(cls, limit: int, retry_after: int) -> ClientLimit:
        return cls(f"You already have {limit} runs training; stop one or wait for one to finish.", retry_after)


class StudentLimit(Refused):
    limit = "student"

    @classmethod
    def of(cls, limit: int, retry_after: int) -> StudentLimit:
        return cls(
            f"Student limit: you already have {limit} runs training in this class; stop one or wait for one to finish.",
            retry_after,
        )


class ClassQuota(Refused):
    limit = "class"

    @classmethod
    def of(cls, limit: int, retry_after: int) -> ClassQuota:
        return cls(
            f"Class quota: your class already has {limit} runs training, the most it may have at once; "
            "wait for one to finish.",
            retry_after,
        )


@dataclass(frozen=True)
class Seat:
    """Whom a run counts against at admission. By default its client (the address) under
    runs_per_client; a student who joined a class counts against a limit of their own, and the
    class as a whole against its quota, so a class behind one address is not one client."""

    holder: str
    """The address, or `student:<code>:<id>`: the runs counted under `limit`."""
    limit: int
    student: bool = False
    group: str = ""
    """`class:<code>`, or empty: the runs counted under `group_limit`."""
    group_limit: int = 0
    """The class's quota (core.admission checks it whenever there is a group)."""

    def __post_init__(self) -> None:
        # A class without a quota would mean "none" to one reader and "no limit" to another.
        if self.group and self.group_limit < 1:
            raise ValueError(f"a seat in a group needs a group_limit of at least 1, not {self.group_limit}")


@dataclass(frozen=True)
class Budget:
    """The limits one run is held to, stamped into it when it is admitted, from the settings of
    the process that admits it. Every process that handles the run later (the worker that trains
    it, a replica that follows it) applies these, never its own settings: a replica and a worker
    configured apart cannot disagree about a run."""

    max_steps: int  # MODELTERMS_MAX_STEPS
    cpu_seconds: float  # MODELTERMS_MAX_RUN_SECONDS: compute of its own steps
    wall_seconds: float  # MODELTERMS_MAX_RUN_WALL_SECONDS, paused time included
    step_seconds: float  # MODELTERMS_MAX_STEP_SECONDS: one step longer is hung
    idle_seconds: float  # MODELTERMS_IDLE_CANCEL_SECONDS: unwatched this long, cancelled

    @classmethod
    def of(cls, settings: Settings) -> Budget:
        return cls(
            settings.max_steps,
            settings.max_run_seconds,
            settings.max_run_wall_seconds,
            settings.max_step_seconds,
            settings.idle_cancel_seconds,
        )

    @property
    def hung_after(self) -> float:
        """A step running longer than this never gives control back: its worker is stopped."""
        return min(self.step_seconds, self.cpu_seconds)

    def hung_message(self) -> str:
        return (
            f"one step of a run took longer than {self.hung_after:g} s and never gave control back, so it was stopped."
        )

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> Budget:
        return cls(**json.loads(text))


def seconds_left(
    params: Mapping[str, Any], status: str, step: int, started: float | None, now: float, budget: Budget
) -> float:
    """How long a run is likely to go on, under the budget it was admitted with: its steps left at
    the rate it has stepped so far, or at its pace before it has stepped, and never past its
    wall-time limit. `started`: when it started (None if queued), on the clock `now` reads."""
    wall_left = budget.wall_seconds - (now - started) if started is not None else budget.wall_seconds
    total = min(params.get("steps") or budget.max_steps, budget.max_steps)
    pace = params.get("pace") or 0
    if status == "paused":
        expected = budget.idle_seconds  # may be long; a guess that does not promise much
    elif started is not None and step > 0:
        expected = (total - step) / (step / max(now - started, 1e-3))
    else:
        expected = total / pace if pace else min(budget.cpu_seconds, 30.0)
    return max(min(expected, wall_left), 0.0)


def retry_after(seconds_left: Iterable[float], ahead: int) -> int:
    """The Retry-After for a refused run: whole seconds until the run that ends after `ahead`
    others ends (the first to end frees the slot when ahead is 0)."""
    ends = sorted(seconds_left)
    return max(1, math.ceil(ends[min(max(ahead, 0), len(ends) - 1)])) if ends else 1


def worker_stopped(why: str) -> str:
    """The end message of a run whose worker stopped under it, on either backend (`why`: a sentence
    that says what happened to the worker)."""
    return f"The worker training this run stopped, so the run could not finish: {why} Start it again."


SERVER_STOPPED = "server_stopped"
"""The `reason` in the `end` of a run that the server (or its worker) stopped as it shut down:
its status is 'cancelled', as the reader's own cancel is, and the reason tells the two apart."""
SERVER_STOPPED_MESSAGE = "The server restarted (or shut down) during this run; nobody cancelled it. Start it again."
CANCELLED_QUEUED_MESSAGE = "Cancelled before it started."
"""The end message of a run cancelled (by its reader, or for want of one) while it waited in the queue."""

IDLE_LOOKS = 4
"""How often per idle limit (Budget.idle_seconds) whatever keeps it looks: a run nobody watches is
cancelled between one and 1 + 1/IDLE_LOOKS limits after its last watcher left, and a mark that a
run is watched, kept for one limit (Redis), is renewed well before it lapses."""


def idle_look_seconds(idle_seconds: float, at_most: float) -> float:
    """The period of an idle check or of a watched mark's renewal, for an idle limit; `at_most`:
    the caller's own cadence, which a long limit need not slow down."""
    return min(at_most, idle_seconds / IDLE_LOOKS)


class ShuttingDown(Exception):
    pass


class RunFinished(Exception):
    """A live change sent to a run that has already ended."""


class Unavailable(Exception):
    """The engine cannot reach what it runs on (the Redis server, say); worth retrying soon."""


@dataclass(frozen=True)
class StoredRun:
    """A finished run as a backend stores it: everything but its events (see `RunEngine.follow`)."""

    id: str
    demo: str
    status: str
    params: dict[str, Any]
    summary: dict[str, Any]
    created: float
    finished: float | None
    step: int | None
    event_count: int


class ActiveRun(Protocol):
    """A run that may still change: queued, running or paused (or just ended)."""

    id: str
    demo: Demo
    params: dict[str, Any]
    """As shown (Demo.shown) on every backend: a reader's withheld text is never in the web process
    past admission, only its size and hash."""
    status: str
    step: int
    summary: dict[str, Any]
    control_token: str

    @property
    def finished(self) -> bool: ...

    @property
    def event_count(self) -> int: ...


def demo_name(run: ActiveRun | StoredRun) -> str:
    """The name of a run's demo, whether the run is active (it holds its Demo) or stored (a name)."""
    return run.demo if isinstance(run, StoredRun) else run.demo.name


RunT = TypeVar("RunT", bound=ActiveRun)
"""A backend's own run type. Each engine takes back only the runs it handed out (by submit or
get), so the protocol is generic over it; the app, which picks its backend at start-up, holds a
RunEngine[Any]."""


class RunEngine(Protocol[RunT]):
    settings: Settings

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    def health(self) -> dict[str, Any]: ...

    async def submit(self, demo: Demo, params: dict[str, Any], client: str = "", seat: Seat | None = None) -> RunT:
        """Admit a run or raise Refused (QueueFull, or the seat's refusal) or ShuttingDown. `seat`:
        whom the run counts against; by default `client` under runs_per_client."""
        ...

    async def get(self, run_id: str) -> RunT | StoredRun | None: ...

    async def change(self, run: RunT, changes: dict[str, Any]) -> int:
        """Send live changes; returns the step from which they apply. RunFinished if it ended."""
        ...

    async def cancel(self, run_id: str) -> None:
        """Idempotent: a finished or unknown run is left as it is."""
        ...

    def follow(self, run: RunT | StoredRun, after: int, creator: bool = False) -> AsyncIterator[bytes | None]:
        """SSE frames after event `after`, then the live tail; None is a keep-alive tick. With
        `creator` (the follower showed the control token), an active run's frames hold what only
        its creator may read (Demo.creator_only); everyone else, and the store, get them without."""
        ...

    def position(self, run: RunT) -> int | None:
        """1-based place in the queue, None once it trains."""
        ...
