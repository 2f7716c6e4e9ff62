"""RLHF: fit a reward model to the pairs, then push the policy up its score, on a KL leash."""

from __future__ import annotations

from collections.abc import Generator

from pydantic import Field

from app.demos._preference import Beta, Noise, NPairs, PolicyLR, Seed, summarize
from app.demos.base import Chart, Control, Demo, DemoParams, Point, pace_field

METRICS = ("loss", "reward_model_score", "true_reward", "kl")


class Params(DemoParams):
    beta: Beta = 0.1
    lr: PolicyLR = 1e-3
    steps: int = Field(300, ge=1, le=2000)
    n_pairs: NPairs = 1000
    noise: Noise = 0.1
    pace: float = pace_field(30)
    seed: Seed = 0


def train(p: Params, ctl: Control) -> Generator[Point, None, dict]:
    import torch

    from app.ml import pref_world as W

    gen = torch.Generator(ctl.device).manual_seed(p.seed)
    ref = W.sft_policy(ctl.device)
    rlhf = W.RLHF(ref, W.sample_pairs(ref, p.n_pairs, p.noise, gen))
    held_out = W.sample_pairs(ref, 2000, 0.0, gen)
    ctl.announce(
        **W.describe(),
        algorithm=W.RLHF.algorithm,
        reward_model_token_scores=[round(w, 3) for w in rlhf.rm.w.tolist()],
        reward_model_accuracy=W.reward_model_quality(rlhf.rm, held_out)["accuracy"],
    )
    points = []
    for step in range(p.steps):
        live = ctl.params
        points.append({"step": step, "lr": live.lr, **rlhf.step(live.beta, live.lr, gen)})
        yield points[-1]
    return {
        **summarize(points, METRICS),
        "examples": W.example_responses(rlhf.policy, gen, rlhf.rm),
        "true_reward_description": W.TRUE_REWARD_DESCRIPTION,
    }


DEMO = Demo(
    name="rlhf",
    title="RLHF: optimising a learned reward, with a KL penalty",
    terms=("rlhf",),
    Params=Params,
    train=train,
    live=frozenset({"beta", "lr", "pace"}),
    charts=(
        Chart("Reward", ("reward_model_score", "true_reward")),
        Chart("KL to reference", ("kl",)),
        Chart("Reward against KL to reference", ("reward_model_score", "true_reward"), x="kl"),
        Chart("Loss: −(reward model score − β·KL)", ("loss",)),
    ),
    blurb=(
        "A bag-of-tokens reward model is fitted to the pairs, then the policy climbs its KL-penalised score "
        "r − β·(log π − log π_ref) by REINFORCE with a batch-mean baseline. Set beta to 0.01 and watch the "
        "reward-model score climb while the true reward falls: the policy learns to repeat the token the "
        "reward model likes best."
    ),
)
