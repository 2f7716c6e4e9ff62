"""The distillation playground: the soft loss with its T² factor by hand, the ring data, the
prepared teacher, a transfer set without class 3, and a student that learns class 3 from soft
targets alone."""

from __future__ import annotations

import math

import pytest
import torch
from pydantic import ValidationError

from app.demos.base import default_artifacts, run_inline
from app.demos.distillation import DEMO, TEACHER, Params
from app.ml import distill, losses, toy_data

torch.set_num_threads(1)


def softmax(z: list[float], t: float) -> list[float]:
    e = [math.exp(v / t) for v in z]
    return [v / sum(e) for v in e]


def test_the_soft_loss_is_t_squared_times_the_kl_by_hand() -> None:
    teacher, student, t = [[2.0, 1.0, 0.0], [0.0, 3.0, -1.0]], [[0.5, 0.5, 0.0], [1.0, 1.0, 1.0]], 2.0
    by_hand = 0.0
    for z_t, z_s in zip(teacher, student, strict=True):
        p, q = softmax(z_t, t), softmax(z_s, t)
        by_hand += sum(pi * math.log(pi / qi) for pi, qi in zip(p, q, strict=True))
    by_hand = t * t * by_hand / len(teacher)
    f64 = torch.float64
    ours = losses.soft_target_loss(torch.tensor(student, dtype=f64), torch.tensor(teacher, dtype=f64), t)
    assert ours.item() == pytest.approx(by_hand, rel=1e-12)
    # The first example alone, fully by hand: p = softmax((1, 0.5, 0)), q = softmax((0.25, 0.25, 0)).
    p = [
        math.e / (math.e + math.exp(0.5) + 1),
        math.exp(0.5) / (math.e + math.exp(0.5) + 1),
        1 / (math.e + math.exp(0.5) + 1),
    ]
    q = [math.exp(0.25) / (2 * math.exp(0.25) + 1)] * 2 + [1 / (2 * math.exp(0.25) + 1)]
    first = 4 * sum(pi * math.log(pi / qi) for pi, qi in zip(p, q, strict=True))
    assert losses.soft_target_loss(
        torch.tensor([student[0]], dtype=f64), torch.tensor([teacher[0]], dtype=f64), t
    ).item() == pytest.approx(first, rel=1e-12)


def test_the_t_squared_factor_keeps_the_gradient_scale_across_temperatures() -> None:
    # For logits small against T, ∂(T² KL)/∂z_s → (z_s − z_t)/K minus its mean (Hinton et al. 2015, §2.1):
    # the same for every large T, while the KL alone shrinks like 1/T².
    teacher, student = torch.tensor([[0.3, -0.2, 0.1]]), torch.tensor([[0.0, 0.1, -0.1]])
    grads = []
    for t in (20.0, 100.0):
        z = student.clone().requires_grad_(True)
        losses.soft_target_loss(z, teacher, t).backward()
        grads.append(z.grad[0].tolist())
    diff = student[0] - teacher[0]
    expected = (diff - diff.mean()) / 3
    assert grads[1] == pytest.approx(expected.tolist(), rel=1e-2, abs=1e-4)
    assert grads[0] == pytest.approx(grads[1], rel=0.05, abs=1e-3)


def test_the_ring_puts_each_class_around_its_own_centre() -> None:
    x, y = toy_data.ring(500, seed=3, classes=8, spread=0.4)
    assert y.tolist() == [c for c in range(8) for _ in range(500)]
    for c in range(8):
        centre = x[y == c].mean(0)
        expected = (2 * math.cos(c * math.pi / 4), 2 * math.sin(c * math.pi / 4))
        assert centre.tolist() == pytest.approx(expected, abs=0.06)  # 3 standard errors of a 500-point mean
        assert x[y == c].std(0).tolist() == pytest.approx([0.4, 0.4], abs=0.04)


def test_the_teacher_artifact_is_frozen_and_accurate() -> None:
    teacher = distill.load_teacher(default_artifacts().ensure(TEACHER))
    assert not any(q.requires_grad for q in teacher.parameters())
    x, y = toy_data.ring(100, seed=123, classes=8, spread=0.4)
    assert (teacher(x).argmax(1) == y).float().mean().item() > 0.9


def test_the_transfer_set_without_a_class_holds_nothing_anyone_would_call_it() -> None:
    teacher = distill.load_teacher(default_artifacts().ensure(TEACHER))
    x, y = toy_data.ring(30, seed=1, classes=8, spread=0.4)
    kept = distill.without_class(teacher, x, y, 3)
    calls = teacher(x).argmax(1)
    # Checked point by point: a point stays exactly when neither its label nor the teacher says 3.
    assert kept.tolist() == [int(label) != 3 and int(call) != 3 for label, call in zip(y, calls, strict=True)]
    assert (y[~kept] == 3).sum() == 30 and 0 < int(kept.sum()) < 7 * 30


def test_only_the_soft_student_learns_the_class_left_out() -> None:
    points, summary, control = run_inline(DEMO, Params(pace=0))
    assert {q["series"] for q in points} == {"labels", "argmax", "soft"}
    assert control.facts["transfer_points_of_class_3"] == 0
    assert summary["final_class_3"]["labels"] == summary["final_class_3"]["argmax"] == 0.0
    assert summary["final_class_3"]["soft"] > 0.6
    first = [q for q in points if q["step"] == 0]
    assert len({q["accuracy"] for q in first}) == 1  # one initial student for all three


@pytest.mark.parametrize("bad", [{"temperature": 0}, {"temperature": 21}, {"transfer": 1}, {"leave_out": "maybe"}])
def test_bad_params_are_rejected(bad: dict) -> None:
    with pytest.raises(ValidationError):
        Params(**bad)
