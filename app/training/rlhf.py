"""RLHF: fit a reward model to the pairs, then push the policy up its score, on a KL leash."""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING

import torch

from app.ml import pref_world as W

if TYPE_CHECKING:
    from app.demos.base import Control, Point
    from app.demos.rlhf import Params


METRICS = ("loss", "reward_model_score", "true_reward", "kl")


def train(p: Params, ctl: Control[Params]) -> Generator[Point, None, dict]:
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
        **W.summarize(points, METRICS),
        "examples": W.example_responses(rlhf.policy, gen, rlhf.rm),
        "true_reward_description": W.TRUE_REWARD_DESCRIPTION,
    }
