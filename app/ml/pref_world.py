"""A preference-learning world small enough to train in seconds on one CPU thread.

Prompts are single start tokens, responses are RESPONSE_LENGTH tokens from a VOCAB-token
alphabet. A tiny GRU language model (the policy) is first fitted (SFT) to a near-uniform base
distribution; pairs of its samples are labelled by a hidden true reward that a person can read
(`TRUE_REWARD_DESCRIPTION`). A deliberately limited reward model learns that reward from the
pairs, and RLHF and DPO then tune the policy.

The reward model is hackable by construction: it is a bag of tokens (one score per token,
summed), so it learns "large tokens are good" but cannot see repetition. Optimised hard
against it, a policy writes `7 7 7 7 7 7`, which the true reward punishes.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from app.ml.optim import set_lr
from app.ml.preference_losses import (
    DPOLossType,
    bradley_terry_loss,
    dpo_loss,
    implied_rewards,
    kl_estimate,
    kl_penalised_reward,
    reinforce_loss,
)

VOCAB = 8
RESPONSE_LENGTH = 6
PROMPTS = (0, 2, 4, 6)
BASE_REPEAT = 0.1  # the base distribution repeats the previous token this often, else uniform
LABEL_TEMPERATURE = 2.0  # annotators' Bradley–Terry temperature: a 1-point gap is won 62% of the time
TRUE_REWARD_DESCRIPTION = (
    "+1 for each response token larger than the prompt token, −1 for each token that repeats "
    "the token just before it (the prompt counts as the token before the first). "
    "So after prompt 4, '7 5 6 7 5 6' scores 6 but '7 7 7 7 7 7' only 6 − 5 = 1."
)


def true_reward(prompt: Tensor, response: Tensor) -> Tensor:
    """The hidden reward: tokens above the prompt, minus immediate repeats."""
    seq = torch.cat([prompt[:, None], response], dim=1)
    above = (response > prompt[:, None]).sum(dim=1)
    repeats = (seq[:, 1:] == seq[:, :-1]).sum(dim=1)
    return (above - repeats).float()


def tokens_text(tokens: Tensor) -> str:
    return " ".join(str(t) for t in tokens.tolist())


def describe() -> dict[str, object]:
    """The facts of the world a reader needs to make sense of the charts."""
    return {
        "true_reward_description": TRUE_REWARD_DESCRIPTION,
        "prompts": list(PROMPTS),
        "vocab": VOCAB,
        "response_length": RESPONSE_LENGTH,
        "label_temperature": LABEL_TEMPERATURE,
    }


# --- the policy ------------------------------------------------------------------------------


class Policy(nn.Module):
    """π(y | x): an autoregressive GRU over the prefix (prompt token, then the response so far)."""

    def __init__(self, d: int = 32) -> None:
        super().__init__()
        self.embed = nn.Embedding(VOCAB, d)
        self.pos = nn.Embedding(RESPONSE_LENGTH, d)  # where we are, so "position t" is easy to learn
        self.gru = nn.GRU(d, d, batch_first=True)
        self.head = nn.Linear(d, VOCAB)

    def forward(self, tokens: Tensor, t0: int = 0, h: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """Next-token logits after each of `tokens` (B, T), which start at response position t0."""
        pos = torch.arange(t0, t0 + tokens.shape[1], device=tokens.device)
        out, h = self.gru(self.embed(tokens) + self.pos(pos), h)
        return self.head(out), h

    def next_token_logits(self, prompt: Tensor, response: Tensor) -> Tensor:
        """Teacher forcing: logits (B, RESPONSE_LENGTH, VOCAB) predicting each response token."""
        prefix = torch.cat([prompt[:, None], response[:, :-1]], dim=1)
        return self(prefix)[0]

    def logprob(self, prompt: Tensor, response: Tensor) -> Tensor:
        """log π(y | x) = Σ_t log π(y_t | x, y_<t), one value per sequence."""
        logp = self.next_token_logits(prompt, response).log_softmax(-1)
        return logp.gather(-1, response[..., None]).squeeze(-1).sum(-1)

    @torch.no_grad()
    def sample(self, prompt: Tensor, gen: torch.Generator) -> Tensor:
        tok, h, out = prompt[:, None], None, []
        for t in range(RESPONSE_LENGTH):
            logits, h = self(tok, t, h)
            tok = torch.multinomial(logits[:, -1].softmax(-1), 1, generator=gen)
            out.append(tok)
        return torch.cat(out, dim=1)


def sample_prompts(n: int, gen: torch.Generator) -> Tensor:
    prompts = torch.tensor(PROMPTS, device=gen.device)
    return prompts[torch.randint(len(PROMPTS), (n,), generator=gen, device=gen.device)]


def base_next_token_probs(prev: Tensor) -> Tensor:
    """The base distribution (a Markov chain): repeat the previous token, else uniform."""
    return BASE_REPEAT * F.one_hot(prev, VOCAB).float() + (1 - BASE_REPEAT) / VOCAB


def _sample_base(prompt: Tensor, gen: torch.Generator) -> Tensor:
    tok, out = prompt, []
    for _ in range(RESPONSE_LENGTH):
        tok = torch.multinomial(base_next_token_probs(tok), 1, generator=gen).squeeze(1)
        out.append(tok)
    return torch.stack(out, dim=1)


def sft_policy(device: str = "cpu", steps: int = 100, batch: int = 128) -> Policy:
    """Fit a fresh policy to the base distribution: π_ref, and where RLHF and DPO start (frozen).

    Deterministic and independent of the caller's seed (the world is fixed); about 0.2 s.
    """
    gen = torch.Generator(device).manual_seed(0)
    with torch.random.fork_rng(devices=[]):  # the world must not touch the caller's RNG
        torch.default_generator.manual_seed(0)  # CPU only: torch.manual_seed would reseed CUDA too
        policy = Policy().to(device)
    opt = torch.optim.Adam(policy.parameters(), lr=1e-2)
    for _ in range(steps):
        prompt = sample_prompts(batch, gen)
        response = _sample_base(prompt, gen)
        # Cross-entropy against the base's whole next-token distribution, not just the sampled
        # token: same optimum (KL to the base), far less noise, so few steps suffice.
        target = base_next_token_probs(torch.cat([prompt[:, None], response[:, :-1]], dim=1))
        logits = policy.next_token_logits(prompt, response)
        loss = F.cross_entropy(logits.transpose(1, 2), target.transpose(1, 2))
        opt.zero_grad()
        loss.backward()
        opt.step()
    return policy.requires_grad_(False)


# --- preference pairs ------------------------------------------------------------------------


@dataclass(frozen=True)
class Pairs:
    prompt: Tensor  # (N,)
    chosen: Tensor  # (N, RESPONSE_LENGTH)
    rejected: Tensor
    flipped: Tensor  # (N,) bool: the noise flipped the Bradley–Terry label

    def __len__(self) -> int:
        return len(self.prompt)

    def __getitem__(self, idx: Tensor) -> Pairs:
        return Pairs(self.prompt[idx], self.chosen[idx], self.rejected[idx], self.flipped[idx])


def sample_pairs(
    policy: Policy, n: int, noise: float, gen: torch.Generator, temperature: float = LABEL_TEMPERATURE
) -> Pairs:
    """Two samples per prompt, labelled as a person would be modelled to label them.

    The annotator prefers a with probability P(a ≻ b) = σ((r(a) − r(b)) / temperature), then the
    label is flipped with probability `noise` (a careless click, a mislabelled row).
    """
    prompt = sample_prompts(n, gen)
    a, b = policy.sample(prompt, gen), policy.sample(prompt, gen)
    p_a = torch.sigmoid((true_reward(prompt, a) - true_reward(prompt, b)) / temperature)
    a_wins = torch.rand(n, generator=gen, device=gen.device) < p_a
    flipped = torch.rand(n, generator=gen, device=gen.device) < noise
    a_wins ^= flipped
    chosen = torch.where(a_wins[:, None], a, b)
    rejected = torch.where(a_wins[:, None], b, a)
    return Pairs(prompt, chosen, rejected, flipped)


def minibatch(pairs: Pairs, size: int, gen: torch.Generator) -> Pairs:
    return pairs[torch.randint(len(pairs), (min(size, len(pairs)),), generator=gen, device=gen.device)]


# --- the reward model ------------------------------------------------------------------------


class RewardModel(nn.Module):
    """r(x, y) = Σ_t w[y_t]: a bag of tokens, blind to the prompt and to token order.

    That limited view is the point: "large tokens are good" predicts the true reward well on
    ordinary samples, and a policy optimised hard against it exploits what the model cannot see.
    """

    def __init__(self) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.zeros(VOCAB))  # a convex problem: zero init is fine

    def forward(self, prompt: Tensor, response: Tensor) -> Tensor:
        return self.w[response].sum(dim=1)


def reward_model_step(rm: RewardModel, opt: torch.optim.Optimizer, pairs: Pairs) -> float:
    """One full-batch Bradley–Terry step: −log σ(r(y_w) − r(y_l))."""
    loss = bradley_terry_loss(rm(pairs.prompt, pairs.chosen), rm(pairs.prompt, pairs.rejected))
    opt.zero_grad()
    loss.backward()
    opt.step()
    return loss.item()


def train_reward_model(pairs: Pairs, steps: int = 200, lr: float = 0.05) -> RewardModel:
    rm = RewardModel().to(pairs.prompt.device)
    opt = torch.optim.Adam(rm.parameters(), lr=lr)
    for _ in range(steps):
        reward_model_step(rm, opt, pairs)
    return rm.requires_grad_(False)


@torch.no_grad()
def reward_model_quality(rm: RewardModel, held_out: Pairs) -> dict[str, float]:
    """Accuracy against the noiseless true order (true ties left out) and Pearson r of the scores."""
    r_a, r_b = true_reward(held_out.prompt, held_out.chosen), true_reward(held_out.prompt, held_out.rejected)
    s_a, s_b = rm(held_out.prompt, held_out.chosen), rm(held_out.prompt, held_out.rejected)
    # 1 when the model orders a pair as the true reward does, 0 when it reverses it, ½ for a tie.
    agree = (torch.sign(s_a - s_b) * torch.sign(r_a - r_b) + 1) / 2
    accuracy = agree[r_a != r_b].mean()
    return {"accuracy": accuracy.item(), "correlation": pearson(torch.cat([s_a, s_b]), torch.cat([r_a, r_b]))}


def pearson(x: Tensor, y: Tensor) -> float:
    x, y = x - x.mean(), y - y.mean()
    return ((x * y).sum() / (x.norm() * y.norm()).clamp_min(1e-12)).item()


# --- tuning the policy -----------------------------------------------------------------------


@torch.no_grad()
def evaluate(policy: Policy, ref: Policy, n: int, gen: torch.Generator) -> dict[str, float]:
    """True reward and KL(π ‖ π_ref) of fresh samples from the policy."""
    prompt = sample_prompts(n, gen)
    response = policy.sample(prompt, gen)
    kl = kl_estimate(policy.logprob(prompt, response), ref.logprob(prompt, response))
    return {"true_reward": true_reward(prompt, response).mean().item(), "kl": kl.item()}


class RLHF:
    """RLHF on a set of pairs: fit the reward model, then REINFORCE the policy against its
    KL-penalised score r_RM(y) − β·(log π(y) − log π_ref(y)), the batch mean as baseline."""

    algorithm = "reinforce-baseline"

    def __init__(self, ref: Policy, pairs: Pairs) -> None:
        self.ref = ref
        self.policy = copy.deepcopy(ref).requires_grad_(True)
        self.rm = train_reward_model(pairs)
        self.opt = torch.optim.Adam(self.policy.parameters())

    def step(self, beta: float, lr: float, gen: torch.Generator, batch: int = 64) -> dict[str, float]:
        set_lr(self.opt, lr)
        prompt = sample_prompts(batch, gen)
        response = self.policy.sample(prompt, gen)
        logp = self.policy.logprob(prompt, response)
        with torch.no_grad():
            ref_logp = self.ref.logprob(prompt, response)
            rm_score = self.rm(prompt, response)
        reward = kl_penalised_reward(rm_score, logp, ref_logp, beta)
        self.opt.zero_grad()
        reinforce_loss(logp, reward).backward()
        self.opt.step()
        return {
            # The surrogate's value means nothing; the objective it climbs does: plot its negative.
            "loss": -reward.mean().item(),
            "reward_model_score": rm_score.mean().item(),
            "true_reward": true_reward(prompt, response).mean().item(),
            "kl": kl_estimate(logp, ref_logp).item(),
        }


class DPO:
    """DPO: the policy learns from the pairs directly; β·log(π/π_ref) is its implicit reward."""

    def __init__(self, ref: Policy, pairs: Pairs) -> None:
        self.ref = ref
        self.policy = copy.deepcopy(ref).requires_grad_(True)
        self.pairs = pairs
        self.opt = torch.optim.Adam(self.policy.parameters())

    def step(
        self,
        beta: float,
        lr: float,
        loss_type: DPOLossType,
        label_smoothing: float,
        gen: torch.Generator,
        batch: int = 64,
    ) -> dict[str, float]:
        """One step on a minibatch; metrics are the batch's before the update, as TRL logs them."""
        set_lr(self.opt, lr)
        pairs = minibatch(self.pairs, batch, gen)
        logp_chosen = self.policy.logprob(pairs.prompt, pairs.chosen)
        logp_rejected = self.policy.logprob(pairs.prompt, pairs.rejected)
        with torch.no_grad():
            ref_logp_chosen = self.ref.logprob(pairs.prompt, pairs.chosen)
            ref_logp_rejected = self.ref.logprob(pairs.prompt, pairs.rejected)
        loss = dpo_loss(
            logp_chosen, logp_rejected, ref_logp_chosen, ref_logp_rejected, beta, loss_type, label_smoothing
        )
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()
        rewards_chosen = implied_rewards(logp_chosen, ref_logp_chosen, beta)
        rewards_rejected = implied_rewards(logp_rejected, ref_logp_rejected, beta)
        return {
            "loss": loss.item(),
            "rewards_chosen": rewards_chosen.mean().item(),
            "rewards_rejected": rewards_rejected.mean().item(),
            "reward_margin": (rewards_chosen - rewards_rejected).mean().item(),
            "reward_accuracy": (rewards_chosen > rewards_rejected).float().mean().item(),
        }


