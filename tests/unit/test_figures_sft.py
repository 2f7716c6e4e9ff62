"""Every figure the SFT page quotes from its playground, tied to runs of the demo: the default run
at seeds 0 to 4 and the 300-step exercise (about a minute of one CPU thread, recorded in
tests/recorded and sampled here; record again with `python -m tests.unit.test_figures_sft`). A
changed demo fails here instead of leaving a stale page."""

from __future__ import annotations

import functools
import statistics
from unittest import mock

import pytest
import torch

from app.demos.base import run_inline
from app.demos.sft import DEMO, Params
from app.ml import charlm, packing, texts
from app.training import sft as sft_training
from tests.unit.page_figures import RecordedStudy, as_read, percent
from tests.unit.test_worked_examples import fixed

torch.set_num_threads(1)
SEEDS = range(5)


@pytest.fixture(scope="module")
def text() -> str:
    return as_read("sft")


def seed_run(seed: int) -> dict:
    """The default run at `seed`, reduced to what the page quotes, and the per-character held-out
    response losses of both series at the last evaluation (recorded from the demo's own forward
    passes): their paired difference's size, mean and spread."""
    val = packing.pack_conversations(texts.CHATS_VAL, charlm.LM_VOCAB, 64, 32, 128)
    recorded: list[torch.Tensor] = []
    token_nll = packing.token_nll

    def recording(model: torch.nn.Module, batch: packing.Packed) -> torch.Tensor:
        nll = token_nll(model, batch)
        if torch.equal(batch.x, val.x):
            recorded.append(nll.detach())
        return nll

    with mock.patch.object(sft_training, "token_nll", recording):
        points, summary, control = run_inline(DEMO, Params(pace=0, seed=seed))
    kept = (val.counted * val.response).bool()
    paired = (recorded[-1] - recorded[-2])[kept]  # response_only minus all_tokens, per character
    facts = {key: control.facts[key] for key in ("masked_fraction", "held_out_characters")}
    quoted = ("ends_turn", "well_formed", "val_prompt_loss", "val_response_loss")
    return {
        "facts": facts,
        "start": {key: at(points, 0)["all_tokens"][key] for key in quoted},
        "ends_turn_50": {series: p["ends_turn"] for series, p in at(points, 50).items()},
        "final": summary["final"],
        "reply_99": at(points, 99)["all_tokens"]["completion"],
        "paired": {"n": paired.numel(), "mean": paired.mean().item(), "std": paired.std().item()},
    }


def exercise_run() -> dict:
    return run_inline(DEMO, Params(pace=0, steps=300))[1]["final"]


STUDY = RecordedStudy(
    "sft_study",
    "SFT: the default run at seeds 0-4 and the 300-step exercise",
    {**{f"seed {seed}": functools.partial(seed_run, seed) for seed in SEEDS}, "300 steps": exercise_run},
)


@pytest.fixture(scope="module")
def seed_runs() -> list[dict]:
    results = STUDY.results()
    return [results[f"seed {seed}"] for seed in SEEDS]


def at(points: list[dict], step: int) -> dict[str, dict]:
    return {p["series"]: p for p in points if p["step"] == step}


def test_the_recorded_study_is_what_the_demo_gives_now() -> None:
    STUDY.assert_current("seed 0")


