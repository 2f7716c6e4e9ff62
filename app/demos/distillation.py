"""Knowledge distillation: a small student learns from a trained teacher's soft outputs.

The teacher (a prepared artifact) is an MLP trained on many labelled points of a three-arm
spiral. A much smaller student is trained three ways, side by side from the same initial
weights: `hard` on the true labels of only a few labelled points; `soft` on the teacher's outputs
at temperature T on unlabelled points (the transfer set), with the T² factor of Hinton et al.
(2015); `mixed`, α · soft + (1 − α) · hard. Points carry each series' training loss and its
accuracy on held-out labelled points.
"""

from __future__ import annotations

from collections.abc import Generator

from pydantic import Field

from app.demos.artifacts import Artifact
from app.demos.base import Chart, Control, Demo, DemoParams, Point, log_slider, pace_field

CLASSES = 3
TEACHER = Artifact(
    name="distill-teacher",
    title="the teacher network",
    builder="app.ml.distill:build_teacher",
    recipe={
        "classes": CLASSES,
        "n_per_class": 300,
        "network": {"depth": 2, "width": 64, "activation": "tanh"},
        "steps": 800,
        "lr": 2e-2,
        "seed": 7,
        "version": 2,  # 2: built reproducibly (app.ml.reproducible)
    },
)
STUDENT = {"depth": 1, "width": 16, "activation": "tanh"}
TRANSFER_PER_CLASS = 100  # unlabelled points per arm the teacher labels softly
HELD_OUT_PER_CLASS = 100


class Params(DemoParams):
    temperature: float = Field(
        4.0, ge=0.5, le=20, title="Temperature T", description="Softens teacher and student outputs: softmax(z / T)."
    )
    alpha: float = Field(0.5, ge=0, le=1, title="Soft weight α", description="Weight of the soft loss in `mixed`.")
    labelled: int = Field(
        5, ge=1, le=100, title="Labelled points per class", description="True labels the hard loss may use."
    )
    lr: float = Field(
        0.01, gt=0, le=1, title="Learning rate", description="Adam step size.", json_schema_extra=log_slider(1e-4)
    )
    steps: int = Field(400, ge=1, le=5000, title="Steps", description="Full-batch updates per student.")
    seed: int = Field(0, ge=0, le=2**31 - 1, title="Seed", description="Seed of the points and the student.")
    pace: float = pace_field(40)


def train(p: Params, ctl: Control) -> Generator[list[Point], None, dict]:
    import copy

    import torch
    import torch.nn.functional as F

    from app.ml import backprop, distill, losses, toy_data

    teacher = distill.load_teacher(ctl.artifact(TEACHER))
    pool_x, pool_y = toy_data.spiral(TRANSFER_PER_CLASS, p.seed + 1, classes=CLASSES)
    test_x, test_y = toy_data.spiral(HELD_OUT_PER_CLASS, p.seed + 2, classes=CLASSES)
    # The labelled points: p.labelled random points of each arm of the pool; the whole pool is the
    # transfer set, whose labels only the teacher's soft outputs reveal.
    order = torch.randperm(len(pool_y), generator=torch.Generator().manual_seed(p.seed))
    labelled = torch.cat([order[pool_y[order] == c][: p.labelled] for c in range(CLASSES)])
    x_hard, y_hard = pool_x[labelled], pool_y[labelled]
    teacher_logits = teacher(pool_x)

    base = backprop.make_mlp(STUDENT["depth"], STUDENT["width"], STUDENT["activation"], p.seed, d_out=CLASSES)
    students = {name: copy.deepcopy(base) for name in ("hard", "soft", "mixed")}
    optimizers = {name: torch.optim.Adam(s.parameters(), lr=p.lr) for name, s in students.items()}
    with torch.no_grad():
        teacher_accuracy = (teacher(test_x).argmax(1) == test_y).float().mean().item()
    ctl.announce(
        teacher_parameters=sum(q.numel() for q in teacher.parameters()),
        student_parameters=sum(q.numel() for q in base.parameters()),
        teacher_accuracy=teacher_accuracy,
        labelled_points=len(y_hard),
        transfer_points=len(pool_y),
        held_out_points=len(test_y),
    )

    def student_loss(series: str, student: torch.nn.Module, live: Params) -> torch.Tensor:
        if series == "hard":
            return F.cross_entropy(student(x_hard), y_hard)
        soft = losses.soft_target_loss(student(pool_x), teacher_logits, live.temperature)
        if series == "soft":
            return soft
        return live.alpha * soft + (1 - live.alpha) * F.cross_entropy(student(x_hard), y_hard)

    points: list[Point] = []
    for step in range(p.steps):
        live = ctl.params
        points = []
        for name, student in students.items():
            loss = student_loss(name, student, live)
            with torch.no_grad():
                accuracy = (student(test_x).argmax(1) == test_y).float().mean().item()
            points.append(
                {
                    "step": step,
                    "series": name,
                    "loss": loss.item(),
                    "accuracy": accuracy,
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
    return {"teacher_accuracy": teacher_accuracy, "final": {q["series"]: q["accuracy"] for q in points}}


DEMO = Demo(
    name="distillation",
    title="Distillation: a student learns from a teacher's soft outputs",
    terms=("distillation",),
    Params=Params,
    train=train,
    live=frozenset({"temperature", "alpha", "lr", "pace"}),
    artifacts=(TEACHER,),
    charts=(
        Chart("Held-out accuracy", ("accuracy",)),
        Chart("Training loss (each series its own)", ("loss",), log_y=True),
    ),
    blurb=(
        "A student about 45 times smaller than its teacher learns a three-arm spiral. From a few labels "
        "(`hard`) it overfits; from the teacher's softened outputs on unlabelled points (`soft`) it gets "
        "close to the teacher. Change the temperature T live."
    ),
)
