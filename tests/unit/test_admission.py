"""Admission as both backends apply it (core.admission), on counts worked by hand: no engine."""

from __future__ import annotations

import json

import pytest

from app.playground.core.admission import counters, first_reached, quotas, quotas_json, refusal
from app.playground.core.interface import ClassQuota, ClientLimit, QueueFull, Seat, StudentLimit

READER = Seat("10.0.0.7", 3)
ADA = Seat("student:K7QX:ada", 2, student=True, group="class:K7QX", group_limit=5)


def decide(seat: Seat, held: dict[str | None, int], capacity: int = 4, queue_size: int = 2):
    """The refusal's class for a new run of `seat`, or None when it is admitted. `held`: active runs
    counted under each name; None: every active run."""
    quota = first_reached(quotas(seat, queue_size), lambda counter: held.get(counter, 0), capacity)
    return quota and quota.refusal


def test_a_reader_is_held_to_their_own_limit_then_to_the_slots_and_the_queue() -> None:
    # 4 training slots and 2 places in the queue: 6 active runs fill both.
    assert decide(READER, {"10.0.0.7": 2, None: 5}) is None
    assert decide(READER, {"10.0.0.7": 3, None: 3}) is ClientLimit
    assert decide(READER, {"10.0.0.7": 0, None: 6}) is QueueFull
    assert decide(READER, {"10.0.0.7": 0, None: 2}, capacity=0) is QueueFull  # no live worker: the queue alone


def test_a_student_counts_against_their_own_limit_then_their_class_quota() -> None:
    assert decide(ADA, {ADA.holder: 1, ADA.group: 4, None: 4}) is None
    assert decide(ADA, {ADA.holder: 2, ADA.group: 2, None: 2}) is StudentLimit
    assert decide(ADA, {ADA.holder: 1, ADA.group: 5, None: 5}) is ClassQuota  # a class at its quota
    # The reader's address does not count for a student: a class behind one address is many seats.
    assert decide(ADA, {"10.0.0.7": 3, None: 3}) is None


def test_the_first_quota_reached_refuses_in_the_order_holder_class_queue() -> None:
    everything_full = {ADA.holder: 2, ADA.group: 5, None: 6}
    assert decide(ADA, everything_full) is StudentLimit
    assert decide(ADA, everything_full | {ADA.holder: 0}) is ClassQuota
    assert decide(ADA, everything_full | {ADA.holder: 0, ADA.group: 0}) is QueueFull
    assert [q.refusal for q in quotas(ADA, 2)] == [StudentLimit, ClassQuota, QueueFull]
    assert counters(quotas(ADA, 2)) == (ADA.holder, ADA.group)  # what an admitted run counts under
    assert counters(quotas(READER, 2)) == (READER.holder,)


def test_a_seat_in_a_class_always_has_a_quota() -> None:
    """Once the embedded engine skipped a class quota of 0 while the Lua refused every run at it:
    such a seat is no longer made."""
    with pytest.raises(ValueError, match="group_limit of at least 1"):
        Seat("student:K7QX:bob", 2, student=True, group="class:K7QX")


def test_each_refusal_says_its_limit_and_when_to_come_back() -> None:
    holder, group, queue = quotas(ADA, 2)
    student = refusal(holder, 4, [8.2, 4.5])
    assert isinstance(student, StudentLimit) and student.limit == "student"
    assert student.message.startswith("Student limit: you already have 2 runs")
    assert student.retry_after == 5  # the first of its own runs to end, rounded up
    assert refusal(group, 4, [30.0]).message.startswith("Class quota: your class already has 5 runs")
    # 6 active runs, 4 of them training: the refused run would queue behind the 2 waiting, so it
    # waits for the third run to end (1, 3, then 5 s).
    full = refusal(queue, 4, [10.0, 3.0, 7.0, 20.0, 5.0, 1.0])
    assert isinstance(full, QueueFull) and full.retry_after == 5
    assert "all 4 training slots are taken and 2 runs are already waiting" in full.message


def test_the_quotas_reach_the_redis_script_as_json_in_order() -> None:
    assert json.loads(quotas_json(quotas(ADA, 2))) == [
        {"counter": ADA.holder, "limit": 2, "beyond_capacity": False},
        {"counter": ADA.group, "limit": 5, "beyond_capacity": False},
        {"limit": 2, "beyond_capacity": True},
    ]
