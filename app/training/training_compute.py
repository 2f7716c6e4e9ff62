"""Training compute: a small transformer trains while each step adds 6·N·tokens FLOPs (Kaplan et
al. 2020) to the count, beside the FLOPs PyTorch's FlopCounterMode counts in the run's first step
(every step has the same shapes, so the same count), and a clock around the step measures what
this machine sustains. With equal_compute a second model, twice as deep (about twice N), trains
on about half the tokens, so both spend the same 6ND."""

from __future__ import annotations

import time
from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import torch
from torch.nn.attention import SDPBackend, sdpa_kernel

from app.ml import flops
from app.ml.charlm import eval_loss, fixed_batch, lm_loss, random_batch
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

COUNTED_CONVENTION = (
    "flops_counted: what torch.utils.flop_counter.FlopCounterMode counts in the first training step (forward "
    "and backward), times the steps so far: every matrix product, attention's included (on the math kernel), "
    "2 FLOPs per multiply-add; no elementwise work (biases, GELU, softmax, layer norms, Adam)."
)
VAL_WINDOWS = 16  # held-out windows, the same for every series and every evaluation
EVAL_EVERY = 20


def train(p: Params, ctl: Control[Params]) -> Generator[Point | list[Point], None, dict[str, Any]]:
    corpus = load_corpus()
    device = torch.device(ctl.device)
    val = tuple(t.to(device) for t in fixed_batch(corpus.val, VAL_WINDOWS, p.seq_len))
    runs = {"N": Run(p, p.depth, corpus, device)}
    if p.equal_compute:
        runs["2N"] = Run(p, 2 * p.depth, corpus, device)
        # Half the tokens, to the step: the deeper model's 6ND is the base's, within one step.
        runs["2N"].steps = round(p.steps * runs["N"].n / runs["2N"].n)
    peak, peak_source = flops.peak_flops(device)
    first = runs["N"]
    facts = {
        "non_embedding_params": first.n,
        "params_by_kind": flops.parameter_breakdown(first.model),
        "kaplan_estimate_12_l_d2": 12 * p.depth * p.width**2,
        "how_n_is_counted": N_CONVENTION,
        "flops_per_token": 6 * first.n,
        "attention_flops_per_token": first.attention_per_token,
        "attention_convention": ATTENTION_CONVENTION,
        "counted_convention": COUNTED_CONVENTION,
        "seconds_convention": SECONDS_CONVENTION,
        "tokens_per_step": tokens_per_step(p.batch_size, p.seq_len),
        "peak_flops_per_second": peak,
        "peak_source": peak_source,
        "references": {"gpt3_flops": flops.GPT3_FLOPS, "eu_ai_act_flops": flops.EU_AI_ACT_FLOPS},
    }
    if p.equal_compute:
        facts["equal_compute"] = {
            name: {"depth": r.depth, "non_embedding_params": r.n, "steps": r.steps} for name, r in runs.items()
        }

    batches = torch.Generator().manual_seed(p.seed)
    points: dict[str, Point] = {}
    for step in range(p.steps):
        lr = ctl.params.lr
        x, y = (t.to(device) for t in random_batch(corpus.train, p.batch_size, p.seq_len, batches))
        for name, run in runs.items():
            if step < run.steps:  # the same batches, as far as each run goes
                points[name] = run.step(step, x, y, val, lr, peak)
        if step == 0:
            # The first step includes one-off warm-up, so this first estimate is on the slow side.
            ctl.announce(
                **facts,
                flops_counted_per_step=first.counted_per_step,
                counted_by_operator=first.counted_by_op,
                first_step=extrapolate(points["N"]["flops_per_second"]),
            )
        now = [points[name] | {"series": name} for name, run in runs.items() if step < run.steps]
        yield now if p.equal_compute else points["N"]

    last = points["N"]
    return {
        "non_embedding_params": first.n,
        **{key: last[key] for key in ("tokens", "flops", "flops_attention", "flops_counted", "seconds", "loss")},
        "flops_per_second": last["flops_per_second"],
        "attention_share": 1 - last["flops"] / last["flops_attention"],
        "counted_over_6n": first.counted_per_step / (6 * first.n * tokens_per_step(p.batch_size, p.seq_len)),
        **({"utilisation": last["utilisation"]} if "utilisation" in last else {}),
        **({"final": {name: points[name]["val_loss"] for name in runs}} if p.equal_compute else {}),
        **extrapolate(last["flops_per_second"]),
    }


class Run:
    """One model of the run: its optimizer, its FLOP counts and its clock."""

    def __init__(self, p: Params, depth: int, corpus: Any, device: torch.device) -> None:
        self.p, self.depth, self.steps = p, depth, p.steps
        self.model = make_model(len(corpus.vocab), p.width, depth, p.seq_len, p.seed).to(device).train()
        self.opt = torch.optim.Adam(self.model.parameters(), lr=p.lr)
        self.n = flops.non_embedding_params(self.model)
        self.attention_per_token = flops.attention_flops_per_token(depth, p.seq_len, p.width)
        self.tokens, self.seconds, self.val_loss = 0, 0.0, float("nan")
        self.counted_per_step = 0
        self.counted_by_op: dict[str, int] = {}

    def step(self, step: int, x: torch.Tensor, y: torch.Tensor, val: tuple, lr: float, peak: float | None) -> Point:
        p = self.p
        if step % EVAL_EVERY == 0 or step == self.steps - 1:
            self.val_loss = eval_loss(self.model, *val)  # before the update, off the clock

        def update() -> float:
            # Every step on the math attention kernel, the one the counter can count (see flops.count_step).
            with sdpa_kernel(SDPBackend.MATH):
                return adam_step(self.opt, lm_loss(self.model, x, y), lr)  # .item() waits for the device

        started = time.perf_counter()
        if step == 0:
            loss, self.counted_by_op = flops.count_step(update)
            self.counted_per_step = sum(self.counted_by_op.values())
        else:
            loss = update()
        self.seconds += time.perf_counter() - started
        self.tokens += tokens_per_step(p.batch_size, p.seq_len)
        counted = self.counted_per_step * (step + 1)
        point = {
            "step": step,
            "loss": loss,
            "val_loss": self.val_loss,
            "lr": lr,
            "tokens": self.tokens,
            "flops": flops.training_flops(self.n, self.tokens),
            "flops_attention": flops.training_flops_with_attention(self.n, self.tokens, self.depth, p.seq_len, p.width),
            "flops_counted": counted,
            "seconds": self.seconds,
            "flops_per_second": flops.training_flops(self.n, self.tokens) / self.seconds,
        }
        if peak is not None:
            point["utilisation"] = counted / self.seconds / peak
        return point


def extrapolate(flops_per_second: float) -> dict[str, Any]:
    return {
        "at_flops_per_second": flops_per_second,
        "gpt3": flops.time_at(flops.GPT3_FLOPS, flops_per_second),
        "eu_ai_act_threshold": flops.time_at(flops.EU_AI_ACT_FLOPS, flops_per_second),
    }
