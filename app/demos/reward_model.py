"""Reward model: fit a Bradley–Terry model to noisy preference pairs, judge it on held-out pairs."""

from __future__ import annotations

from collections.abc import Generator

from pydantic import Field

from app.demos._preference import Noise, NPairs, Seed
from app.demos.base import Chart, Control, Demo, DemoParams, Point, log_slider, pace_field

HELD_OUT_PAIRS = 2000


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


def train(p: Params, ctl: Control) -> Generator[Point, None, dict]:
    import torch

    from app.ml import pref_world as W

    gen = torch.Generator(ctl.device).manual_seed(p.seed)
    policy = W.sft_policy(ctl.device)
    pairs = W.sample_pairs(policy, p.n_pairs, p.noise, gen)
    held_out = W.sample_pairs(policy, HELD_OUT_PAIRS, 0.0, gen)  # judged by the true order, not labels
    rm = W.RewardModel().to(ctl.device)
    opt = torch.optim.Adam(rm.parameters(), lr=p.lr)
    ctl.announce(**W.describe(), reward_model="bag of tokens: r(y) = Σ_t w[y_t]", parameters=W.VOCAB)
    for step in range(p.steps):
        lr = ctl.params.lr
        W.set_lr(opt, lr)
        quality = W.reward_model_quality(rm, held_out)  # of the model that the step's loss is about
        loss = W.reward_model_step(rm, opt, pairs)
        yield {"step": step, "loss": loss, "lr": lr, **quality}
    return {
        **W.reward_model_quality(rm, held_out),
        "token_scores": [round(w, 3) for w in rm.w.tolist()],
        "examples": W.example_responses(policy, gen, rm),
        "true_reward_description": W.TRUE_REWARD_DESCRIPTION,
    }


DEMO = Demo(
    name="reward-model",
    title="Reward model: learning a score from comparisons",
    terms=("reward-model",),
    Params=Params,
    train=train,
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
