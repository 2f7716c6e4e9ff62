"""The reaction to a worker's messages both backends share (core.supervisor), against an in-memory
ledger that records each effect: no worker, no event loop, no Redis."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

from app.playground.core.messages import Applied, Ended, Points, Started
from app.playground.core.supervisor import supervise


@dataclass
class FakeRun:
    demo_name: str = "gradient_descent"
    params: dict[str, Any] = field(default_factory=lambda: {"lr": 0.1, "text_withheld": True})
    step: int = 0
    status: str = "running"
    hidden: frozenset[str] = frozenset({"sample"})
    acks: deque[Any] = field(default_factory=deque)


@dataclass
class FakeLedger:
    runs: dict[int, FakeRun]
    device: str | None = "cpu"
    effects: list[tuple] = field(default_factory=list)

    def find(self, seq: int) -> FakeRun | None:
        return self.runs.get(seq)

    def relay(self, run: FakeRun, payload: bytes, creator_payload: bytes | None) -> None:
        self.effects.append(("relay", run.step, payload, creator_payload))

    def append(self, run: FakeRun, kind: str, data: dict[str, Any]) -> None:
        # What a backend that saves the run's state with the event (Redis) would write with it.
        self.effects.append(("append", kind, data, dict(run.params), run.status))

    def answer(self, run: FakeRun, acks: list[Any], step: int) -> None:
        self.effects.append(("answer", acks, step))

    def end(self, run: FakeRun, status: str, message: str, summary: dict[str, Any], reason: str | None) -> None:
        self.effects.append(("end", status, message, summary, reason))


def ledger_with(run: FakeRun, seq: int = 3) -> FakeLedger:
    return FakeLedger({seq: run})


def test_points_set_the_step_and_their_payload_is_relayed_as_it_came() -> None:
    run = FakeRun()
    ledger = ledger_with(run)
    payload, creator_payload = b'{"points":[{"step":7}]}', b'{"points":[{"step":7,"sample":"ab"}]}'
    supervise(Points(3, 7, payload, creator_payload), ledger)
    assert run.step == 7
    assert ledger.effects == [("relay", 7, payload, creator_payload)]
    assert ledger.effects[0][2] is payload  # handed on, not copied or re-encoded


def test_started_appends_a_start_event_with_the_shown_params_the_device_and_the_facts() -> None:
    run = FakeRun()
    ledger = ledger_with(run)
    ledger.device = "cuda"
    supervise(Started(3, {"parameters": 1234, "sample": "ab"}), ledger)
    start = {
        "demo": "gradient_descent",
        "params": {"lr": 0.1, "text_withheld": True},
        "device": "cuda",
        "parameters": 1234,
        "sample": "ab",
    }
    assert ledger.effects == [("append", "start", start, run.params, "running")]


def test_an_applied_pause_pauses_the_run_and_answers_its_patch() -> None:
    run = FakeRun(acks=deque(["patch-1"]))
    ledger = ledger_with(run)
    supervise(Applied(3, 12, {"paused": True}, 1), ledger)
    assert run.status == "paused"
    assert run.params == {"lr": 0.1, "text_withheld": True}  # `paused` is not a param
    control = ("append", "control", {"step": 12, "changes": {"paused": True}}, run.params, "paused")
    assert ledger.effects == [control, ("answer", ["patch-1"], 12)]
    supervise(Applied(3, 12, {"paused": False, "lr": 0.2}, 0), ledger)
    assert (run.status, run.params["lr"]) == ("running", 0.2)


def test_a_change_to_a_key_the_run_lacks_leaves_its_params_but_is_in_the_event() -> None:
    """A live change of a reader's withheld text (`text`) reaches the worker; the shown params,
    which never hold it, keep only the keys they have."""
    run = FakeRun()
    before = run.params
    ledger = ledger_with(run)
    changes = {"lr": 0.05, "text": "a secret"}
    supervise(Applied(3, 4, changes, 1), ledger)
    assert run.params == {"lr": 0.05, "text_withheld": True}
    assert before == {"lr": 0.1, "text_withheld": True}  # a new dict: whoever held the old one keeps it
    assert ledger.effects == [("append", "control", {"step": 4, "changes": changes}, run.params, "running")]


def test_acks_are_answered_oldest_first_and_never_more_than_wait() -> None:
    run = FakeRun(acks=deque(["a", "b", "c"]))
    ledger = ledger_with(run)
    supervise(Applied(3, 5, {"lr": 0.2}, 2), ledger)
    assert ledger.effects[-1] == ("answer", ["a", "b"], 5)
    assert list(run.acks) == ["c"]
    supervise(Applied(3, 9, {"lr": 0.3}, 4), ledger)  # a batch of 4 PATCHes, 1 still waiting here
    assert ledger.effects[-1] == ("answer", ["c"], 9)
    assert not run.acks
    ledger.effects.clear()
    supervise(Applied(3, 11, {"lr": 0.4}, 1), ledger)  # its PATCH was never heard of: nobody to answer
    assert [effect[0] for effect in ledger.effects] == ["append"]


def test_ended_ends_the_run_with_what_the_worker_said() -> None:
    run = FakeRun()
    ledger = ledger_with(run)
    supervise(Ended(3, "cancelled", "Stopped: the server is shutting down.", {"loss": 0.5}, "server"), ledger)
    assert ledger.effects == [("end", "cancelled", "Stopped: the server is shutting down.", {"loss": 0.5}, "server")]


def test_a_message_about_a_run_that_has_ended_here_has_no_effect() -> None:
    run = FakeRun(acks=deque(["a"]))
    ledger = ledger_with(run, seq=3)
    for message in (
        Points(4, 1, b"{}", None),
        Started(4, {}),
        Applied(4, 1, {"paused": True}, 1),
        Ended(4, "finished", "", {}),
    ):
        supervise(message, ledger)
    assert ledger.effects == []
    assert (run.status, list(run.acks)) == ("running", ["a"])
