"""Every demo's "Reproduce locally" script, built from a made-up run record: no run, no subprocess.
Catches a demo whose code the script cannot carry, long before a run is downloaded."""

from __future__ import annotations

import ast

import pytest

from app.demos import load_demos
from app.playground.reproduce.bundle import build_script
from app.playground.reproduce.record import RunRecord

DEMOS = load_demos()
SERVER_SHA256 = "ab" * 32


def fake_record(name: str) -> RunRecord:
    demo = DEMOS[name]
    params = demo.shown(demo.Params().model_dump(mode="json"))
    live = sorted(demo.live - {"pace"})
    changes = [(3, {live[0]: params[live[0]], "paused": True})] if live else []
    return RunRecord("fake0000run", name, "cancelled", params, changes, ["step", "loss"], 9, True, "Cancelled.")


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
    replay = assignment(script, "REPLAY")
    assert replay["train"] == demo.train and replay["params"] == demo.trained(record.params, {})
    assert replay["changes"] == [(step, {k: v for k, v in c.items() if k != "paused"}) for step, c in record.changes]
    assert replay["stop_after_step"] == 9 and replay["artifact_sha256"] == checksums
    assert replay["machine_metrics"] == sorted(demo.machine_metrics)
    modules = assignment_keys(script, "MODULES")
    assert demo.train.partition(":")[0] in modules and "app.playground.reproduce.runtime" in modules
    assert not any(m.startswith(("app.glossary", "app.playground.http.routes")) for m in modules)
    header = ast.get_docstring(ast.parse(script))
    for artifact in demo.artifacts:
        assert artifact.filename in header and SERVER_SHA256 in header
    for key in demo.machine_metrics:
        assert key in header and "will differ" in header
    assert "ended 'cancelled' after step 9" in header


def assignment_keys(script: str, name: str) -> set[str]:
    """The keys of `NAME[key] = ...` statements in the script."""
    return {
        node.targets[0].slice.value
        for node in ast.parse(script).body
        if isinstance(node, ast.Assign)
        and isinstance(node.targets[0], ast.Subscript)
        and getattr(node.targets[0].value, "id", None) == name
    }


def test_the_clock_and_speed_of_training_compute_are_its_machine_metrics() -> None:
    assert {"seconds", "flops_per_second"} <= DEMOS["training-compute"].machine_metrics
    assert all(not demo.machine_metrics for name, demo in DEMOS.items() if name != "training-compute")


def test_a_module_the_script_cannot_carry_is_refused_by_name() -> None:
    """A declaration (pydantic) is no part of a script: a training module that imported one at
    run time would make a script that cannot run on PyTorch alone."""
    from app.playground.reproduce.bundle import Conflict, carried_modules

    with pytest.raises(Conflict, match=r"app\.demos\.base imports pydantic"):
        carried_modules(["app.demos.base"])
    carried = carried_modules(["app.training.fine_tuning"])
    assert {"app.training.fine_tuning", "app.training._lm", "app.ml.charlm", "app.demos.recipes"} <= set(carried)
    assert not any(m in carried for m in ("app.demos.fine_tuning", "app.demos.base", "app.settings"))
