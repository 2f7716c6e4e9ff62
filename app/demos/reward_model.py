"""Reward model: fit a Bradley–Terry model to noisy preference pairs, judge it on held-out pairs."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from app.demos._preference import Noise, NPairs
from app.demos.base import Chart, Demo, DemoParams
from app.demos.fields import LearningRate, Pace, Seed, Steps


class Params(DemoParams):
    n_pairs: NPairs = 500
    noise: Noise = 0.1
    lr: Annotated[LearningRate, Field(le=1, description="Adam learning rate of the reward model.")] = 0.005
    steps: Annotated[Steps, Field(le=2000)] = 150
    pace: Pace = 20
    seed: Seed = 0


DEMO = Demo(
    name="reward-model",
    title="Reward model: learning a score from comparisons",
    terms=("reward-model",),
    Params=Params,
    train="app.training.reward_model:train",
    live=frozenset({"lr", "pace"}),
    charts=(
        Chart("Bradley–Terry loss", ("loss",)),
        Chart("Held-out agreement with the true reward", ("accuracy", "correlation")),
    ),
    blurb=(
        "A bag-of-tokens reward model learns from noisy pairs with the loss −log σ(r_chosen − r_rejected); "
        "accuracy is measured on held-out pairs against the noiseless true order. Raise the label noise, or "
        "cut the number of pairs, and watch held-out accuracy sink towards chance."
    ),
)
