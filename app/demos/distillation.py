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

from typing import Annotated

from pydantic import Field

from app.demos.base import Chart, Demo, DemoParams, log_slider
from app.demos.fields import LearningRate, Pace, Seed, Steps
from app.demos.recipes import LEFT_OUT, TEACHER


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
    lr: Annotated[LearningRate, Field(le=1, description="Adam step size.", json_schema_extra=log_slider(1e-4))] = 0.01
    steps: Annotated[Steps, Field(description="Full-batch updates per student.")] = 300
    seed: Seed = 0
    pace: Pace = 40


DEMO = Demo(
    name="distillation",
    title="Distillation: what a teacher's soft outputs carry that labels do not",
    terms=("distillation",),
    Params=Params,
    train="app.training.distillation:train",
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
