"""What the LoRA and QLoRA playgrounds train: the same tiny character model, pretrained on English
(task A), adapted to the same text in leetspeak (task B), every series on the same batches.
Forgetting is measured on task A's text: `loss_a` on every character, `loss_a_kept` on those
leetspeak leaves as they are (on a, e, i, o task B asks for a digit, so loss_a rises by design)."""

from __future__ import annotations

import copy
from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import torch

from app.ml import charlm
from app.ml.charlm import layer_names, lm_loss
from app.ml.lora import add_lora, count_trainable
from app.ml.optim import adam_step

if TYPE_CHECKING:
    from app.demos._adapt import AdaptParams
    from app.demos.base import Control, Point
    from app.ml.charlm import CharLM
    from app.ml.lora import LoRALinear


BATCH_SIZE = 16  # task-B windows of 64 characters per step
EVAL_EVERY = 10  # steps between task-A evaluations; the points in between carry the last value
PROMPT = "LoRA freezes"  # sampled in task B's style: "L0R4 fr33z3s"
SAMPLE_CHARS = 100


def with_lora(base: CharLM, p: AdaptParams, **lora_options: Any) -> tuple[CharLM, dict[str, LoRALinear]]:
    """A copy of base with adapters on the target groups. A comes from a generator seeded with
    p.seed, so two series of one run start from the same adapters."""

    model = copy.deepcopy(base)
    names = layer_names(model, p.targets)
    generator = torch.Generator().manual_seed(p.seed)
    return model, add_lora(model, names, p.rank, p.alpha, generator=generator, **lora_options)


def count_facts(base: CharLM, models: dict[str, CharLM], adapters: dict[str, LoRALinear], rank: int) -> dict:
    """Parameter counts for the start event. Like PEFT's print_trainable_parameters, the total
    counts the base and the adapters, and the fraction is adapter parameters over that total."""

    n_lora = sum(a.A.numel() + a.B.numel() for a in adapters.values())
    total = sum(q.numel() for q in base.parameters()) + n_lora
    return {
        "total_params": total,
        "trainable_params": {name: count_trainable(m) for name, m in models.items()},
        "trainable_fraction": n_lora / total,
        "rank": rank,
        "adapted_layers": [{"name": n, "d_in": a.in_features, "d_out": a.out_features} for n, a in adapters.items()],
    }


def adam_state_bytes(opt: torch.optim.Optimizer) -> int:
    """Bytes of Adam's two moment buffers (exp_avg, exp_avg_sq) as allocated by a real step;
    the scalar step counters (one per tensor) are left out."""
    return sum(s[k].numel() * s[k].element_size() for s in opt.state.values() for k in ("exp_avg", "exp_avg_sq"))


def train_series(
    p: AdaptParams, ctl: Control[AdaptParams], base: CharLM, models: dict[str, CharLM], facts: dict[str, Any]
) -> Generator[list[Point], None, dict[str, Any]]:
    """Train every model of `models` (one series each) on task B, interleaved step by step.

    Announces `facts` plus the optimizer state measured after step 0, yields one point per
    series per step, and returns the summary: greedy samples of the base and of each series.
    """

    device = torch.device(ctl.device)
    torch.manual_seed(p.seed)  # dropout masks
    batches = torch.Generator().manual_seed(p.seed)
    data_b = charlm.VOCAB.encode(charlm.TEXT_B)
    x_a, y_a = (t.to(device) for t in charlm.eval_batch_a())
    kept_a = charlm.kept_in_task_b(y_a.cpu()).to(device)
    prompt = charlm.to_task_b(PROMPT)
    before = charlm.generate(base.to(device), prompt, SAMPLE_CHARS)

    opts = {}
    for name, model in models.items():
        model.to(device).train()
        opts[name] = torch.optim.Adam([q for q in model.parameters() if q.requires_grad], lr=p.lr)

    loss_a: dict[str, dict[str, float]] = {}
    points: list[Point] = []
    for step in range(p.steps):
        lr = ctl.params.lr
        x, y = (t.to(device) for t in charlm.random_batch(data_b, BATCH_SIZE, base.cfg.block_size, batches))
        points = []
        for name, model in models.items():
            if step % EVAL_EVERY == 0 or step == p.steps - 1:
                loss_a[name] = {  # before this step's update, like `loss`
                    "loss_a": charlm.eval_loss(model, x_a, y_a),
                    "loss_a_kept": charlm.eval_loss(model, x_a, y_a, kept_a),
                }
            loss = adam_step(opts[name], lm_loss(model, x, y), lr)
            points.append({"step": step, "series": name, "loss": loss, **loss_a[name], "lr": lr})
        if step == 0:
            ctl.announce(**facts, optimizer_state_bytes={name: adam_state_bytes(o) for name, o in opts.items()})
        yield points

    after = {name: charlm.generate(model, prompt, SAMPLE_CHARS) for name, model in models.items()}
    return {
        "samples": {"prompt": prompt, "before": before, "after": after},
        "final": {q["series"]: {k: q[k] for k in ("loss", "loss_a", "loss_a_kept")} for q in points},
    }
