"""Knowledge distillation: a small student learns from a trained teacher, three ways, on the same points.

The teacher (a prepared artifact) is an MLP trained on many labelled points of eight classes laid
out on a ring, each class resembling its two neighbours. Three students start from the same
weights and train on the same transfer set, so data and budget are equal and only the targets
differ: `labels`, the true labels of the transfer points; `argmax`, the teacher's hard answers on
them; `soft`, the teacher's whole output at temperature T, with the T² factor of Hinton et al.
(2015). By default the transfer set holds no example of class 3, as Hinton et al. left the 3s out
of MNIST: labels of either kind never name it, and only the soft targets can teach it.
"""

from __future__ import annotations

from collections.abc import Generator

from pydantic import Field

from app.demos.artifacts import Artifact
from app.demos.base import Chart, Control, Demo, DemoParams, Point, log_slider, pace_field

CLASSES = 8
LEFT_OUT = 3  # the class a transfer set may leave out
TEACHER = Artifact(
    name="distill-teacher",
    title="the teacher network",
    builder="app.ml.distill:build_teacher",
    recipe={
        "classes": CLASSES,
        "spread": 0.4,  # neighbouring classes overlap a little: the teacher is unsure near their borders
        "n_per_class": 300,
        "network": {"depth": 2, "width": 64, "activation": "tanh"},
        "steps": 800,
        "lr": 2e-2,
        "seed": 7,
        "version": 3,  # 3: eight classes on a ring (2: a three-arm spiral, built reproducibly)
    },
)
STUDENT = {"depth": 1, "width": 16, "activation": "tanh"}
HELD_OUT_PER_CLASS = 100
SERIES = ("labels", "argmax", "soft")


class Params(DemoParams):
    temperature: float = Field(
        4.0, ge=0.5, le=20, title="Temperature T", description="Softens teacher and student outputs: softmax(z / T)."
    )
    leave_out: bool = Field(
        True,
        title=f"Leave class {LEFT_OUT} out of the transfer set",
        description=f"No transfer point is of class {LEFT_OUT} or one the teacher would call {LEFT_OUT}.",
    )
    transfer: int = Field(
        30, ge=2, le=200, title="Transfer points per class", description="Points the students train on, per class."
    )
    lr: float = Field(
        0.01, gt=0, le=1, title="Learning rate", description="Adam step size.", json_schema_extra=log_slider(1e-4)
    )
    steps: int = Field(300, ge=1, le=5000, title="Steps", description="Full-batch updates per student.")
    seed: int = Field(0, ge=0, le=2**31 - 1, title="Seed", description="Seed of the points and the student.")
    pace: float = pace_field(40)


def train(p: Params, ctl: Control) -> Generator[list[Point], None, dict]:
    import copy

    import torch
    import torch.nn.functional as F

    from app.ml import backprop, distill, losses, toy_data

    spread = TEACHER.recipe["spread"]
    teacher = distill.load_teacher(ctl.artifact(TEACHER))
    x, y = toy_data.ring(p.transfer, p.seed + 1, classes=CLASSES, spread=spread)
    test_x, test_y = toy_data.ring(HELD_OUT_PER_CLASS, p.seed + 2, classes=CLASSES, spread=spread)
    if p.leave_out:
        kept = distill.without_class(teacher, x, y, LEFT_OUT)
        x, y = x[kept], y[kept]
    teacher_logits = teacher(x)
    targets = {"labels": y, "argmax": teacher_logits.argmax(1)}
    of_left_out = test_y == LEFT_OUT

    base = backprop.make_mlp(STUDENT["depth"], STUDENT["width"], STUDENT["activation"], p.seed, d_out=CLASSES)
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
            optimizer.param_groups[0]["lr"] = live.lr
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        yield points
    return {
        "final": {q["series"]: q["accuracy"] for q in points},
        "final_class_3": {q["series"]: q["accuracy_class_3"] for q in points},
    }


DEMO = Demo(
    name="distillation",
    title="Distillation: what a teacher's soft outputs carry that labels do not",
    terms=("distillation",),
    Params=Params,
    train=train,
    live=frozenset({"temperature", "lr", "pace"}),
    artifacts=(TEACHER,),
    charts=(
        Chart(f"Held-out accuracy on class {LEFT_OUT}", ("accuracy_class_3",)),
        Chart("Held-out accuracy, all eight classes", ("accuracy",)),
        Chart("Training loss (each series its own)", ("loss",), log_y=True),
    ),
    blurb=(
        "Three students 26 times smaller than their teacher train on the same points: on the true labels, on "
        f"the teacher's top answers, or on its softened probabilities. The points hold no example of class "
        f"{LEFT_OUT}, so no label ever names it: watch which student learns it anyway. Change the temperature live."
    ),
)
