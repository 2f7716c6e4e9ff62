"""How long a run is expected to go on, and the Retry-After it gives a refused reader: from the
budget the run was admitted with, not from the settings of whichever process asks."""

from __future__ import annotations

from app.playground.core.interface import Budget, retry_after, seconds_left

BUDGET = Budget(max_steps=10_000, cpu_seconds=60, wall_seconds=30, step_seconds=10, idle_seconds=5)


def left(params: dict, status: str = "running", step: int = 0, started: float | None = None, now: float = 0) -> float:
    return seconds_left(params, status, step, started, now, BUDGET)


def test_a_running_run_ends_at_its_measured_rate() -> None:
    # 100 steps in 10 s: 10 steps/s; 50 steps left take 5 s.
    assert left({"steps": 150}, step=100, started=0, now=10) == 5


def test_never_past_the_wall_time_limit_it_was_admitted_with() -> None:
    # 1,000 steps at 1 step/s would take 990 s more, but the run is stopped 30 s after its start.
    assert left({"steps": 1000, "pace": 1}, step=10, started=0, now=10) == 20
    assert left({"steps": 1000, "pace": 1}, status="queued") == 30  # not started: its whole wall budget
    assert left({"steps": 1000}, step=10, started=0, now=45) == 0  # overdue: it ends any moment


def test_before_its_first_step_its_pace_or_its_compute_budget() -> None:
    assert left({"steps": 20, "pace": 4}, status="queued") == 5
    assert left({"steps": 20}, status="queued") == 30  # unpaced: at most its compute, at most 30 s
    short = Budget(max_steps=10_000, cpu_seconds=2, wall_seconds=30, step_seconds=10, idle_seconds=5)
    assert seconds_left({"steps": 20}, "queued", 0, None, 0, short) == 2


def test_steps_beyond_the_budgets_step_cap_are_never_counted() -> None:
    capped = Budget(max_steps=50, cpu_seconds=60, wall_seconds=1000, step_seconds=10, idle_seconds=5)
    assert seconds_left({"steps": 5000, "pace": 10}, "queued", 0, None, 0, capped) == 5


def test_a_paused_run_is_guessed_at_its_idle_limit() -> None:
    assert left({"steps": 1000, "pace": 1}, status="paused", step=10, started=0, now=10) == 5


def test_retry_after_is_when_the_run_ahead_of_the_reader_ends() -> None:
    assert retry_after([7.2, 3.1, 12.0], ahead=0) == 4  # the first to end frees a slot
    assert retry_after([7.2, 3.1, 12.0], ahead=1) == 8
    assert retry_after([7.2, 3.1, 12.0], ahead=9) == 12  # more ahead than running: the last one
    assert retry_after([], ahead=0) == 1 and retry_after([0.0], ahead=0) == 1  # never 0
