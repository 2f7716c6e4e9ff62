"""Every figure the instruction-tuning page quotes from its held-out-task runs, recomputed from
fresh runs at seeds 0 to 4 (about 100 s of one CPU thread): a changed demo fails here instead of
leaving a stale page."""

from __future__ import annotations

import pytest
import torch

from app.demos.base import default_artifacts, run_inline
from app.demos.instruction_tuning import DEMO, Params
from app.demos.recipes import ENGLISH_BASE
from app.ml import charlm
from app.training.instruction_tuning import EVAL_WORDS
from tests.unit.page_figures import as_read, percent
from tests.unit.test_worked_examples import fixed, page_text

torch.set_num_threads(1)
SEEDS = range(5)


@pytest.fixture(scope="module")
def text() -> str:
    return as_read("instruction-tuning")


def runs(**params: object) -> list[tuple[list[dict], dict, dict]]:
    out = []
    for seed in SEEDS:
        points, summary, control = run_inline(DEMO, Params(pace=0, seed=seed, **params))
        out.append((points, summary, control.facts))
    return out


def test_last_letter_held_out_of_a_first_letter_run(text: str) -> None:
    results = runs(tasks=["first"], held_out_task="last")
    points, summary, facts = results[0]
    coincidence = facts["held_out_by_rule"]
    assert coincidence == sum(w[0] == w[-1] for w in EVAL_WORDS) / len(EVAL_WORDS)
    accuracy = summary["accuracy"]
    assert accuracy["acc_held_out"] == pytest.approx(coincidence)  # on the line, not above it (float32)
    assert (
        f"the model reaches {percent(accuracy['acc_first'])} on `first` and {percent(accuracy['acc_held_out'])} "
        f"on `last`, the {percent(coincidence)} of words whose first letter is also their last"
    ) in text
    finals = [s["accuracy"]["acc_held_out"] for _, s, _ in results]
    assert max(finals) <= coincidence + 1e-6
    assert f"over seeds 0 to 4 it ends between {percent(min(finals))} and {percent(max(finals))}" in text
    loss = f"falls from {fixed(points[0]['held_out_loss'], 2)} to {fixed(points[-1]['held_out_loss'], 2)}"
    assert f"Its loss on the held-out answers {loss}" in text
    assert f"The held-out answer loss {loss}" in text
    assert (
        f"The first letter reaches {percent(accuracy['acc_first'])}; the held-out last letter ends at "
        f"{percent(accuracy['acc_held_out'])}, on the coincidence line (the {percent(coincidence)} of"
    ) in text


def test_vowel_counting_held_out_of_a_letters_run(text: str) -> None:
    results = runs(tasks=["first", "last"], held_out_task="vowels")
    assert all(s["accuracy"]["acc_held_out"] == 0 and s["held_out_by_rule"] == 0 for _, s, _ in results)
    assert "with vowel counting held out, it scores 0% at all five seeds" in text


def test_the_model_size_quoted() -> None:
    model = charlm.load_model(default_artifacts().ensure(ENGLISH_BASE))
    assert f"{sum(p.numel() for p in model.parameters()):,} parameters" in page_text("instruction-tuning")


def test_the_default_run_its_seeds_and_exercises(text: str) -> None:
    points, summary, _ = run_inline(DEMO, Params(pace=0))
    early = [p for p in points if p["step"] < 300]
    assert max(max(p["acc_first"], p["acc_last"]) for p in early) < 0.5
    assert "Both accuracies start at 0 and stay under 50% for 300 steps" in text
    assert points[0]["acc_first"] == points[0]["acc_last"] == 0
    at_400, final = points[400], summary["accuracy"]
    default = f"{percent(final['acc_first'])} and {percent(final['acc_last'])}"
    assert (
        f"Then they climb: {percent(at_400['acc_first'])} and {percent(at_400['acc_last'])} at step 400, "
        f"{default} at the end."
    ) in text
    assert (
        f"it scores only {percent(final['acc_first_new_phrasing'])} and {percent(final['acc_last_new_phrasing'])}."
    ) in text
    seed_1, seed_2 = (run_inline(DEMO, Params(pace=0, seed=seed))[1]["accuracy"] for seed in (1, 2))
    assert (
        f"seed 2 ends at {percent(seed_2['acc_first'])} and {percent(seed_2['acc_last'])}, "
        f"seed 1 only at {percent(seed_1['acc_first'])} and {percent(seed_1['acc_last'])}."
    ) in text

    points, summary, _ = run_inline(DEMO, Params(pace=0, tasks=["first"], steps=200))
    assert (
        f"Exact match on the 43 held-out words is {percent(points[100]['acc_first'])} at step 100, then climbs to "
        f"{percent(points[140]['acc_first'])} at step 140 and {percent(points[180]['acc_first'])} at step 180; "
        f"the held-out phrasings end at {percent(summary['accuracy']['acc_first_new_phrasing'])} too."
    ) in text

    _, summary, _ = run_inline(DEMO, Params(pace=0, tasks=["first", "last"], phrasings=3))
    a = summary["accuracy"]
    assert (
        f"Slower: after 500 steps {percent(a['acc_first'])} (first) and {percent(a['acc_last'])} (last), "
        f"{percent(a['acc_first_new_phrasing'])} and {percent(a['acc_last_new_phrasing'])} with the held-out "
        f"phrasings, where the default two phrasings reach {default}."
    ) in text
