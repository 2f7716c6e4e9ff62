"""RLHF: fit a reward model to the pairs, then push the policy up its score, on a KL leash."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from app.demos._preference import Beta, Noise, NPairs, PolicyLR, window_notes
from app.demos.base import Chart, Demo, DemoParams
from app.demos.fields import Pace, Seed, Steps


class Params(DemoParams):
    beta: Beta = 0.1
    lr: PolicyLR = 1e-3
    steps: Annotated[Steps, Field(le=2000)] = 300
    n_pairs: NPairs = 1000
    noise: Noise = 0.1
    pace: Pace = 30
    seed: Seed = 0


DEMO = Demo(
    name="rlhf",
    title="RLHF: optimising a learned reward, with a KL penalty",
    terms=("rlhf",),
    Params=Params,
    train="app.training.rlhf:train",
    live=frozenset({"beta", "lr", "pace"}),
    charts=(
        Chart("Reward", ("reward_model_score", "true_reward")),
        Chart("KL to reference", ("kl",)),
        Chart("Reward against KL to reference", ("reward_model_score", "true_reward"), x="kl", marks="dots"),
        Chart("Loss: −(reward model score − β·KL)", ("loss",)),
    ),
    summary_notes=window_notes("loss", "reward_model_score", "true_reward", "kl"),
    blurb=(
        "A bag-of-tokens reward model is fitted to the pairs, then the policy climbs its KL-penalised score "
        "r − β·(log π − log π_ref) by REINFORCE with a batch-mean baseline. Set beta to 0.01 and watch the "
        "reward-model score climb while the true reward falls: the policy learns to repeat the token the "
        "reward model likes best."
    ),
)
