"""Every figure the QLoRA page quotes from its playground, from fresh runs: the default (QLoRA beside
plain LoRA, 250 steps), the 100-step runs of the exercises with and without double quantization,
and block size 256. What the quantization does to the base is known before the first update, so
the variations that quote only that train one step. The runs are recorded in tests/recorded and
sampled here (record again with `python -m tests.unit.test_figures_qlora`)."""

from __future__ import annotations

import functools
from typing import Any

import pytest
import torch

from app.demos.base import run_inline
from app.demos.qlora import DEMO, Params
from tests.unit.page_figures import RecordedStudy, as_read, percent

torch.set_num_threads(1)


def qlora_run(**params: Any) -> dict:
    """The run's facts the page quotes, and the final points by series."""
    _, summary, control = run_inline(DEMO, Params(pace=0, **params))
    facts = {key: control.facts[key] for key in ("base_memory_bytes", "quant_error", "quant")}
    return {"facts": facts, "final": summary["final"]}


RUNS = {
    "default": {},
    "1 step, no double quantization": {"steps": 1, "double_quant": False},
    "block size 256": {"blocksize": 256, "compare_lora": False},
    "100 steps": {"steps": 100},
    "100 steps, no double quantization": {"steps": 100, "double_quant": False},
}
STUDY = RecordedStudy(
    "qlora_runs",
    "QLoRA: the default run, the variations and the exercises' runs the page quotes",
    {key: functools.partial(qlora_run, **params) for key, params in RUNS.items()},
)


@pytest.fixture(scope="module")
def runs() -> dict[str, dict]:
    return STUDY.results()


def run(runs: dict[str, dict], key: str) -> tuple[dict, dict]:
    """(the run's facts, the final points by series)."""
    return runs[key]["facts"], runs[key]["final"]


def test_the_recorded_runs_are_what_the_demo_gives_now() -> None:
    STUDY.assert_current("1 step, no double quantization", "100 steps")


def test_the_default_run(runs: dict[str, dict]) -> None:
    text = as_read("qlora")
    facts, final = run(runs, "default")
    memory, error = facts["base_memory_bytes"], facts["quant_error"]
    bits = facts["quant"]["bits_per_param"]
    assert f"A default run reports {bits:.3f} bits per parameter and a base of {memory['nf4']:,} bytes " in text
    assert f"instead of {memory['fp32']:,} in fp32 ({percent(memory['nf4'] / memory['fp32'])})" in text
    assert f"by {error['mean_abs']:.3f} on average ({error['max_abs']:.3f} at most)" in text
    assert f"task-A loss from {error['task_a_loss_fp32']:.3f} to {error['task_a_loss_nf4']:.3f}" in text
    qlora, lora = final["qlora"], final["lora"]
    assert f"QLoRA ends at {qlora['loss']:.2f}, LoRA at {lora['loss']:.2f}, " in text
    assert f"and task A at {qlora['loss_a']:.2f} against {lora['loss_a']:.2f}" in text


def test_the_variations(runs: dict[str, dict]) -> None:
    text = as_read("qlora")
    facts, _ = run(runs, "1 step, no double quantization")
    bits, memory = facts["quant"]["bits_per_param"], facts["base_memory_bytes"]
    assert f"unticked: {bits:g} bits and {memory['nf4']:,} bytes, with the same error " in text
    assert f"(task-A loss {facts['quant_error']['task_a_loss_nf4']:.3f})" in text
    facts, final = run(runs, "block size 256")
    error = facts["quant_error"]
    assert f"**Block size** 256: {facts['quant']['bits_per_param']:.2f} bits, a larger error " in text
    assert f"(mean {error['mean_abs']:.4f}) and task-A loss {error['task_a_loss_nf4']:.3f} before training" in text
    assert f"QLoRA still ends at {final['qlora']['loss']:.2f} on task B" in text


def test_the_exercises(runs: dict[str, dict]) -> None:
    text = as_read("qlora")
    facts, final = run(runs, "100 steps")
    memory, error = facts["base_memory_bytes"], facts["quant_error"]
    bits = facts["quant"]["bits_per_param"]
    kilobytes = f"{memory['nf4'] / 1000:.0f} kB in NF4 against {memory['fp32'] / 1000:.0f} kB in fp32"
    assert f"The base takes {kilobytes}, " in text
    assert f"about {bits:.2f} bits per weight" in text
    assert f"raises task A's loss from {error['task_a_loss_fp32']:.3f} to {error['task_a_loss_nf4']:.3f}" in text
    qlora, lora = final["qlora"]["loss"], final["lora"]["loss"]
    assert f"task-B loss: {qlora:.3f} for QLoRA, {lora:.3f} for LoRA" in text
    plain, final = run(runs, "100 steps, no double quantization")
    plain_bits, plain_kb = plain["quant"]["bits_per_param"], plain["base_memory_bytes"]["nf4"] / 1000
    assert f"NF4 costs {plain_bits:g} bits per weight instead of {bits:.2f} ({plain_kb:.0f} kB instead" in text
    without = final["qlora"]["loss"]
    assert abs(without - qlora) < 0.005 and f"barely moves ({without:.3f} against {qlora:.3f} with it)" in text


if __name__ == "__main__":
    STUDY.record()
