"""The hung-step rule both backends apply (core.watchdog), on numbers: no worker, no clock."""

from __future__ import annotations

from app.playground.core.interface import Budget
from app.playground.core.watchdog import WorkerStop, hung_step

SETTINGS = Budget(max_steps=1000, cpu_seconds=120, wall_seconds=1800, step_seconds=10, idle_seconds=30)
TIGHT = Budget(max_steps=1000, cpu_seconds=1.5, wall_seconds=1800, step_seconds=10, idle_seconds=30)
"""A run whose compute budget (1.5 s) is shorter than a step may take (10 s): it hangs at 1.5 s."""


def test_a_step_is_hung_once_it_runs_past_its_own_runs_limit() -> None:
    budgets = {1: SETTINGS, 2: TIGHT}
    stepping_1, stepping_2 = [100.0, 1, 100.0], [100.0, 2, 100.0]  # a step that started at t = 100 s
    assert hung_step(stepping_1, 110.0, budgets, SETTINGS) is None  # 10 s: at the limit, not past it
    assert hung_step(stepping_1, 110.5, budgets, SETTINGS) == WorkerStop(SETTINGS.hung_message(), 1)
    assert hung_step(stepping_2, 101.4, budgets, SETTINGS) is None
    stop = hung_step(stepping_2, 101.6, budgets, SETTINGS)
    assert stop is not None and stop.hung == 2 and "longer than 1.5 s and never gave control back" in stop.why


def test_between_steps_nothing_hangs_however_long_ago_the_last_one_started() -> None:
    assert hung_step([0.0, 2, 100.0], 10_000.0, {2: TIGHT}, SETTINGS) is None


def test_a_run_that_has_just_ended_is_held_to_the_settings_limit() -> None:
    """Its budget is gone with it; its seq still stands in the watchdog until the step is over."""
    just_ended = [100.0, 7, 100.0]
    assert hung_step(just_ended, 105.0, {2: TIGHT}, SETTINGS) is None  # not TIGHT's 1.5 s: it is not run 2
    assert hung_step(just_ended, 110.5, {2: TIGHT}, SETTINGS) == WorkerStop(SETTINGS.hung_message(), 7)


def test_the_hung_run_times_out_and_its_neighbours_fail_saying_why() -> None:
    stop = hung_step([100.0, 2, 100.0], 102.0, {1: SETTINGS, 2: TIGHT}, SETTINGS)
    assert stop is not None
    assert stop.ending(2) == ("timeout", TIGHT.hung_message())
    status, message = stop.ending(1)
    assert status == "failed" and message.startswith("The worker training this run stopped, so the run could not")
    assert TIGHT.hung_message() in message and message.endswith("Start it again.")
    # A worker stopped for another reason (it died, or froze between steps) fails every run.
    assert WorkerStop("it went silent.").ending(2)[0] == "failed"
