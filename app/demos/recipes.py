"""What a demo's declaration and its training module both need: the recipes of prepared artifacts,
and the few constants a lesson names in its controls. Torch-free and pydantic-free, so the web
process reads it and a run's script carries it.
"""

from __future__ import annotations

from app.demos.artifacts import Artifact

TEACHER_CLASSES = 8
LEFT_OUT = 3  # the class a transfer set may leave out
TEACHER = Artifact(
    name="distill-teacher",
    title="the teacher network",
    builder="app.ml.distill:build_teacher",
    recipe={
        "classes": TEACHER_CLASSES,
        "spread": 0.4,  # neighbouring classes overlap a little: the teacher is unsure near their borders
        "n_per_class": 300,
        "network": {"depth": 2, "width": 64, "activation": "tanh"},
        "steps": 800,
        "lr": 2e-2,
        "seed": 7,
        "version": 3,  # 3: eight classes on a ring (2: a three-arm spiral, built reproducibly)
    },
)
