"""DPO: train the policy on the preference pairs directly, with no reward model and no sampling
during training; optionally RLHF on the same pairs beside it."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from app.demos._preference import Beta, Noise, NPairs, PolicyLR, window_notes
from app.demos.base import Chart, Demo, DemoParams
from app.demos.fields import Pace, Seed, Steps


class Params(DemoParams):
    beta: Beta = 0.1
    loss_type: Literal["sigmoid", "ipo", "hinge"] = "sigmoid"
    label_smoothing: float = Field(
        0.0, ge=0, lt=0.5, description="cDPO's ε: the assumed probability that a label is flipped."
    )
    lr: PolicyLR = 1e-3
    steps: Annotated[Steps, Field(le=2000)] = 300
    n_pairs: NPairs = 1000
    noise: Noise = 0.1
    compare_rlhf: bool = Field(False, description="Also run RLHF (reward model, then REINFORCE) on the same pairs.")
    pace: Pace = 30
    seed: Seed = 0


DEMO = Demo(
    name="dpo",
    title="DPO: preference tuning without a reward model",
    terms=("dpo",),
    Params=Params,
    train="app.training.dpo:train",
    live=frozenset({"beta", "lr", "pace"}),
    charts=(
        Chart("DPO loss", ("loss",)),
        Chart("Implied rewards β·log(π/π_ref)", ("rewards_chosen", "rewards_rejected", "reward_margin")),
        Chart("Reward accuracy", ("reward_accuracy",)),
        Chart("True reward of fresh samples", ("true_reward",)),
        Chart("True reward against KL to reference", ("true_reward",), x="kl", marks="dots"),
    ),
    summary_notes=window_notes("loss", "reward_margin", "reward_accuracy", "true_reward", "kl", "reward_model_score"),
    blurb=(
        "The policy learns from the pairs directly: the chart shows the DPO loss (ln 2 at the start) and the "
        "implied rewards of chosen and rejected responses drifting apart. Tick “Compare with RLHF” to plot "
        "true reward against KL for DPO and RLHF on the same pairs, then try beta 0.01 for both."
    ),
)
