"""Training compute: a small transformer trains while each step adds 6·N·tokens FLOPs (Kaplan et
al. 2020) to the count, and a clock around the step measures what this machine sustains."""

from __future__ import annotations

import time
from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import torch

from app.ml import flops
from app.ml.charlm import lm_loss, random_batch
from app.ml.compute_budget import tokens_per_step
from app.ml.optim import adam_step
from app.ml.scaling import load_corpus, make_model

if TYPE_CHECKING:
    from app.demos.base import Control, Point
    from app.demos.training_compute import Params


N_CONVENTION = (
    "N counts every parameter except the token and position embedding tables (tok_emb, pos_emb), "
    "as Kaplan et al. (2020) do: the attention and MLP weights and biases, the layer norms and the "
    "untied output head. A table lookup is a copy, not a multiply-add."
)


ATTENTION_CONVENTION = (
    "flops_attention adds Kaplan et al. (2020)'s attention term, 2·n_layer·n_ctx·d_attn FLOPs per token "
    "forward (d_attn = d_model, n_ctx = sequence length), tripled for training like 6N = 3 × 2N."
)


SECONDS_CONVENTION = "seconds: time spent in training steps (forward, backward, Adam), without pauses or pacing."


def train(p: Params, ctl: Control) -> Generator[Point, None, dict[str, Any]]:
    corpus = load_corpus()
    model = make_model(len(corpus.vocab), p.width, p.depth, p.seq_len, p.seed).to(ctl.device).train()
    opt = torch.optim.Adam(model.parameters(), lr=p.lr)
    batches = torch.Generator().manual_seed(p.seed)
    n = flops.non_embedding_params(model)
    per_token_attention = flops.attention_flops_per_token(p.depth, p.seq_len, p.width)
    facts = {
        "non_embedding_params": n,
        "params_by_kind": flops.parameter_breakdown(model),
        "kaplan_estimate_12_l_d2": 12 * p.depth * p.width**2,
        "how_n_is_counted": N_CONVENTION,
        "flops_per_token": 6 * n,
        "attention_flops_per_token": per_token_attention,
        "attention_convention": ATTENTION_CONVENTION,
        "seconds_convention": SECONDS_CONVENTION,
        "tokens_per_step": tokens_per_step(p.batch_size, p.seq_len),
        "references": {"gpt3_flops": flops.GPT3_FLOPS, "eu_ai_act_flops": flops.EU_AI_ACT_FLOPS},
    }

    tokens, seconds, point = 0, 0.0, {}
    for step in range(p.steps):
        lr = ctl.params.lr
        x, y = (t.to(ctl.device) for t in random_batch(corpus.train, p.batch_size, p.seq_len, batches))
        started = time.perf_counter()
        loss = adam_step(opt, lm_loss(model, x, y), lr)  # .item() inside waits for the device: the clock is honest
        seconds += time.perf_counter() - started
        tokens += tokens_per_step(p.batch_size, p.seq_len)
        point = {
            "step": step,
            "loss": loss,
            "lr": lr,
            "tokens": tokens,
            "flops": flops.training_flops(n, tokens),
            "flops_attention": flops.training_flops_with_attention(n, tokens, p.depth, p.seq_len, p.width),
            "seconds": seconds,
            "flops_per_second": flops.training_flops(n, tokens) / seconds,
        }
        if step == 0:
            # The first step includes one-off warm-up, so this first estimate is on the slow side.
            ctl.announce(**facts, first_step=extrapolate(point["flops_per_second"]))
        yield point

    return {
        "non_embedding_params": n,
        **{key: point[key] for key in ("tokens", "flops", "flops_attention", "seconds", "flops_per_second", "loss")},
        "attention_share": 1 - point["flops"] / point["flops_attention"],
        **extrapolate(point["flops_per_second"]),
    }


def extrapolate(flops_per_second: float) -> dict[str, Any]:
    return {
        "at_flops_per_second": flops_per_second,
        "gpt3": flops.time_at(flops.GPT3_FLOPS, flops_per_second),
        "eu_ai_act_threshold": flops.time_at(flops.EU_AI_ACT_FLOPS, flops_per_second),
    }
