"""The prepared character models that the language-model playgrounds start from.

Not a demo (no DEMO). Torch-free, like every demo module: the engine reads the recipe here to
know whether the artifact is ready; app.ml.charlm.build_base makes it.
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
