"""Training compute: train a small transformer and count its FLOPs as it goes.

Each step adds 6·N·(batch × sequence length) FLOPs (Kaplan et al. 2020), and a clock around the
step measures what this server actually sustains, so the run can say how long GPT-3's compute
would take here.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from pydantic import Field, model_validator

from app.demos._adapt import train_step
from app.demos._compute import ComputeParams, tokens_per_step
from app.demos.base import Chart, Control, Demo, Point

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


class Params(ComputeParams):
    width: int = Field(64, ge=8, le=256, multiple_of=8, title="Width", description="d_model (8 per head).")
    steps: int = Field(200, ge=1, le=5000, title="Steps", description="Adam updates.")

    @model_validator(mode="after")
    def _step_cost(self) -> Params:
        self.check_step_cost(self.width)
        return self


def train(p: Params, ctl: Control) -> Generator[Point, None, dict[str, Any]]:
    import time

    import torch

    from app.ml import flops
    from app.ml.charlm import random_batch
    from app.ml.scaling import load_corpus, make_model

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
        "tokens_per_step": tokens_per_step(p),
        "references": {"gpt3_flops": flops.GPT3_FLOPS, "eu_ai_act_flops": flops.EU_AI_ACT_FLOPS},
    }

    tokens, seconds, point = 0, 0.0, {}
    for step in range(p.steps):
        lr = ctl.params.lr
        x, y = (t.to(ctl.device) for t in random_batch(corpus.train, p.batch_size, p.seq_len, batches))
        started = time.perf_counter()
        loss = train_step(model, opt, x, y, lr)  # .item() inside waits for the device, so the clock is honest
        seconds += time.perf_counter() - started
        tokens += tokens_per_step(p)
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
    from app.ml import flops

    return {
        "at_flops_per_second": flops_per_second,
        "gpt3": flops.time_at(flops.GPT3_FLOPS, flops_per_second),
        "eu_ai_act_threshold": flops.time_at(flops.EU_AI_ACT_FLOPS, flops_per_second),
    }


DEMO = Demo(
    name="training-compute",
    title="Counting training compute",
    terms=("training-compute",),
    Params=Params,
    train=train,
    live=frozenset({"lr", "pace"}),
    machine_metrics=frozenset({"seconds", "flops_per_second"}),  # this server's clock and speed
    charts=(
        Chart("Training loss", ("loss",), log_y=True, x_choices=("tokens", "flops", "seconds")),
        Chart(
            "Cumulative FLOPs: 6ND and with attention", ("flops", "flops_attention"), x_choices=("tokens", "seconds")
        ),
        Chart("Measured throughput (FLOP/s)", ("flops_per_second",)),
    ),
    blurb=(
        "A small character transformer trains from scratch while every step adds 6·N·tokens FLOPs to the "
        "count, and a clock measures how many FLOP/s this server sustains. The summary then says how long "
        "GPT-3's training compute would take here."
    ),
)
