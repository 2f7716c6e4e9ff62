"""The preference world: its true reward, the SFT policy, pair labelling and the reward model."""

from __future__ import annotations

import math

import pytest
import torch

from app.ml import pref_world as W

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def ref() -> W.Policy:
    return W.sft_policy()


def reward_of(prompt: int, response: str) -> float:
    tokens = torch.tensor([[int(t) for t in response.split()]])
    return W.true_reward(torch.tensor([prompt]), tokens).item()


def test_true_reward_examples() -> None:
    assert reward_of(4, "7 5 6 7 5 6") == 6  # the description's examples
    assert reward_of(4, "7 7 7 7 7 7") == 1
    assert reward_of(0, "0 0 1 1 2 2") == 4 - 4  # the prompt counts as the token before the first
    assert reward_of(6, "0 1 2 3 4 5") == 0
    assert "'7 7 7 7 7 7' only 6 − 5 = 1" in W.TRUE_REWARD_DESCRIPTION


def test_sft_is_deterministic_and_leaves_the_global_rng_alone() -> None:
    state = torch.random.get_rng_state()
    a, b = W.sft_policy(), W.sft_policy()
    assert torch.equal(torch.random.get_rng_state(), state)
    assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values(), strict=True))


def test_sft_policy_matches_the_base_distribution(ref: W.Policy) -> None:
    prompt = torch.tensor(W.PROMPTS)
    first = ref.next_token_logits(prompt, torch.zeros(len(prompt), W.RESPONSE_LENGTH, dtype=torch.long))[:, 0]
    torch.testing.assert_close(first.softmax(-1), W.base_next_token_probs(prompt), atol=0.02, rtol=0)


def test_logprob_matches_the_probabilities_used_when_sampling(ref: W.Policy) -> None:
    gen = torch.Generator().manual_seed(0)
    prompt = W.sample_prompts(16, gen)
    response = ref.sample(prompt, gen)
    tok, h, stepwise = prompt[:, None], None, torch.zeros(16)
    for t in range(W.RESPONSE_LENGTH):  # walk the sequence one token at a time, as sampling does
        logits, h = ref(tok, t, h)
        tok = response[:, t : t + 1]
        stepwise += logits[:, -1].log_softmax(-1).gather(-1, tok).squeeze(-1)
    torch.testing.assert_close(ref.logprob(prompt, response), stepwise, atol=1e-5, rtol=0)


def test_pairs_follow_bradley_terry(ref: W.Policy) -> None:
    gen = torch.Generator().manual_seed(1)
    pairs = W.sample_pairs(ref, 8000, 0.0, gen)
    gap = W.true_reward(pairs.prompt, pairs.chosen) - W.true_reward(pairs.prompt, pairs.rejected)
    untied = gap != 0
    # Without noise the better response wins with probability σ(|Δr| / T).
    expected = torch.sigmoid(gap.abs() / W.LABEL_TEMPERATURE)[untied].mean().item()
    assert (gap[untied] > 0).float().mean().item() == pytest.approx(expected, abs=0.02)
    assert not pairs.flipped.any()


def test_label_noise_flips_that_fraction(ref: W.Policy) -> None:
    gen = torch.Generator().manual_seed(2)
    pairs = W.sample_pairs(ref, 8000, 0.3, gen, temperature=0.05)  # a decisive annotator, then noise
    gap = W.true_reward(pairs.prompt, pairs.chosen) - W.true_reward(pairs.prompt, pairs.rejected)
    untied = gap != 0
    assert pairs.flipped.float().mean().item() == pytest.approx(0.3, abs=0.02)
    assert torch.equal(gap[untied] < 0, pairs.flipped[untied])  # exactly the flipped labels disagree


def test_reward_model_is_a_bag_of_tokens() -> None:
    rm = W.RewardModel()
    rm.w.data = torch.arange(W.VOCAB, dtype=torch.float)
    response = torch.tensor([[7, 7, 0, 1, 2, 3], [3, 2, 1, 0, 7, 7]])
    assert rm(torch.tensor([0, 6]), response).tolist() == [20.0, 20.0]  # order and prompt are invisible


def test_reward_model_learns_that_large_tokens_are_good(ref: W.Policy) -> None:
    gen = torch.Generator().manual_seed(3)
    rm = W.train_reward_model(W.sample_pairs(ref, 2000, 0.0, gen))
    assert rm.w[7] > 0 > rm.w[0]
    quality = W.reward_model_quality(rm, W.sample_pairs(ref, 2000, 0.0, gen))
    assert quality["accuracy"] > 0.65
    assert quality["correlation"] > 0.2


def test_an_untrained_reward_model_is_at_chance(ref: W.Policy) -> None:
    gen = torch.Generator().manual_seed(4)
    quality = W.reward_model_quality(W.RewardModel(), W.sample_pairs(ref, 500, 0.0, gen))
    assert quality["accuracy"] == 0.5  # every pair is a tie for it


def test_first_steps_start_at_the_reference(ref: W.Policy) -> None:
    gen = torch.Generator().manual_seed(5)
    pairs = W.sample_pairs(ref, 256, 0.1, gen)
    rlhf_metrics = W.RLHF(ref, pairs).step(beta=0.1, lr=1e-3, gen=gen)
    assert rlhf_metrics["kl"] == 0.0
    assert rlhf_metrics["loss"] == pytest.approx(-rlhf_metrics["reward_model_score"])
    dpo_metrics = W.DPO(ref, pairs).step(0.1, 1e-3, "sigmoid", 0.0, gen)
    assert dpo_metrics["loss"] == pytest.approx(math.log(2), abs=1e-6)
    assert dpo_metrics["reward_margin"] == 0.0


def test_examples_are_readable(ref: W.Policy) -> None:
    examples = W.example_responses(ref, torch.Generator().manual_seed(6), W.RewardModel())
    assert [e["prompt"] for e in examples] == [str(p) for p in W.PROMPTS]
    for example in examples:
        tokens = example["response"].split()
        assert len(tokens) == W.RESPONSE_LENGTH and all(0 <= int(t) < W.VOCAB for t in tokens)
        assert example["true_reward"] == reward_of(int(example["prompt"]), example["response"])
        assert example["reward_model_score"] == 0.0
