"""Preference-learning losses, formula for formula as in the papers and TRL's DPOTrainer.

Notation: for a pair (x, y_w, y_l), `logp_chosen` = log π(y_w | x) and `logp_rejected` =
log π(y_l | x) are summed over the response tokens; `ref_logp_*` are the same under the
frozen reference policy π_ref. Every function takes one value per pair and returns a mean.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor

DPOLossType = Literal["sigmoid", "ipo", "hinge"]


def bradley_terry_loss(r_chosen: Tensor, r_rejected: Tensor) -> Tensor:
    """−log σ(r_w − r_l): the negative log-likelihood of the label under Bradley–Terry."""
    return -F.logsigmoid(r_chosen - r_rejected).mean()


def dpo_loss(
    logp_chosen: Tensor,
    logp_rejected: Tensor,
    ref_logp_chosen: Tensor,
    ref_logp_rejected: Tensor,
    beta: float,
    loss_type: DPOLossType = "sigmoid",
    label_smoothing: float = 0.0,
) -> Tensor:
    """DPO (Rafailov et al. 2023) and two of its variants, on h = log-ratio(y_w) − log-ratio(y_l).

    sigmoid: −(1−ε)·log σ(βh) − ε·log σ(−βh); ε > 0 is cDPO, which assumes each label is
             flipped with probability ε (ε = 0 is plain DPO).
    ipo:     (h − 1/(2β))²  (Azar et al. 2023): regress h to a finite target instead of
             pushing it to infinity, so deterministic preferences cannot overfit. (TRL feeds it
             token-averaged log-probs; the paper, and this, use whole-sequence ones.)
    hinge:   relu(1 − βh)   (SLiC, Zhao et al. 2023): no gradient once the margin is met.
    """
    h = (logp_chosen - ref_logp_chosen) - (logp_rejected - ref_logp_rejected)
    if loss_type == "sigmoid":
        eps = label_smoothing
        losses = -(1 - eps) * F.logsigmoid(beta * h) - eps * F.logsigmoid(-beta * h)
    elif loss_type == "ipo":
        losses = (h - 1 / (2 * beta)) ** 2
    elif loss_type == "hinge":
        losses = torch.relu(1 - beta * h)
    else:
        raise ValueError(f"unknown DPO loss_type {loss_type!r}")
    return losses.mean()


def implied_rewards(logp: Tensor, ref_logp: Tensor, beta: float) -> Tensor:
    """DPO's implicit reward β·(log π − log π_ref), per response; detached, it is only logged."""
    return beta * (logp - ref_logp).detach()


def kl_estimate(logp: Tensor, ref_logp: Tensor) -> Tensor:
    """KL(π ‖ π_ref) ≈ mean(log π(y) − log π_ref(y)) for y ~ π: unbiased, per sequence.

    Single samples can be negative; only the expectation is guaranteed to be ≥ 0.
    """
    return (logp - ref_logp).mean()


def kl_penalised_reward(reward: Tensor, logp: Tensor, ref_logp: Tensor, beta: float) -> Tensor:
    """RLHF's per-sequence reward r − β·(log π − log π_ref) (Ziegler et al. 2019, InstructGPT)."""
    return (reward - beta * (logp - ref_logp)).detach()


def reinforce_loss(logp: Tensor, reward: Tensor) -> Tensor:
    """REINFORCE with the batch-mean reward as baseline: −(R − mean R)·log π(y).

    The baseline does not change the gradient's expectation (E[∇log π] = 0) but removes
    most of its variance.
    """
    advantage = reward - reward.mean()
    return -(advantage.detach() * logp).mean()
