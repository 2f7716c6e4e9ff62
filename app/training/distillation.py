"""Knowledge distillation: three students start from the same weights and train on the same transfer
set against different targets (true labels, the teacher's argmax, the teacher's softened output at
temperature T with Hinton et al.'s T² factor), each judged on held-out points."""

from __future__ import annotations

import copy
from collections.abc import Generator
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F

from app.demos.recipes import LEFT_OUT, TEACHER, TEACHER_CLASSES
from app.ml import backprop, distill, losses, toy_data
from app.ml.optim import set_lr

if TYPE_CHECKING:
    from app.demos.base import Control, Point
    from app.demos.distillation import Params


STUDENT_DEPTH, STUDENT_WIDTH, STUDENT_ACTIVATION = 1, 16, "tanh"


HELD_OUT_PER_CLASS = 100


SERIES = ("labels", "argmax", "soft")


def train(p: Params, ctl: Control[Params]) -> Generator[list[Point], None, dict]:
    spread = TEACHER.recipe["spread"]
    teacher = distill.load_teacher(ctl.artifact(TEACHER))
    x, y = toy_data.ring(p.transfer, p.seed + 1, classes=TEACHER_CLASSES, spread=spread)
    test_x, test_y = toy_data.ring(HELD_OUT_PER_CLASS, p.seed + 2, classes=TEACHER_CLASSES, spread=spread)
    if p.leave_out:
        kept = distill.without_class(teacher, x, y, LEFT_OUT)
        x, y = x[kept], y[kept]
    teacher_logits = teacher(x)
    targets = {"labels": y, "argmax": teacher_logits.argmax(1)}
    of_left_out = test_y == LEFT_OUT

    base = backprop.make_mlp(STUDENT_DEPTH, STUDENT_WIDTH, STUDENT_ACTIVATION, p.seed, d_out=TEACHER_CLASSES)
    students = {name: copy.deepcopy(base) for name in SERIES}
    optimizers = {name: torch.optim.Adam(s.parameters(), lr=p.lr) for name, s in students.items()}
    with torch.no_grad():
        teacher_correct = teacher(test_x).argmax(1) == test_y
    ctl.announce(
        teacher_parameters=sum(q.numel() for q in teacher.parameters()),
        student_parameters=sum(q.numel() for q in base.parameters()),
        teacher_accuracy=teacher_correct.float().mean().item(),
        teacher_accuracy_class_3=teacher_correct[of_left_out].float().mean().item(),
        transfer_points=len(y),
        transfer_points_of_class_3=int((y == LEFT_OUT).sum()),
        held_out_points=len(test_y),
    )

    points: list[Point] = []
    for step in range(p.steps):
        live = ctl.params
        points = []
        for name, student in students.items():
            logits = student(x)
            if name == "soft":
                loss = losses.soft_target_loss(logits, teacher_logits, live.temperature)
            else:
                loss = F.cross_entropy(logits, targets[name])
            with torch.no_grad():
                correct = student(test_x).argmax(1) == test_y
            points.append(
                {
                    "step": step,
                    "series": name,
                    "loss": loss.item(),
                    "accuracy": correct.float().mean().item(),
                    "accuracy_class_3": correct[of_left_out].float().mean().item(),
                    "temperature": live.temperature,
                    "lr": live.lr,
                }
            )
            optimizer = optimizers[name]
            set_lr(optimizer, live.lr)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        yield points
    return {
        "final": {q["series"]: q["accuracy"] for q in points},
        "final_class_3": {q["series"]: q["accuracy_class_3"] for q in points},
    }
