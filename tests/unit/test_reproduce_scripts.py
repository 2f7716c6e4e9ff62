"""Every demo's "Reproduce locally" script, built from a made-up run record: no run, no subprocess.
Catches a demo whose source the script cannot carry, long before a run is downloaded."""

from __future__ import annotations

import ast

import pytest

from app.demos import load_demos
from app.playground.script import RunRecord, build_script

DEMOS = load_demos()
SERVER_SHA256 = "ab" * 32


def fake_record(name: str) -> RunRecord:
    demo = DEMOS[name]
    params = demo.shown(demo.Params().model_dump(mode="json"))
    live = sorted(demo.live - {"pace"})
    changes = [(3, {live[0]: params[live[0]]})] if live else []
    return RunRecord("fake0000run", name, "done", params, changes, ["step", "loss"], 9, True)


def assignment(script: str, name: str):
    """The value of a top-level `NAME = literal` in the script."""
    for node in ast.parse(script).body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == name for t in node.targets):
            return ast.literal_eval(node.value)
    raise AssertionError(f"no {name} in the script")


@pytest.mark.parametrize("name", sorted(DEMOS))
def test_every_demo_builds_a_script_that_compiles_and_carries_the_run(name: str) -> None:
    demo, record = DEMOS[name], fake_record(name)
    checksums = {artifact.filename: SERVER_SHA256 for artifact in demo.artifacts}
    script = build_script(demo, record, checksums)
    compile(script, f"{name}.py", "exec")
    assert assignment(script, "PARAMS") == demo.trained(record.params, {})
    assert assignment(script, "CHANGES") == [(step, c) for step, c in record.changes]
    assert assignment(script, "MACHINE_METRICS") == sorted(demo.machine_metrics)
    assert assignment(script, "ARTIFACT_SHA256") == checksums
    header = ast.get_docstring(ast.parse(script))
    for artifact in demo.artifacts:
        assert artifact.filename in header and SERVER_SHA256 in header
    for key in demo.machine_metrics:
        assert key in header and "will differ" in header


def test_the_clock_and_speed_of_training_compute_are_its_machine_metrics() -> None:
    assert DEMOS["training-compute"].machine_metrics == {"seconds", "flops_per_second"}
    assert all(not demo.machine_metrics for name, demo in DEMOS.items() if name != "training-compute")
