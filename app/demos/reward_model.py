"""Reward model: fit a Bradley–Terry model to noisy preference pairs, judge it on held-out pairs."""

from __future__ import annotations

from pydantic import Field

from app.demos._preference import Noise, NPairs, Seed
from app.demos.base import Chart, Demo, DemoParams, log_slider, pace_field


class Params(DemoParams):
    n_pairs: NPairs = 500
    noise: Noise = 0.1
    lr: float = Field(
        0.005,
        gt=0,
        le=1,
        description="Adam learning rate of the reward model.",
        json_schema_extra=log_slider(1e-5),
    )
    steps: int = Field(150, ge=1, le=2000)
    pace: float = pace_field(20)
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
