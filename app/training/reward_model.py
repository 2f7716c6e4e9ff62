"""Reward model: fit a Bradley–Terry model to noisy preference pairs, judge it on held-out pairs."""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING

import torch

from app.ml import pref_world as W

if TYPE_CHECKING:
    from app.demos.base import Control, Point
    from app.demos.reward_model import Params


HELD_OUT_PAIRS = 2000


def train(p: Params, ctl: Control[Params]) -> Generator[Point, None, dict]:
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
