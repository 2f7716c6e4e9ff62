"""Preference data: pairs of samples from the SFT policy, labelled by a simulated annotator."""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING

import torch

from app.ml import pref_world as W
from app.ml.preference_losses import bradley_terry_loss

if TYPE_CHECKING:
    from app.demos.base import Control, Point
    from app.demos.preference_data import Params


EXAMPLES_PER_POINT = 3


def train(p: Params, ctl: Control[Params]) -> Generator[Point, None, dict]:
    gen = torch.Generator(ctl.device).manual_seed(p.seed)
    policy = W.sft_policy(ctl.device)
    ctl.announce(**W.describe())
    n_pairs = n_untied = n_agreed = n_flipped = 0
    for step in range(p.steps):
        pairs = W.sample_pairs(policy, p.pairs_per_step, ctl.params.noise, gen, p.temperature)
        r_chosen = W.true_reward(pairs.prompt, pairs.chosen)
        r_rejected = W.true_reward(pairs.prompt, pairs.rejected)
        # Agreement with the noiseless order: a tied pair has no right answer, so it doesn't count.
        untied, agreed = int((r_chosen != r_rejected).sum()), int((r_chosen > r_rejected).sum())
        n_pairs += len(pairs)
        n_untied += untied
        n_agreed += agreed
        n_flipped += int(pairs.flipped.sum())
        yield {
            "step": step,
            # The labels' negative log-likelihood under the annotator's model σ(Δr / T), noise left out.
            "loss": bradley_terry_loss(r_chosen / p.temperature, r_rejected / p.temperature).item(),
            "n_pairs": n_pairs,
            "agreement_rate": agreed / untied if untied else None,
            "flipped_rate": pairs.flipped.float().mean().item(),
            "pairs": [
                {
                    "prompt": str(pairs.prompt[i].item()),
                    "chosen": W.tokens_text(pairs.chosen[i]),
                    "rejected": W.tokens_text(pairs.rejected[i]),
                    "r_chosen": r_chosen[i].item(),
                    "r_rejected": r_rejected[i].item(),
                    "flipped": bool(pairs.flipped[i]),
                }
                for i in range(min(EXAMPLES_PER_POINT, len(pairs)))
            ],
        }
    return {
        "n_pairs": n_pairs,
        "agreement_rate": n_agreed / n_untied if n_untied else None,
        "flipped_rate": n_flipped / n_pairs,
        "true_reward_description": W.TRUE_REWARD_DESCRIPTION,
    }
