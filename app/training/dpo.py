"""DPO: train the policy on the preference pairs directly, with no reward model and no sampling
during training; optionally RLHF on the same pairs beside it."""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING

import torch

from app.ml import pref_world as W

if TYPE_CHECKING:
    from app.demos.base import Control, Point
    from app.demos.dpo import Params


EVAL_SAMPLES = 64  # fresh samples per step for the true reward and the KL


def train(p: Params, ctl: Control[Params]) -> Generator[Point | list[Point], None, dict]:
    gen = torch.Generator(ctl.device).manual_seed(p.seed)
    ref = W.sft_policy(ctl.device)
    pairs = W.sample_pairs(ref, p.n_pairs, p.noise, gen)
    dpo = W.DPO(ref, pairs)
    rlhf = W.RLHF(ref, pairs) if p.compare_rlhf else None
    # RLHF draws from its own copy of the random stream: switching it on leaves the DPO curve as it was.
    rlhf_gen = torch.Generator(ctl.device).set_state(gen.get_state())
    ctl.announce(
        **W.describe(),
        loss_type=p.loss_type,
        label_smoothing=p.label_smoothing,
        rlhf_algorithm=W.RLHF.algorithm if rlhf else None,
    )
    dpo_points: list[Point] = []
    rlhf_points: list[Point] = []
    for step in range(p.steps):
        live = ctl.params
        # Evaluated before the update, so step 0 is the reference itself: KL 0 and, for the
        # sigmoid loss without smoothing, a loss of exactly ln 2.
        point = {"step": step, "lr": live.lr, **W.evaluate(dpo.policy, ref, EVAL_SAMPLES, gen)}
        dpo_points.append(point | dpo.step(live.beta, live.lr, p.loss_type, p.label_smoothing, gen))
        if rlhf is None:
            yield dpo_points[-1]
            continue
        rlhf_points.append({"step": step, "lr": live.lr, "series": "rlhf", **rlhf.step(live.beta, live.lr, rlhf_gen)})
        yield [dpo_points[-1] | {"series": "dpo"}, rlhf_points[-1]]
    summary = {
        **W.summarize(dpo_points, ("loss", "reward_margin", "reward_accuracy", "true_reward", "kl")),
        "examples": W.example_responses(dpo.policy, gen),
        "true_reward_description": W.TRUE_REWARD_DESCRIPTION,
    }
    if rlhf is not None:
        summary["rlhf"] = {
            **W.summarize(rlhf_points, ("reward_model_score", "true_reward", "kl")),
            "examples": W.example_responses(rlhf.policy, rlhf_gen, rlhf.rm),
        }
    return summary