def test_the_setup_and_the_default_run(text: str, seed_runs: list[dict]) -> None:
    run = seed_runs[0]
    facts, final, start = run["facts"], run["final"], run["start"]
    assert f"the {percent(facts['masked_fraction'])} of targets in prompts and template masked" in text
    held_out = facts["held_out_characters"]
    assert f"every character of the held-out conversations ({held_out['response']} in responses, " in text
    assert f"{held_out['prompt']} in prompts)" in text
    lengths = [len("".join(texts.chat(p, r))) for p, r in texts.CHATS]
    assert f"A conversation ({min(lengths)} to {max(lengths)} characters)" in text

    ends = round(start["ends_turn"] * 16)
    assert f"at step 0, {ends} of the 16 answers ends its turn" in text and start["well_formed"] == 0
    assert f"At step 0 the base ends its turn in {percent(start['ends_turn'])} of its answers, {ends} of 16" in text
    a, r = final["all_tokens"], final["response_only"]
    assert (
        f"{percent(a['ends_turn'])} of `all_tokens`' answers end their turn and {percent(a['well_formed'])} have "
        f"that form; for `response_only` {percent(r['ends_turn'])} and {percent(r['well_formed'])}"
    ) in text
    middle = run["ends_turn_50"]
    assert (
        f"By step 50, {percent(middle['all_tokens'])} (all_tokens) and "
        f"{percent(middle['response_only'])} (response_only) do, and by step 99, "
        f"{percent(a['ends_turn'])} and {percent(r['ends_turn'])}."
    ) in text
    assert (
        f"The held-out prompt loss of `all_tokens` falls from {fixed(start['val_prompt_loss'], 2)} to "
        f"{fixed(a['val_prompt_loss'], 2)}"
    ) in text
    assert f"For `response_only` it rises to {fixed(r['val_prompt_loss'], 2)}." in text
    assert (
        f"goes from {fixed(start['val_response_loss'], 2)} to {fixed(r['val_response_loss'], 2)} with masking, "
        f"{fixed(a['val_response_loss'], 2)} without"
    ) in text
    assert f"training response loss falls to {fixed(a['response_loss'], 2)} and {fixed(r['response_loss'], 2)}" in text
    assert f'("{run["reply_99"].split("Assistant: ")[1].strip()}")' in text


def test_the_spread_over_five_seeds(text: str, seed_runs: list[dict]) -> None:
    base_ends = sum(round(run["start"]["ends_turn"] * 16) for run in seed_runs)
    assert f"({base_ends} of 80 over five seeds)" in text
    ends = {s: [run["final"][s]["ends_turn"] for run in seed_runs] for s in ("all_tokens", "response_only")}
    spread = " and ".join(f"{percent(statistics.mean(v))} ± {percent(statistics.stdev(v))}" for v in ends.values())
    lowest = min(min(v) for v in ends.values())
    assert f"Over five seeds {spread} end their turn, never fewer than {percent(lowest)}" in text

    gaps = [
        run["final"]["all_tokens"]["val_response_loss"] - run["final"]["response_only"]["val_response_loss"]
        for run in seed_runs
    ]
    assert all(g > 0 for g in gaps)
    assert (
        f"Masking is lower at all five seeds, by {fixed(statistics.mean(gaps), 3)} ± "
        f"{fixed(statistics.stdev(gaps), 3)} ({fixed(min(gaps), 3)} at the least)"
    ) in text
    # Each gap is the mean of per-character paired differences; their standard error is the noise
    # of the evaluation set, about as large as the gap.
    for run, gap in zip(seed_runs, gaps, strict=True):
        paired = run["paired"]
        assert paired["n"] == 596 and -paired["mean"] == pytest.approx(gap, abs=1e-5)
        assert fixed(paired["std"] / paired["n"] ** 0.5, 2) == "0.03"
    assert "per-character standard error for this paired difference is about 0.03" in text


def test_the_300_step_exercise(text: str, seed_runs: list[dict]) -> None:
    final = STUDY.results()["300 steps"]
    a, r = final["all_tokens"], final["response_only"]
    start = seed_runs[0]["start"]
    assert (
        f"training response loss falls to {fixed(a['response_loss'], 2)} (all_tokens) and "
        f"{fixed(r['response_loss'], 2)} (response_only)"
    ) in text
    assert (
        f"held-out response loss climbs from {fixed(start['val_response_loss'], 2)} to "
        f"{fixed(a['val_response_loss'], 2)} and {fixed(r['val_response_loss'], 2)}, worse than the base"
    ) in text
    assert r["val_response_loss"] > a["val_response_loss"]  # the order has flipped
    assert f"still end their turn ({percent(a['ends_turn'])} and {percent(r['ends_turn'])})" in text


if __name__ == "__main__":
    STUDY.record()
