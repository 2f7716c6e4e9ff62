"""Each preference loss against an independent computation with plain math on hand-made log-probs."""

from __future__ import annotations

import math

import pytest
import torch

from app.ml.preference_losses import (
    bradley_terry_loss,
    dpo_loss,
    implied_rewards,
    kl_estimate,
    kl_penalised_reward,
    reinforce_loss,
)

torch.set_num_threads(1)

# Three pairs of sequence log-probabilities, under the policy and under the reference.
LOGP_CHOSEN = [-3.0, -5.5, -2.0]
LOGP_REJECTED = [-4.0, -3.5, -6.0]
REF_LOGP_CHOSEN = [-3.5, -5.0, -2.5]
REF_LOGP_REJECTED = [-3.8, -4.0, -5.0]
BETA = 0.5


def log_sigmoid(x: float) -> float:
    return -math.log(1 + math.exp(-x))


def log_ratio_margins() -> list[float]:
    """h = (log π(y_w) − log π_ref(y_w)) − (log π(y_l) − log π_ref(y_l)), one per pair."""
    return [
        (c - rc) - (r - rr)
        for c, r, rc, rr in zip(LOGP_CHOSEN, LOGP_REJECTED, REF_LOGP_CHOSEN, REF_LOGP_REJECTED, strict=True)
    ]


def mean(values: list[float]) -> float:
    return sum(values) / len(values)


def dpo(loss_type: str = "sigmoid", label_smoothing: float = 0.0, beta: float = BETA) -> float:
    tensors = (torch.tensor(v) for v in (LOGP_CHOSEN, LOGP_REJECTED, REF_LOGP_CHOSEN, REF_LOGP_REJECTED))
    return dpo_loss(*tensors, beta=beta, loss_type=loss_type, label_smoothing=label_smoothing).item()


def test_margins_are_as_hand_computed() -> None:
    # (−3 + 3.5) − (−4 + 3.8) = 0.7; (−5.5 + 5) − (−3.5 + 4) = −1; (−2 + 2.5) − (−6 + 5) = 1.5
    assert log_ratio_margins() == pytest.approx([0.7, -1.0, 1.5])


def test_sigmoid_dpo() -> None:
    expected = mean([-log_sigmoid(BETA * h) for h in log_ratio_margins()])
    assert dpo("sigmoid") == pytest.approx(expected, rel=1e-6)


def test_conservative_dpo_label_smoothing() -> None:
    eps = 0.1
    expected = mean([-(1 - eps) * log_sigmoid(BETA * h) - eps * log_sigmoid(-BETA * h) for h in log_ratio_margins()])
    assert dpo("sigmoid", label_smoothing=eps) == pytest.approx(expected, rel=1e-6)


def test_ipo() -> None:
    expected = mean([(h - 1 / (2 * BETA)) ** 2 for h in log_ratio_margins()])
    assert dpo("ipo") == pytest.approx(expected, rel=1e-6)


def test_hinge() -> None:
    expected = mean([max(0.0, 1 - BETA * h) for h in log_ratio_margins()])
    assert dpo("hinge") == pytest.approx(expected, rel=1e-6)


def test_unknown_loss_type_is_an_error() -> None:
    with pytest.raises(ValueError, match="loss_type"):
        dpo("kto")


@pytest.mark.parametrize("label_smoothing", [0.0, 0.25])
def test_dpo_is_ln2_when_policy_and_reference_agree(label_smoothing: float) -> None:
    logp_chosen, logp_rejected = torch.tensor(LOGP_CHOSEN), torch.tensor(LOGP_REJECTED)
    loss = dpo_loss(logp_chosen, logp_rejected, logp_chosen, logp_rejected, 0.1, "sigmoid", label_smoothing)
    assert loss.item() == pytest.approx(math.log(2), abs=1e-7)


def test_bradley_terry() -> None:
    r_chosen, r_rejected = [1.5, 0.3, 2.0], [0.2, 0.9, 1.8]  # the reward-model page's worked example
    expected = mean([-log_sigmoid(w - lose) for w, lose in zip(r_chosen, r_rejected, strict=True)])
    assert bradley_terry_loss(torch.tensor(r_chosen), torch.tensor(r_rejected)).item() == pytest.approx(
        expected, rel=1e-6
    )
    assert expected == pytest.approx(0.626, abs=1e-3)


def test_implied_rewards_are_beta_times_log_ratio_and_detached() -> None:
    logp = torch.tensor(LOGP_CHOSEN, requires_grad=True)
    rewards = implied_rewards(logp, torch.tensor(REF_LOGP_CHOSEN), BETA)
    expected = [BETA * (lp - ref) for lp, ref in zip(LOGP_CHOSEN, REF_LOGP_CHOSEN, strict=True)]
    assert rewards.tolist() == pytest.approx(expected)
    assert not rewards.requires_grad


def test_kl_estimate_is_zero_when_policy_equals_reference() -> None:
    logp = torch.tensor(LOGP_CHOSEN)
    assert kl_estimate(logp, logp.clone()).item() == 0.0


def test_kl_estimate_is_nonnegative_in_expectation_and_unbiased() -> None:
    p, q = [0.5, 0.2, 0.15, 0.1, 0.05], [0.1, 0.2, 0.3, 0.2, 0.2]
    exact = sum(pi * math.log(pi / qi) for pi, qi in zip(p, q, strict=True))
    gen = torch.Generator().manual_seed(0)
    samples = torch.multinomial(torch.tensor(p), 200_000, replacement=True, generator=gen)
    logp, logq = torch.tensor(p).log()[samples], torch.tensor(q).log()[samples]
    assert (logp - logq).min() < 0  # single samples can be negative ...
    estimate = kl_estimate(logp, logq).item()
    assert estimate > 0  # ... their mean is not
    assert estimate == pytest.approx(exact, abs=0.01)


def test_kl_penalised_reward() -> None:
    reward = kl_penalised_reward(torch.tensor([1.0, 2.0]), torch.tensor([-1.0, -3.0]), torch.tensor([-2.0, -2.5]), 0.1)
    assert reward.tolist() == pytest.approx([1.0 - 0.1 * 1.0, 2.0 - 0.1 * -0.5])


def test_reinforce_gradient_is_minus_advantage_over_n() -> None:
    logp = torch.tensor([-1.0, -2.0, -3.0, -4.0], requires_grad=True)
    reward = torch.tensor([1.0, 0.0, 3.0, 0.0])  # mean 1: advantages 0, −1, 2, −1
    reinforce_loss(logp, reward).backward()
    assert logp.grad.tolist() == pytest.approx([0.0, 0.25, -0.5, 0.25])
