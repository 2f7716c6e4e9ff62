"""Every figure the distillation page quotes from its playground, recomputed from fresh runs
(about 20 s): a changed demo fails here instead of leaving a stale page."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from app.demos.base import default_artifacts, run_inline
from app.demos.distillation import DEMO, LEFT_OUT, TEACHER, Params
from app.ml import distill, toy_data
from tests.unit.test_worked_examples import page_text

torch.set_num_threads(1)


def percent(value: float) -> str:
    return f"{value:.0%}"


def test_the_distillation_page_quotes_fresh_runs() -> None:
    text = " ".join(page_text("distillation").replace("''", "'").split())  # YAML's quoting and line wraps undone

    points, summary, control = run_inline(DEMO, Params(pace=0))
    facts, final, final_3 = control.facts, summary["final"], summary["final_class_3"]
    assert f"MLP with {facts['teacher_parameters']} parameters" in text
    assert f"({percent(facts['teacher_accuracy'])} held-out accuracy)" in text
    assert f"students with {facts['student_parameters']} parameters" in text
    assert f"({facts['transfer_points']} points remain)" in text
    assert final_3["labels"] == final_3["argmax"] == 0
    assert f"end at 0% on class 3 and {percent(final['labels'])} overall" in text
    assert percent(final["labels"]) == percent(final["argmax"])
    assert f"they reach {percent(final['argmax'])} over all eight classes" in text
    assert f"about the teacher's {percent(facts['teacher_accuracy'])}" in text
    assert (
        f"`soft` recognises {percent(final_3['soft'])} of class 3 and reaches {percent(final['soft'])} overall" in text
    )
    assert (
        f"soft recognises {percent(final_3['soft'])} of the class-3 points and reaches {percent(final['soft'])}" in text
    )
    first_soft = next(q["loss"] for q in points if q["step"] == 0 and q["series"] == "soft")

    _, cold, _ = run_inline(DEMO, Params(pace=0, temperature=1.0))
    assert f"`soft` finds {percent(cold['final_class_3']['soft'])} of class 3 here" in text
    assert f"this seed ({percent(cold['final_class_3']['soft'])})" in text
    cold_points, _, _ = run_inline(DEMO, Params(pace=0, temperature=1.0, steps=1))
    cold_first_soft = next(q["loss"] for q in cold_points if q["series"] == "soft")
    assert f"({first_soft:.1f} at step 0 at $T = 4$, {cold_first_soft:.1f} at $T = 1$)" in text

    teacher = distill.load_teacher(default_artifacts().ensure(TEACHER))
    x, y = toy_data.ring(Params().transfer, Params().seed + 1, classes=8, spread=TEACHER.recipe["spread"])
    kept = distill.without_class(teacher, x, y, LEFT_OUT)
    x, y = x[kept], y[kept]
    beside = (y == LEFT_OUT - 1) | (y == LEFT_OUT + 1)

    def class_3_probability(temperature: float) -> float:
        return F.softmax(teacher(x) / temperature, dim=1)[beside, LEFT_OUT].mean().item()

    assert f"mean probability of {class_3_probability(4):.3f} on the points of classes 2 and 4" in text
    assert f"those probabilities shrink to {class_3_probability(1):.3f}" in text
    assert (
        f"{class_3_probability(1):.3f} on its neighbours' points, against {class_3_probability(4):.3f} at T = 4" in text
    )

    _, full, _ = run_inline(DEMO, Params(pace=0, leave_out=False))
    by_series = ", ".join(percent(full["final"][s]) for s in ("labels", "argmax"))
    assert f"end at {by_series} and {percent(full['final']['soft'])} over all classes" in text
    by_series_3 = ", ".join(percent(full["final_class_3"][s]) for s in ("labels", "argmax"))
    assert f"and {by_series_3} and {percent(full['final_class_3']['soft'])} on class 3" in text
