"""Texts we wrote for the language-model playgrounds (plain Python: no torch, safe to import anywhere).

Task A is plain English about training. Task B is the same text in leetspeak ("th3 l34rn1ng
r4t3"): a new style that a reader spots at once in a generated sample, yet a small change for the
model: four letters swapped for digits.
"""

from __future__ import annotations

import hashlib

CORPUS = " ".join(
    [
        "A language model learns by guessing the next character and being told how wrong it was.",
        "The loss measures that surprise, and gradient descent nudges every weight a little to make",
        "the surprise smaller. The learning rate sets the size of each nudge: too small and training",
        "crawls, too large and the loss jumps around or explodes. Adam keeps a running mean of each",
        "gradient and of its square, so every weight gets a step size of its own. Warmup starts with",
        "a tiny learning rate while those running means are still noisy, and a cosine schedule lowers",
        "it again near the end. A batch is a handful of examples whose gradients are averaged, which",
        "makes each step less noisy. Weight decay pulls weights toward zero, so the model prefers",
        "simple answers. Dropout switches off random units during training, so no unit can rely on",
        "one partner. Pretraining on a large text teaches a model grammar and facts; fine tuning then",
        "adapts it to a narrower task. Full fine tuning updates every weight and needs optimizer state",
        "for each of them. LoRA freezes the base weights and learns a small low rank update instead:",
        "two thin matrices whose product is added to a frozen layer. Because B starts at zero, the",
        "adapted model begins exactly where the base model was. QLoRA stores the frozen base in four",
        "bits, with a scale for every block of weights, and trains the same small adapters on top.",
        "Quantization rounds each weight to the nearest of a few levels, and NF4 places those levels",
        "where normally distributed weights are dense. A model that learns a new task can forget the",
        "old one; watching the old loss shows how much was lost. Evaluation on held out text tells us",
        "whether the model learned patterns or only memorized its examples. When the loss on training",
        "text falls but the held out loss rises, the model is overfitting. Gradient clipping caps the",
        "norm of the gradient, so one bad batch cannot throw the weights far away. Mixed precision runs",
        "most of the math in sixteen bits and keeps a master copy of the weights in thirty two bits.",
        "A checkpoint saves the weights and the optimizer state, so a long run can stop and resume.",
        "Tokens are the units a model reads; here every token is a single character, so the",
        "vocabulary is small. Attention lets each position look back at earlier positions and decide",
        "which ones matter. The feed forward layer then transforms each position on its own. Residual",
        "connections add each layer's output to its input, which keeps gradients flowing through deep",
        "stacks. Layer normalization rescales activations, so each layer sees numbers of a steady size.",
    ]
)


def to_task_b(text: str) -> str:
    """Task B's style: leetspeak, every a e i o (either case) written as 4 3 1 0."""
    return text.translate(str.maketrans("AaEeIiOo", "44331100"))


TEXT_A = CORPUS
TEXT_B = to_task_b(CORPUS)


def sha256(text: str) -> str:
    """Names a text in an artifact's recipe: any edit to it means a new artifact."""
    return hashlib.sha256(text.encode()).hexdigest()