@torch.no_grad()
def example_responses(policy: Policy, gen: torch.Generator, rm: RewardModel | None = None) -> list[dict]:
    """One sample per prompt, as text, with its true reward (and reward-model score)."""
    prompt = torch.tensor(PROMPTS, device=gen.device)
    response = policy.sample(prompt, gen)
    reward = true_reward(prompt, response).tolist()
    score = rm(prompt, response).tolist() if rm is not None else None
    examples = []
    for i, x in enumerate(PROMPTS):
        example = {"prompt": str(x), "response": tokens_text(response[i]), "true_reward": reward[i]}
        if score is not None:
            example["reward_model_score"] = round(score[i], 3)
        examples.append(example)
    return examples


def summarize(points: list[dict[str, Any]], keys: tuple[str, ...], width: int = 10) -> dict[str, float]:
    """Each metric's mean over the last `width` steps, and the true reward's best such window.

    Per-step metrics are means over one small batch, so single points are noisy; the peak tells
    whether a run that ends low got there by falling (reward hacking).
    """
    means = {key: _window_means([point[key] for point in points], width) for key in keys}
    return {**{key: m[-1] for key, m in means.items()}, "true_reward_peak": max(means["true_reward"])}


def _window_means(values: list[float], width: int) -> list[float]:
    width = min(width, len(values))
    return [sum(values[i : i + width]) / width for i in range(len(values) - width + 1)]
