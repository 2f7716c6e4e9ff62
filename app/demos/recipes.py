"""What a demo's declaration and its training module both need: the recipes of prepared artifacts,
and the few constants a lesson names in its controls. Torch-free and pydantic-free, so the web
process reads it and a run's script carries it.
"""

from __future__ import annotations

from app.demos.artifacts import Artifact
from app.ml import texts

BASE_MODEL = Artifact(
    name="charlm-base",
    title="the base model",
    builder="app.ml.charlm:build_base",
    recipe={
        "text_a": texts.sha256(texts.TEXT_A),
        "vocab": "".join(sorted(set(texts.TEXT_A + texts.TEXT_B))),
        "config": {"block_size": 64, "n_layer": 2, "n_head": 4, "d_model": 64},
        "steps": 600,
        "batch_size": 32,
        "lr": 3e-3,
        "seed": 1234,
        "version": 3,  # 3: built on one thread, saved under a fixed archive name (reproducible)
    },
)

ENGLISH_BASE = Artifact(
    name="charlm-english",
    title="the English base model",
    builder="app.ml.charlm:build_english_base",
    recipe={
        "text": texts.sha256(texts.ENGLISH_TRAIN),
        "vocab": "".join(sorted(set(texts.LM_TEXT))),
        "config": {"block_size": 64, "n_layer": 2, "n_head": 4, "d_model": 64},
        "steps": 1000,
        "batch_size": 16,
        "lr": 5e-3,
        "seed": 1234,
        "version": 2,  # 2: reproducible (see version 3 above)
    },
)
"""The pretraining playground's model, pretrained longer on English: fine-tuning, SFT and
instruction tuning start from it."""

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
